"""Lenient JSON: repairs of the common defects, located; and JSONPath → line mapping."""

from __future__ import annotations

from openclubs.ingest.jsontext import line_of, locate, parse_json


def test_valid_json_has_no_issues() -> None:
    parsed = parse_json('{"a": [1, 2, {"b": "c"}]}')
    assert parsed.ok and parsed.issues == [] and parsed.value == {"a": [1, 2, {"b": "c"}]}


def test_invalid_escape_is_read_as_the_character() -> None:
    parsed = parse_json('{\n  "@id": "https://x.org/list\\#abc"\n}')
    assert parsed.value == {"@id": "https://x.org/list#abc"}
    (issue,) = parsed.issues
    assert (issue.type, issue.line, issue.column) == ("json_invalid_escape", 2, 29)


def test_valid_escapes_are_kept() -> None:
    parsed = parse_json('{"a": "x\\"y\\\\z\\u00e9\\n", "b": [1,]}')
    assert parsed.value == {"a": 'x"y\\zé\n', "b": [1]}
    assert [i.type for i in parsed.issues] == ["json_trailing_comma"]


def test_missing_and_mismatched_brackets() -> None:
    parsed = parse_json('{"a": {"b": [1, 2}, "c": 3')
    assert parsed.value == {"a": {"b": [1, 2]}, "c": 3}
    assert sorted(i.type for i in parsed.issues) == [
        "json_unclosed_bracket",
        "json_unclosed_bracket",
    ]


def test_stray_closer_is_dropped() -> None:
    parsed = parse_json('{"a": 1}}')
    assert parsed.value == {"a": 1}
    assert [i.type for i in parsed.issues] == ["json_stray_bracket"]


def test_unrepairable_text_reports_where() -> None:
    parsed = parse_json('{\n  "a": tru\n}')
    assert not parsed.ok and parsed.value is None
    (issue,) = parsed.issues
    assert issue.type == "json_syntax_error" and issue.line == 2


def test_empty_text() -> None:
    parsed = parse_json("   ")
    assert not parsed.ok and "empty" in parsed.issues[0].message


def test_first_line_offsets_lines() -> None:
    parsed = parse_json('{"a": "\\#"}', first_line=40)
    assert parsed.issues[0].line == 40


def test_locate_members_and_entries() -> None:
    text = '{\n "name": "X",\n "activity": [\n  {"@id": "u"},\n  {"prefLabel": "Y"}\n ]\n}'
    positions = locate(text)
    assert positions["$.name"] == (2, 2)
    assert positions["$.activity[1]"][0] == 5
    assert positions["$.activity[0]['@id']"] == (4, 4)
    assert line_of(positions, "$.activity[1].inScheme") == positions["$.activity[1]"]
    assert line_of(positions, "$.location") == positions["$"]


def test_backslash_u_without_hex_digits_is_an_invalid_escape() -> None:
    parsed = parse_json('{"path": "C:\\users\\club", "ok": "\\u00e9"}')
    assert parsed.value == {"path": "C:usersclub", "ok": "é"}
    assert [i.type for i in parsed.issues] == ["json_invalid_escape", "json_invalid_escape"]
