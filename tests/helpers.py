"""Shared helpers for the tests: where the shared data is, and a compact view of reports."""

from __future__ import annotations

import os
from pathlib import Path

from openclubs.validate.report import Report

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OPENCLUBS_SHARED", ROOT.parent / "shared")).resolve()
EXAMPLES = SHARED / "data" / "examples"
CASES = ROOT / "tests" / "cases"


def expectation_lines(report: Report) -> list[str]:
    """One line per issue: severity, type, JSONPath (and item, when from an RPDE page)."""
    lines = []
    for issue in report.issues:
        line = f"{issue.severity} {issue.type} {issue.path}"
        if issue.item:
            line += f" item={issue.item}"
        lines.append(line)
    return sorted(lines)
