"""``openclubs import``: turn club lists into Club Specification 0.2 records."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click
import orjson

from openclubs.importer.build import DEFAULT_BASE_URL
from openclubs.importer.output import (
    OutputKind,
    RecordWriter,
    output_kind,
    write_log,
    write_records,
    write_rejects,
)
from openclubs.importer.run import Format, ImportedClub, ImportResult, import_files
from openclubs.store.base import open_store

OUT_BUFFER = 1 << 20
# about 2,000 rows of a register: below, starting workers costs more than they save (the
# CASC register's 7,760 rows, 665 kB, take 1.2 s with 2 workers against 1.5 s with one)
PARALLEL_BYTES = 250_000


@click.command(name="import")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "xlsx", "csv", "json"]),
    default="auto",
    show_default=True,
    help="Input format (auto: from the name and content).",
)
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, exists=True),
    help='JSON file naming columns: {"name": "Club Title", "postcode": "PC", ...}.',
)
@click.option(
    "--base-url",
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="Where the records will be published: ids are BASE/clubs/KEY when the source "
    "has no URL id of its own.",
)
@click.option(
    "--geocode",
    "geocode",
    default="none",
    show_default=True,
    metavar="postcodes.io|FILE|none",
    help="Look up latitude/longitude from postcodes: the postcodes.io service, or a CSV "
    "of postcode,latitude,longitude (such as the ONS Postcode Directory).",
)
@click.option(
    "-o",
    "--output",
    "out",
    default=None,
    help="Where to write the records: a .jsonl or .json file, a directory (one file per "
    "club), or - for standard output (JSON Lines; the default without --db).",
)
@click.option(
    "--db",
    "db_path",
    help="Also upsert the records into this store (a SQLite file or a postgresql:// URL).",
)
@click.option(
    "--source",
    help="With --db: the name of this list (default: the file names). Clubs of the same "
    "source that are missing from this import become deletions.",
)
@click.option(
    "--output-format",
    type=click.Choice(["jsonl", "json", "files"]),
    help="Override the output format chosen from -o.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    help="CSV of every rejected row (file, sheet, row, column, reason).",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False),
    help="JSON log: per record, its source row, every change made and its issues.",
)
@click.option(
    "--reject-invalid",
    is_flag=True,
    help="Reject records that still fail validation instead of writing them.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes building and validating records (the output is the same); 0: one per "
    f"CPU for inputs over {PARALLEL_BYTES // 1000} kB without --geocode, else 1.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def import_command(
    files: tuple[str, ...],
    fmt: Format,  # click.Choice holds it to these values
    mapping: str | None,
    base_url: str,
    geocode: str,
    out: str | None,
    db_path: str | None,
    source: str | None,
    output_format: str | None,
    rejects: str | None,
    log_path: str | None,
    reject_invalid: bool,
    workers: int,
    quiet: bool,
) -> None:
    """Import club lists as OpenActive Club Specification 0.2 JSON-LD.

    Reads the openactive-clubs spreadsheets (both layouts), CSV and XLSX lists with
    recognisable headers (name, website, email, phone, address lines, town, county,
    postcode, country, sport, latitude/longitude, age, gender ...), known registers (the HMRC
    CASC register, the UK rifle clubs list) and JSON. Cleans names, postcodes, countries,
    telephones, URLs and activities, recording every change; every row ends as a record or
    as a rejected row with its reason.

    Exit status: 0 every row became a record; 1 some rows were rejected; 2 a file could not
    be read, or a usage error.
    """
    from openclubs.normalise.geocode import GeocoderSetupError, make_geocoder

    column_map = None
    if mapping:
        try:
            column_map = orjson.loads(Path(mapping).read_bytes())
        except orjson.JSONDecodeError as err:
            raise click.UsageError(f"--mapping {mapping}: not valid JSON ({err})") from None
        if not isinstance(column_map, dict) or not all(
            isinstance(v, str) for v in column_map.values()
        ):
            raise click.UsageError('--mapping must be a JSON object such as {"name": "Club"}')
    try:
        geocoder = make_geocoder(geocode)
    except GeocoderSetupError as err:
        raise click.UsageError(f"--geocode: {err}") from None

    workers = workers or auto_workers(files, geocoder is None)
    total = _estimate_rows(files) if not quiet and sys.stderr.isatty() else 0

    def run(sink: Callable[[ImportedClub], None] | None = None) -> ImportResult:
        # a sink only writes the records: their changes and issues need not come back
        details = sink is None

        def go(progress: Callable[[int], None] | None) -> ImportResult:
            return import_files(
                list(files),
                fmt=fmt,
                mapping=column_map,
                base_url=base_url,
                geocoder=geocoder,
                reject_invalid=reject_invalid,
                progress=progress,
                sink=sink,
                workers=workers,
                details=details,
            )

        if total > 2000:  # a progress bar on long files
            with click.progressbar(length=total, label="importing rows", file=sys.stderr) as bar:
                return go(bar.update)
        return go(None)

    if out is None and db_path is None:
        out = "-"
    kind = output_kind(out, output_format)
    if out is not None and not db_path and not log_path:
        # nothing needs the records once written: each is written as soon as it is made,
        # so memory does not grow with the file
        with _output(out, kind) as target:
            writer = RecordWriter(target, kind)
            result = run(writer.write)
            writer.close()
    else:
        result = run()
        if db_path:
            stored = _store(result, db_path, source or ",".join(sorted(files)))
            if not quiet:
                click.echo(f"openclubs import: {db_path}: {stored}", err=True)
        if out is not None:
            with _output(out, kind) as target:
                write_records(result.clubs, target, kind)
    if rejects:
        write_rejects(result, Path(rejects))
    if log_path:
        write_log(result, Path(log_path))
    if not quiet:
        for message in result.unreadable:
            click.echo(f"openclubs import: {message}", err=True)
        s = result.summary()
        click.echo(
            f"openclubs import: {s['rows']} rows = {s['accepted']} accepted + {s['rejected']} "
            f"rejected; {s['valid']} records valid, {s['with_failures']} with failures; "
            f"{s['changes']} changes recorded"
            + (
                ""
                if rejects
                else " (--rejects FILE lists the rejected rows)"
                if s["rejected"]
                else ""
            ),
            err=True,
        )
        for problem in result.rejects[:5]:
            click.echo(f"  rejected {problem.file} row {problem.row}: {problem.reason}", err=True)
        if len(result.rejects) > 5:
            click.echo(f"  ... and {len(result.rejects) - 5} more", err=True)
    sys.exit(2 if result.unreadable else 1 if result.rejects else 0)


@contextmanager
def _output(out: str, kind: OutputKind) -> Iterator[IO[bytes] | Path]:
    """Where the records go: a directory, standard output or a file."""
    if kind == "files":
        yield Path(out)
    elif out == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    else:
        # written a line a record: a large buffer makes far fewer system calls
        with open(out, "wb", buffering=OUT_BUFFER) as handle:
            yield handle


def auto_workers(files: tuple[str, ...], parallel_ok: bool) -> int:
    """One process per CPU this one may use, for large inputs; else one."""
    size = sum(Path(f).stat().st_size for f in files if Path(f).is_file())
    if not parallel_ok or size < PARALLEL_BYTES:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cpus or 1)


def _estimate_rows(files: tuple[str, ...]) -> int:
    """Lines of the text files (a CSV row is about a line); 0 for the others."""
    total = 0
    for name in files:
        path = Path(name)
        if path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt"):
            with path.open("rb") as handle:
                total += sum(
                    chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")
                )
    return total


def _store(result: ImportResult, db_path: str, source: str) -> str:
    store = open_store(db_path)
    try:
        store.migrate()
        summary = store.upsert(
            (
                (club.record, club.provenance(), [i.to_dict() for i in club.issues])
                for club in result.clubs
            ),
            source,
            # a file that failed, or an import that read no rows (a header-only file, a blank
            # template), must not delete the source's clubs
            replace_source=not result.unreadable and result.rows > 0,
        )
    finally:
        store.close()
    return (
        f"{summary.created} new, {summary.updated} changed, {summary.unchanged} unchanged, "
        f"{summary.deleted} deleted (source {source!r})"
        + ("" if result.rows else "; no rows were read, so nothing was deleted")
    )
