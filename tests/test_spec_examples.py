"""The Club Specification's own Examples 1-3 (as published, ../shared/data/examples 01-03)
give exactly the issues the specification's text implies, and every example file in
../shared/data/examples gives a report without crashing."""

from __future__ import annotations

import pytest

from openclubs.validate import validate_sources
from tests.helpers import EXAMPLES, expectation_lines


def issues_of(name: str) -> list[str]:
    (path,) = EXAMPLES.glob(f"{name}*")
    return expectation_lines(validate_sources([str(path)]))


def test_example_1_required_fields_only() -> None:
    # Example 1 has no url, sameAs, email or telephone, which footnote 1 of §3.1 says MUST be
    # there; its activity has only a prefLabel and its location is text, "not recommended".
    assert issues_of("01-") == sorted(
        [
            "failure no_contact_route $",
            "warning missing_recommended_property $.description",
            "warning missing_recommended_property $.url",
            "warning missing_recommended_property $.sameAs",
            "warning activity_without_id $.activity[0]",
            "warning missing_recommended_property $.activity[0].inScheme",
            "warning location_as_text $.location",
        ]
    )


def test_example_2_broken_json_is_repaired_and_checked() -> None:
    assert issues_of("02-") == sorted(
        [
            "failure json_invalid_escape $",
            "failure json_trailing_comma $",
            "failure json_unclosed_bracket $",
            "failure invalid_country_code $.location.address.addressCountry",
            "notice same_as_repeats_url $.sameAs[0]",
        ]
    )


def test_example_2_says_where_each_syntax_error_is() -> None:
    (path,) = EXAMPLES.glob("02-*")
    report = validate_sources([str(path)])
    where = {i.type: (i.line, i.column) for i in report.issues}
    lines = path.read_text(encoding="utf-8").splitlines()
    line, column = where["json_invalid_escape"]
    assert lines[line - 1][column - 1 : column + 1] == "\\#"
    line, column = where["json_trailing_comma"]
    assert lines[line - 1][column - 1] == ","
    assert where["json_unclosed_bracket"][0] == len(lines)  # the </script> line: } missing
    country = next(i for i in report.issues if i.type == "invalid_country_code")
    assert '"addressCountry": "UK"' in lines[country.line - 1]  # type: ignore[operator]
    assert 'use "GB"' in country.message


def test_example_3_optional_fields() -> None:
    assert issues_of("03-") == sorted(
        [
            "failure json_invalid_escape $",
            "failure json_trailing_comma $",
            "failure invalid_country_code $.location.address.addressCountry",
            "notice same_as_repeats_url $.sameAs[0]",
            "notice member_of_not_id $.memberOf",
        ]
    )


def test_example_3_repaired_is_valid_once_uk_is_gb() -> None:
    (path,) = EXAMPLES.glob("03-*")
    text = path.read_text(encoding="utf-8").replace("\\#", "#").replace('"UK"', '"GB"')
    text = text.replace("},\n    }", "}\n    }")
    from openclubs.validate import validate

    report = validate(text)
    assert report.valid
    assert report.records == 1
    assert [i.type for i in report.issues] == ["same_as_repeats_url", "member_of_not_id"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.iterdir()), ids=lambda p: p.name)
def test_every_shared_example_gives_a_report(path: object) -> None:
    report = validate_sources([str(path)])
    assert report.sources == 1
    assert report.issues, "every shared example has something to say"
    for issue in report.issues:
        assert issue.message and issue.file == str(path)


def test_organizer_wrapper_of_example_4() -> None:
    lines = issues_of("04-")
    assert "notice organizer_wrapper $" in lines
    assert "failure invalid_country_code $.organizer[0].location.address.addressCountry" in lines
    assert "failure json_unclosed_bracket $" in lines
    assert "failure json_stray_bracket $" in lines


def test_session_feeds_are_recognised_as_opportunities() -> None:
    for name in ("14-", "15-"):
        lines = issues_of(name)
        assert lines and all(" not_a_club_record $.items[" in line for line in lines)


def test_registers_are_not_json_ld() -> None:
    assert issues_of("16-") == ["failure no_json_ld $"]
    assert issues_of("18-") == ["failure no_json_ld $"]
