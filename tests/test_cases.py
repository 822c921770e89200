"""Data-driven validator tests: each file in tests/cases has, beside it, the exact issues it
must produce (`NAME.expected`: severity, type and JSONPath per line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclubs.validate import validate_sources
from tests.helpers import CASES, expectation_lines

CASE_FILES = sorted(p for p in CASES.iterdir() if p.suffix in (".json", ".html", ".jsonld"))


@pytest.mark.parametrize("case", CASE_FILES, ids=[p.name for p in CASE_FILES])
def test_case_gives_exactly_the_expected_issues(case: Path) -> None:
    expected_file = case.with_suffix(".expected")
    expected = sorted(
        line.strip()
        for line in expected_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    report = validate_sources([str(case)])
    assert expectation_lines(report) == expected


def test_every_case_has_an_expectation() -> None:
    assert CASE_FILES, "no cases found"
    missing = [p.name for p in CASE_FILES if not p.with_suffix(".expected").is_file()]
    assert missing == []
