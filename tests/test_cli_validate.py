"""`openclubs validate` as a user runs it: inputs of every kind, output formats, exit codes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from openclubs.cli.main import cli
from tests.conftest import LocalSite
from tests.helpers import CASES, EXAMPLES, ROOT

VALID = (ROOT / "examples" / "greenwich-yacht-club.jsonld").read_text(encoding="utf-8")


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["validate", *args], input=stdin, catch_exceptions=False)


def test_valid_record_exits_0_and_says_so() -> None:
    result = run(str(ROOT / "examples" / "greenwich-yacht-club.jsonld"))
    assert result.exit_code == 0
    assert "1 input, 1 record: no issues. Result: valid." in result.output


def test_failures_exit_1_with_text_grouped_for_people() -> None:
    result = run(str(ROOT / "examples" / "club-page-with-mistakes.html"))
    assert result.exit_code == 1
    out = result.output
    assert out.index("Fix these first (failures): 3") < out.index("Then these (warnings)")
    assert 'use "GB"' in out and "[line 22:7, $.location.address.addressCountry]" in out
    assert 'Did you mean "Cricket"' in out


def test_strict_makes_warnings_fail() -> None:
    assert run(str(CASES / "contact-personal.json")).exit_code == 0
    assert run("--strict", str(CASES / "contact-personal.json")).exit_code == 1


def test_unreadable_input_exits_2_without_traceback(tmp_path: Path) -> None:
    result = run(str(tmp_path / "missing.json"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.output
    assert "Traceback" not in result.output


def test_binary_file_is_unreadable() -> None:
    (xlsx,) = (EXAMPLES.parent).glob("OpenActive-Clubs-Example.xlsx")
    result = run("--format", "json", str(xlsx))
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["issues"][0]["type"] == "source_unreadable"
    assert "binary file" in report["issues"][0]["message"]


def test_one_bad_input_does_not_hide_the_others(tmp_path: Path) -> None:
    result = run("--format", "json", str(tmp_path / "nope.json"), str(CASES / "geo.json"))
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["records"] == 1
    assert {i["type"] for i in report["issues"]} >= {"source_unreadable", "null_island"}


def test_json_format_has_the_official_keys() -> None:
    result = run(
        "--format",
        "json",
        str(EXAMPLES / "02-club-spec-0.2-example2-greenwich-yc-recommended.html"),
    )
    report = json.loads(result.output)
    assert report["valid"] is False and report["records"] == 1
    first = report["issues"][0]
    assert set(first) >= {"severity", "category", "type", "path", "message", "file", "line"}
    assert report["counts"] == {"failure": 4, "notice": 1}


def test_jsonl_is_one_issue_per_line_and_deterministic() -> None:
    args = ("--format", "jsonl", str(CASES))
    first, second = run(*args), run(*args)
    assert first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert len(lines) > 50
    assert all(json.loads(line)["file"].startswith(str(CASES)) for line in lines)


def test_stdin() -> None:
    result = run("-", stdin=VALID.replace('"GB"', '"UK"'))
    assert result.exit_code == 1
    assert "<stdin>" in result.output and 'use "GB"' in result.output


def test_select_and_ignore() -> None:
    out = run("--format", "jsonl", "--select", "invalid_postcode", str(CASES / "addresses.json"))
    types = {json.loads(line)["type"] for line in out.stdout.splitlines()}
    assert types == {"invalid_postcode"}
    out = run("--format", "jsonl", "--ignore", "missing_recommended_property", str(CASES))
    assert "missing_recommended_property" not in out.stdout


def test_usage_errors_exit_2() -> None:
    assert run().exit_code == 2
    result = run("--select", "no_such_type", str(CASES))
    assert result.exit_code == 2 and "unknown issue type" in result.output


def test_list_issues() -> None:
    result = run("--list-issues")
    assert result.exit_code == 0
    assert "no_contact_route" in result.output and "invalid_postcode" in result.output


def test_url_of_a_club_page(local_site: LocalSite) -> None:
    page = (ROOT / "examples" / "club-page-with-mistakes.html").read_text(encoding="utf-8")
    url = local_site.add("/club", page, content_type="text/html; charset=utf-8")
    result = run("--format", "json", url)
    report = json.loads(result.output)
    assert result.exit_code == 1 and report["records"] == 1
    assert {i["file"] for i in report["issues"]} == {url}
    assert local_site.requests == ["/club"]


def test_url_redirect_and_json(local_site: LocalSite) -> None:
    target = local_site.add("/club.json", VALID)
    start = local_site.add("/old", "", status=301, headers={"Location": target})
    result = run(start)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected_code", "message"),
    [
        (404, "gone", "text/plain", 2, "HTTP 404"),
        (503, "busy", "text/plain", 2, "HTTP 503"),
        (200, "<html><body>Maintenance</body></html>", "text/html", 1, "no <script"),
        (200, '{"name": "Broken", ', "application/json", 1, "is never closed"),
        (200, '{"name": "Broken', "application/json", 1, "cannot be read"),
    ],
)
def test_url_failures_are_clear(
    local_site: LocalSite,
    status: int,
    body: str,
    content_type: str,
    expected_code: int,
    message: str,
) -> None:
    url = local_site.add("/x", body, status=status, content_type=content_type)
    result = run(url)
    assert result.exit_code == expected_code
    assert message in result.output
    assert "Traceback" not in result.output


def test_url_nobody_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(f"http://127.0.0.1:{port}/club")
    assert result.exit_code == 2
    assert "could not connect" in result.output
