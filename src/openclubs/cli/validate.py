"""``openclubs validate``: check club data against the Club Specification 0.2."""

from __future__ import annotations

import sys

import click

from openclubs.validate.catalogue import BY_TYPE
from openclubs.validate.engine import validate_sources
from openclubs.validate.render import (
    render_catalogue_markdown,
    render_catalogue_text,
    render_json,
    render_jsonl,
    render_text,
)


@click.command(name="validate")
@click.argument("inputs", nargs=-1, metavar="[PATH|URL|-]...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "jsonl", "markdown"]),
    default="text",
    show_default=True,
    help="text: grouped for people; json: one report object; jsonl: one issue per line "
    "(markdown: only with --list-issues).",
)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--verbose", "-v", is_flag=True, help="Text format: show each issue's spec clause.")
@click.option(
    "--select",
    multiple=True,
    metavar="TYPE",
    help="Report only these issue types (repeatable).",
)
@click.option(
    "--ignore", multiple=True, metavar="TYPE", help="Leave out these issue types (repeatable)."
)
@click.option("--list-issues", is_flag=True, help="List every issue type the validator knows.")
def validate_command(
    inputs: tuple[str, ...],
    output_format: str,
    strict: bool,
    verbose: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    list_issues: bool,
) -> None:
    """Check club records against the OpenActive Club Specification 0.2.

    Each input is a JSON or JSON-LD file (one object, an array, an RPDE page or the
    Organizer wrapper), an HTML page (every <script type="application/ld+json"> block), a
    directory (every file in it), - for standard input, or an http(s) URL.

    Broken JSON is reported with its line and column; common defects (a trailing comma, an
    invalid escape such as \\#, missing closing brackets) are repaired so the rest can be
    checked, and the report says so.

    Exit status: 0 valid; 1 failures (or warnings with --strict); 2 an input could not be
    read, or a usage error.
    """
    if list_issues:
        text = (
            render_catalogue_markdown() if output_format == "markdown" else render_catalogue_text()
        )
        click.echo(text.rstrip("\n"))
        return
    if output_format == "markdown":
        raise click.UsageError("--format markdown goes with --list-issues")
    if not inputs:
        raise click.UsageError("name at least one input: a file, a directory, a URL or -")
    unknown = [t for t in (*select, *ignore) if t not in BY_TYPE]
    if unknown:
        raise click.UsageError(f"unknown issue type(s): {', '.join(sorted(set(unknown)))}")
    report = validate_sources(inputs)
    if select:
        report.issues = [i for i in report.issues if i.type in select]
    if ignore:
        report.issues = [i for i in report.issues if i.type not in ignore]
    if output_format == "json":
        click.echo(render_json(report))
    elif output_format == "jsonl":
        if report.issues:
            click.echo(render_jsonl(report))
        click.echo(f"openclubs: {report.records} records; {report.counts()}", err=True)
    else:
        click.echo(render_text(report, verbose=verbose))
    sys.exit(report.exit_code(strict))
