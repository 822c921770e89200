"""A validation report as the web pages show it: grouped by what to fix first, each issue with
its title, its message, where it is (line, column and the place in the record in words, such
as "location 2 › address › postalCode", with the line itself), and a link to the clause of
the specification it comes from. The JSONPath is kept, but only as a detail for developers:
a club secretary should not need to read `$.location[1].address.postalCode`.

The JSON twin (POST /api/validate) returns the validator's own report; this view only adds
what people need to read it, so the page and the CLI can never disagree.
"""

from __future__ import annotations

import re
from itertools import groupby
from typing import Any

from markupsafe import Markup, escape

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
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")
_CODE = re.compile(r"`([^`\n]+)`")
EXCERPT = 60  # characters of the offending line shown around the column (fits a phone)


def clause_url(clause: str) -> str:
    """The address of the clause an issue type cites (its first § section)."""
    if clause.startswith("Modelling Opportunity Data"):
        return MODELLING_SPEC
    match = _SECTION.search(clause)
    anchor = ANCHORS.get(match.group(1)) if match else None
    return SPEC_URL + (f"#{anchor}" if anchor else "")


def path_steps(path: str) -> list[str | int] | None:
    """The steps of a JSONPath as the validator writes it: `$.location[1]['a b']` is
    ["location", 1, "a b"]; None when it is not such a path."""
    steps: list[str | int] = []
    rest = path.removeprefix("$")
    while rest:
        match = _STEP.match(rest)
        if match is None:
            return None
        key, index, quoted = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(key if key is not None else quoted.replace("\\'", "'"))
        rest = rest[match.end() :]
    return steps


def plain_path(path: str) -> str:
    """A JSONPath in words: `$.location[1].address.postalCode` is "location 2 › address ›
    postalCode" (counting from 1, as people do); the record itself is "the club record"."""
    steps = path_steps(path)
    if steps is None:  # not a path this module writes: show it as it is
        return path
    words: list[str] = []
    for step in steps:
        if isinstance(step, int):
            words.append(f"{words.pop()} {step + 1}" if words else f"item {step + 1}")
        else:
            words.append(step)
    return " › ".join(words) if words else "the club record"


def with_code(message: str) -> Markup:
    """A message, escaped, with the `quoted` names shown as code (not as backticks)."""
    return Markup(_CODE.sub(lambda m: f"<code>{m.group(1)}</code>", str(escape(message))))


def _where(issue: Issue) -> str:
    parts = []
    if issue.line is not None:
        parts.append(f"line {issue.line}" + (f", column {issue.column}" if issue.column else ""))
    if issue.item:
        parts.append(issue.item)
    if issue.path != "$":
        parts.append(f"at {plain_path(issue.path)}")
    return "; ".join(parts) or "the whole document"


def _excerpt(lines: list[str], issue: Issue) -> dict[str, Any] | None:
    """The line an issue is on, without its indentation and cut to EXCERPT characters
    around the column (with … where cut), and where the column points (for a caret)."""
    if issue.line is None or not 1 <= issue.line <= len(lines):
        return None
    text = lines[issue.line - 1].rstrip("\r").expandtabs(2)
    column = max((issue.column or 1) - 1, 0)
    indent = len(text) - len(text.lstrip())
    low = min(indent, column)
    start = max(low, min(column - EXCERPT // 2, len(text) - EXCERPT))
    shown = text[start : start + EXCERPT]
    before = "…" if start > low else ""
    after = "…" if start + EXCERPT < len(text) else ""
    return {
        "line": issue.line,
        "text": before + shown + after,
        "caret": " " * (column - start + len(before)) + "^" if issue.column else "",
    }


def verdict(report: Report) -> str:
    """The report in one sentence (the page's heading, and the API's and /build's verdict)."""
    if report.unreadable:
        return "The input could not be read."
    if report.records == 0:
        return "No club record was found."
    if report.valid:
        return "Valid: no failures against the Club Specification."
    return "Not valid yet: fix the failures first."


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
                    "message_html": with_code(issue.message),
                    "where": _where(issue),
                    "path": issue.path,
                    "clause": row.clause,
                    "clause_url": clause_url(row.clause),
                    "excerpt": _excerpt(lines, issue),
                }
            )
        groups.append({"severity": severity, "heading": HEADINGS[severity], "issues": entries})
    return {
        "valid": report.valid and report.records > 0 and not report.unreadable,
        "verdict": verdict(report),
        "summary": summary_line(report),
        "counts": report.counts(),
        "groups": groups,
    }
