"""A validation report as the web pages show it: grouped by what to fix first, each issue with
its title, its message, where it is (line, column and the JSONPath, with the line itself),
and a link to the clause of the specification it comes from.

The JSON twin (POST /api/validate) returns the validator's own report; this view only adds
what people need to read it, so the page and the CLI can never disagree.
"""

from __future__ import annotations

import re
from itertools import groupby
from typing import Any

from openclubs.validate.catalogue import SEVERITY_ORDER, SPEC_URL
from openclubs.validate.render import HEADINGS, summary_line
from openclubs.validate.report import Issue, Report

MODELLING_SPEC = "https://openactive.io/modelling-opportunity-data/"
# The Club Specification's section anchors (ReSpec names them after their headings).
ANCHORS = {
    "1": "introduction",
    "2": "formats",
    "3": "data-model",
    "3.1": "describing-organisations",
    "3.2": "describing-activities",
    "3.3": "describing-place",
    "4": "worked-examples",
    "4.1": "how-to-use-this-spec-to-add-standardised-machine-readable-data-to-a-club-website",
}
_SECTION = re.compile(r"§(\d+(?:\.\d+)?)")
EXCERPT = 160


def clause_url(clause: str) -> str:
    """The address of the clause an issue type cites (its first § section)."""
    if clause.startswith("Modelling Opportunity Data"):
        return MODELLING_SPEC
    match = _SECTION.search(clause)
    anchor = ANCHORS.get(match.group(1)) if match else None
    return SPEC_URL + (f"#{anchor}" if anchor else "")


def _where(issue: Issue) -> str:
    parts = []
    if issue.line is not None:
        parts.append(f"line {issue.line}" + (f", column {issue.column}" if issue.column else ""))
    if issue.item:
        parts.append(issue.item)
    if issue.path != "$":
        parts.append(issue.path)
    return "; ".join(parts) or "the whole document"


def _excerpt(lines: list[str], issue: Issue) -> dict[str, Any] | None:
    """The line an issue is on, and where in it the column points (for a caret)."""
    if issue.line is None or not 1 <= issue.line <= len(lines):
        return None
    text = lines[issue.line - 1].rstrip("\r")
    column = max((issue.column or 1) - 1, 0)
    start = max(0, min(column - EXCERPT // 2, len(text) - EXCERPT))
    shown = text[start : start + EXCERPT]
    return {
        "line": issue.line,
        "text": shown,
        "caret": " " * (column - start) + "^" if issue.column else "",
    }


def report_view(report: Report, source_text: str | None = None) -> dict[str, Any]:
    """What validate.html shows: a verdict, counts and the issues grouped by severity."""
    lines = source_text.split("\n") if source_text else []
    ordered = sorted(
        report.issues, key=lambda i: (SEVERITY_ORDER[i.severity], i.line or 0, i.path, i.type)
    )
    groups = []
    for severity, issues in groupby(ordered, key=lambda i: i.severity):
        entries = []
        for issue in issues:
            row = issue.issue_type
            entries.append(
                {
                    "type": issue.type,
                    "title": row.title,
                    "message": issue.message,
                    "where": _where(issue),
                    "path": issue.path,
                    "clause": row.clause,
                    "clause_url": clause_url(row.clause),
                    "excerpt": _excerpt(lines, issue),
                }
            )
        groups.append({"severity": severity, "heading": HEADINGS[severity], "issues": entries})
    if report.unreadable:
        verdict = "The input could not be read."
    elif report.records == 0:
        verdict = "No club record was found."
    elif report.valid:
        verdict = "Valid: no failures against the Club Specification."
    else:
        verdict = "Not valid yet: fix the failures first."
    return {
        "valid": report.valid and report.records > 0 and not report.unreadable,
        "verdict": verdict,
        "summary": summary_line(report),
        "counts": report.counts(),
        "groups": groups,
    }
