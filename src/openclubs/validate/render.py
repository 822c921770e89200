"""Reports as text for people (grouped: what to fix first), JSON and JSON Lines; and the
issue catalogue as Markdown (``docs/issues.md``)."""

from __future__ import annotations

import json
from itertools import groupby

from openclubs.validate.catalogue import CATALOGUE, SEVERITY_ORDER, SPEC_URL
from openclubs.validate.report import Issue, Report

HEADINGS = {
    "failure": "Fix these first (failures)",
    "warning": "Then these (warnings)",
    "notice": "Good to know (notices)",
    "suggestion": "Could be better (suggestions)",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(report: Report) -> str:
    counts = report.counts()
    found = ", ".join(_plural(n, sev) for sev, n in counts.items()) or "no issues"
    verdict = "cannot be read" if report.unreadable else "valid" if report.valid else "NOT valid"
    return (
        f"{_plural(report.sources, 'input')}, {_plural(report.records, 'record')}: {found}. "
        f"Result: {verdict}."
    )


def _where(issue: Issue) -> str:
    parts = []
    if issue.line is not None:
        parts.append(f"line {issue.line}" + (f":{issue.column}" if issue.column else ""))
    if issue.item:
        parts.append(f"item {issue.item}")
    if issue.path != "$":
        parts.append(issue.path)
    return ", ".join(parts) or "whole document"


def render_text(report: Report, verbose: bool = False) -> str:
    """Grouped by input, then by severity; each issue says where, what, how to fix, and the
    clause of the specification."""
    lines: list[str] = []
    for name, in_file in groupby(report.issues, key=lambda i: i.file or "<input>"):
        issues = sorted(in_file, key=lambda i: (SEVERITY_ORDER[i.severity], i.line or 0, i.path))
        lines.append(f"{name}")
        for severity, group in groupby(issues, key=lambda i: i.severity):
            entries = list(group)
            lines.append(f"  {HEADINGS[severity]}: {len(entries)}")
            for issue in entries:
                row = issue.issue_type
                lines.append(f"  - {row.title} [{_where(issue)}]")
                lines.append(f"      {issue.message}")
                if verbose:
                    lines.append(f"      ({row.clause}; type {issue.type})")
        lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def render_jsonl(report: Report) -> str:
    return "\n".join(json.dumps(i.to_dict(), ensure_ascii=False) for i in report.issues)


def render_catalogue_markdown() -> str:
    """docs/issues.md: every issue type the validator can report."""
    out = [
        "# Issue types",
        "",
        "Generated from `src/openclubs/validate/catalogue.py` by "
        "`openclubs validate --list-issues --format markdown`; do not edit by hand.",
        "",
        f"Clauses refer to the OpenActive Club Specification 0.2 ({SPEC_URL}). Severities and "
        "categories use the official OpenActive validator's vocabulary.",
        "",
        "| type | severity | category | title | clause |",
        "|---|---|---|---|---|",
    ]
    for row in CATALOGUE:
        out.append(
            f"| `{row.type}` | {row.severity} | {row.category} | {row.title} | {row.clause} |"
        )
    out += ["", "## Messages", ""]
    for row in CATALOGUE:
        template = row.template.replace("|", "\\|")
        out += [f"### `{row.type}`", "", f"{row.title}. Message: {template}", ""]
    return "\n".join(out).rstrip() + "\n"


def render_catalogue_text() -> str:
    width = max(len(r.type) for r in CATALOGUE)
    return "\n".join(
        f"{r.type:<{width}}  {r.severity:<10} {r.category:<12} {r.title}" for r in CATALOGUE
    )
