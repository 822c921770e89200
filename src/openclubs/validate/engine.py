"""The validator: from any input to a sorted Report."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openclubs.ingest.fetch import fetch_text
from openclubs.ingest.html import json_ld_blocks, looks_like_html
from openclubs.ingest.jsontext import line_of, locate, parse_json
from openclubs.ingest.sources import Fetcher, SourceError, read_documents
from openclubs.validate.records import find_records, is_opportunity, is_other_thing
from openclubs.validate.report import Issue, Report, make_issue
from openclubs.validate.rules.common import Collector, describe, node_type, quote
from openclubs.validate.rules.organization import check_context, check_organization


def check_record(record: Any, path: str = "$", context: Any = None) -> list[Issue]:
    """The issues of one club record (a parsed JSON value), paths relative to `path`."""
    return _check_record(record, path, context)[0]


def _check_record(record: Any, path: str, context: Any) -> tuple[list[Issue], bool]:
    """(issues, whether the record was checked as an organisation)."""
    ctx = Collector()
    if not isinstance(record, dict):
        kind = {str: "text", list: "list", bool: "true/false", type(None): "null"}.get(
            type(record), "number"
        )
        ctx.add("not_a_club_record", path, found=kind, detail="A club record is a JSON object.")
        return ctx.issues, False
    if is_opportunity(record):
        organizer = record.get("organizer")
        name = organizer.get("name") if isinstance(organizer, dict) else None
        detail = f"Its organiser is {quote(name)}. " if isinstance(name, str) else ""
        detail += (
            "A club record can be built from the organiser with the activities and "
            "places of its sessions."
        )
        found = record.get("@type", record.get("type"))
        ctx.add("not_a_club_record", path, found=found, detail=detail)
        return ctx.issues, False
    if is_other_thing(record):
        ctx.add("other_json_ld", path, found=describe(node_type(record)).strip('"'))
        return ctx.issues, False
    check_context(ctx, record, path, context)
    check_organization(ctx, record, path)
    return ctx.issues, True


def check_value(value: Any) -> tuple[list[Issue], int]:
    """Issues of every record in a parsed JSON document, and the number of records."""
    issues: list[Issue] = []
    count = 0
    wrapper_noted = False
    for found in find_records(value):
        if found.wrapped and not wrapper_noted:
            issues.append(make_issue("organizer_wrapper", "$"))
            wrapper_noted = True
        found_issues, is_club = _check_record(found.record, found.path, found.context)
        count += is_club
        for issue in found_issues:
            issues.append(issue.placed(item=found.item) if found.item else issue)
    return issues, count


def check_text(text: str, name: str | None = None) -> tuple[list[Issue], int]:
    """Issues of a document given as text: JSON(-LD), or an HTML page with JSON-LD blocks."""
    if looks_like_html(text):
        blocks = json_ld_blocks(text)
        if not blocks:
            detail = 'the page has no <script type="application/ld+json"> block'
            return [_place(make_issue("no_json_ld", "$", detail=detail), name)], 0
        issues: list[Issue] = []
        count = 0
        for block in blocks:
            found, n = _check_json(block.text, block.first_line, name)
            where = f"script block {block.index}" if len(blocks) > 1 else None
            issues.extend(i.placed(item=i.item or where) for i in found)
            count += n
        if count == 0 and not any(
            i.category == "conformance" and i.type.startswith("json_") for i in issues
        ):
            detail = "none of the page's JSON-LD blocks describes an organisation"
            issues.append(
                _place(make_issue("no_json_ld", "$", detail=detail), name, blocks[0].first_line, 1)
            )
        return issues, count
    stripped = text.lstrip()
    if stripped and stripped[0] not in "{[":
        first = stripped.splitlines()[0]
        if first.count(",") >= 1 and "{" not in first:
            detail = (
                "this looks like comma-separated (CSV) text, not JSON-LD; `openclubs "
                "import` turns club lists into Club Specification records"
            )
            return [_place(make_issue("no_json_ld", "$", detail=detail), name, 1, 1)], 0
    return _check_json(text, 1, name)


def _check_json(text: str, first_line: int, name: str | None) -> tuple[list[Issue], int]:
    parsed = parse_json(text, first_line)
    issues = [_place(i, name) for i in parsed.issues]
    if not parsed.ok:
        return issues, 0
    found, count = check_value(parsed.value)
    if found:
        positions = locate(parsed.text, first_line)
        for issue in found:
            where = line_of(positions, issue.path)
            issues.append(_place(issue, name, *(where or (None, None))))
    return issues, count


def _place(
    issue: Issue, name: str | None, line: int | None = None, column: int | None = None
) -> Issue:
    return issue.placed(
        file=name,
        line=issue.line if issue.line is not None else line,
        column=issue.column if issue.column is not None else column,
    )


def validate(obj_or_text: Any, *, name: str | None = None) -> Report:
    """Validate one input: a parsed JSON value (object, array, RPDE page) or a text (JSON,
    JSON-LD, or an HTML page)."""
    report = Report(sources=1)
    if isinstance(obj_or_text, bytes):
        obj_or_text = obj_or_text.decode("utf-8-sig", errors="replace")
    if isinstance(obj_or_text, str):
        issues, count = check_text(obj_or_text, name)
    else:
        issues, count = check_value(obj_or_text)
        issues = [_place(i, name) for i in issues]
    report.extend(issues)
    report.records = count
    report.sort()
    return report


def validate_sources(specs: Iterable[str], fetch: Fetcher = fetch_text) -> Report:
    """Validate every file, directory, URL or '-' named, into one sorted report."""
    report = Report()
    for spec in specs:
        for doc in read_documents(spec, fetch):
            report.sources += 1
            if isinstance(doc, SourceError):
                report.issues.append(
                    _place(make_issue("source_unreadable", "$", detail=str(doc)), doc.source)
                )
                continue
            issues, count = check_text(doc.text, doc.name)
            report.extend(issues)
            report.records += count
    report.sort()
    return report
