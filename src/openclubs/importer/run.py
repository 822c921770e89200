"""Importing club lists: read every file, build records, geocode, validate, and account for
every row (accepted into a record, or rejected with its reason)."""

from __future__ import annotations

import gc
import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from itertools import islice
from multiprocessing.context import BaseContext
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any, Literal

from openclubs.importer.build import DEFAULT_BASE_URL, Built, Change, build_record
from openclubs.ingest.openactive_sheets import is_openactive_workbook, read_openactive_workbook
from openclubs.ingest.rows import ReadError, RowProblem, SourceRow
from openclubs.ingest.tabular import read_csv, read_json, read_xlsx
from openclubs.normalise.geocode import Geocoder
from openclubs.validate.engine import check_record
from openclubs.validate.report import Issue

Format = Literal["auto", "xlsx", "csv", "json"]
_SUFFIXES = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".jsonld": "json",
    ".jsonl": "json",
}


@dataclass(slots=True)
class ImportedClub:
    """A Club Spec 0.2 record with where it came from, what was changed and its issues."""

    record: dict[str, Any]
    row: SourceRow
    changes: list[Change]
    issues: list[Issue]

    @property
    def valid(self) -> bool:
        return not any(i.severity == "failure" for i in self.issues)

    def provenance(self) -> dict[str, Any]:
        """Where the record came from and what was done to it, for the store."""
        return {
            "file": self.row.file,
            "sheet": self.row.sheet,
            "row": self.row.row,
            "changes": [c.to_dict() for c in self.changes],
        }

    def log_entry(self) -> dict[str, Any]:
        return {
            "@id": self.record["@id"],
            "source": {"file": self.row.file, "sheet": self.row.sheet, "row": self.row.row},
            "changes": [c.to_dict() for c in self.changes],
            "issues": [i.to_dict() for i in self.issues],
        }


@dataclass(slots=True)
class ImportResult:
    """Every row accounted for. `clubs` holds the accepted records unless they were handed to
    a sink as they were made (a streamed import); the counts cover them either way."""

    clubs: list[ImportedClub] = field(default_factory=list)
    rejects: list[RowProblem] = field(default_factory=list)
    notes: list[RowProblem] = field(default_factory=list)  # problems of rows still accepted
    unreadable: list[str] = field(default_factory=list)  # files that could not be read
    rows_in: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    valid: int = 0
    changes: int = 0

    @property
    def rows(self) -> int:
        return sum(self.rows_in.values())

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": len(self.rejects),
            "valid": self.valid,
            "with_failures": self.accepted - self.valid,
            "changes": self.changes,
            "unreadable_files": len(self.unreadable),
        }


def _head(path: Path) -> bytes:
    """The first bytes of a file (its format's signature), without reading the rest."""
    if not path.is_file():
        return b""
    with path.open("rb") as handle:
        return handle.read(8)


def detect_format(path: Path, declared: Format = "auto") -> str:
    if declared != "auto":
        return declared
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    head = _head(path)
    if head.startswith(b"PK"):
        return "xlsx"
    return "json" if head.lstrip()[:1] in (b"{", b"[") else "csv"


def read_rows(
    path: Path, fmt: Format = "auto", mapping: Mapping[str, str] | None = None
) -> tuple[Iterator[SourceRow], list[RowProblem]]:
    """The rows of one file (lazily) and the problems its reader found up front."""
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    if fmt == "auto" and path.suffix.lower() in (".html", ".htm", ".xml", ".pdf", ".xls", ".ods"):
        hint = (
            " (for JSON-LD in a web page, use `openclubs validate`)" if "htm" in path.suffix else ""
        )
        raise ReadError(f"{path}: not a club list this command reads: give CSV, XLSX or JSON{hint}")
    kind = detect_format(path, fmt)
    if kind == "xlsx":
        if _head(path)[:4] == b"\xd0\xcf\x11\xe0":
            raise ReadError(
                f"{path}: an encrypted (password-protected) or old .xls workbook; "
                "save it as an unprotected .xlsx or as CSV"
            )
        if mapping is None and is_openactive_workbook(str(path)):
            rows, problems = read_openactive_workbook(str(path))
            return iter(rows), problems
        return read_xlsx(path, mapping), []
    if kind == "json":
        return read_json(path, mapping), []
    return read_csv(path, mapping), []


def import_files(
    paths: list[str],
    *,
    fmt: Format = "auto",
    mapping: Mapping[str, str] | None = None,
    base_url: str = DEFAULT_BASE_URL,
    geocoder: Geocoder | None = None,
    reject_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    sink: Callable[[ImportedClub], None] | None = None,
    workers: int = 1,
) -> ImportResult:
    """Import every file; a file that cannot be read is recorded, never fatal to the others.

    With a `sink`, each accepted club goes to it as soon as it is made and is not kept in
    `result.clubs`: memory then stays flat however long the file (only the ids seen so far
    are kept, to catch the same club twice). Without a geocoder, rows are read, built,
    validated and passed on one at a time; a geocoder needs every postcode first, so then
    the records are all built before any is passed on.

    With `workers` > 1 (and no geocoder), worker processes build and validate chunks of
    rows while this one reads the files and writes the results in their order: the result
    is the same as with one process."""
    with _bulk():
        importer = _Importer(base_url, reject_invalid, sink)
        if workers > 1 and geocoder is None:
            rows = importer.rows(paths, fmt, mapping)
            for item, issues in importer.in_parallel(rows, workers, progress):
                importer.accept(item, issues)
            return importer.finish()
        built = importer.built(paths, fmt, mapping, progress)
        if geocoder is not None:
            pending = list(built)
            _geocode(pending, geocoder)
            built = iter(pending)
        for item in built:
            importer.accept(item)
        return importer.finish()


CHUNK = 500  # rows a worker builds at a time: enough to make passing them across cheap
Outcome = str | tuple[dict[str, Any], list[tuple[Any, ...]], list[tuple[Any, ...]]]
_ISSUE_FIELDS = tuple(f.name for f in fields(Issue))


def _build_chunk(rows: list[SourceRow], base_url: str) -> list[Outcome]:
    """In a worker: each row's reason for rejection, or its record, changes and issues as
    plain tuples (the compiled classes do not pickle)."""
    out: list[Outcome] = []
    for row in rows:
        built = build_record(row, base_url)
        if isinstance(built, str):
            out.append(built)
            continue
        changes = [(c.field, c.before, c.after, c.reason) for c in built.changes]
        issues = [
            tuple(getattr(i, name) for name in _ISSUE_FIELDS) for i in check_record(built.record)
        ]
        out.append((built.record, changes, issues))
    return out


def _pool_context() -> BaseContext:
    """fork where there is one (workers start at once and share the loaded vocabulary)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


@contextmanager
def _bulk() -> Iterator[None]:
    """The cyclic garbage collector paused while records pile up: they hold no cycles, and
    its repeated walks over a growing heap cost a quarter of a large import's time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Importer:
    """One import's state: the result so far, and where each @id was first seen."""

    def __init__(
        self, base_url: str, reject_invalid: bool, sink: Callable[[ImportedClub], None] | None
    ) -> None:
        self.result = ImportResult()
        self.base_url = base_url
        self.reject_invalid = reject_invalid
        self.sink = sink if sink is not None else self.result.clubs.append
        self.seen: dict[str, tuple[str, str | None, int]] = {}  # @id -> file, sheet, row
        # rows refused after building (a second copy of a club, an invalid record) are
        # listed after the rows that could not be built at all
        self.late: list[RowProblem] = []

    def built(
        self,
        paths: list[str],
        fmt: Format,
        mapping: Mapping[str, str] | None,
        progress: Callable[[int], None] | None,
    ) -> Iterator[Built]:
        """The records of every row of every file in order; rows that are not clubs are
        rejected on the way."""
        base_url = self.base_url
        for row in self.rows(paths, fmt, mapping):
            outcome = build_record(row, base_url)
            if isinstance(outcome, str):
                self.reject(row, outcome)
            else:
                yield outcome
            if progress:
                progress(1)

    def rows(
        self, paths: list[str], fmt: Format, mapping: Mapping[str, str] | None
    ) -> Iterator[SourceRow]:
        """Every row of every file, counted; a file that cannot be read is recorded."""
        result = self.result
        for name in paths:
            path = Path(name)
            try:
                rows, problems = read_rows(path, fmt, mapping)
                result.notes.extend(problems)
                for row in rows:
                    result.rows_in[row.file] += 1
                    yield row
            except ReadError as err:
                result.unreadable.append(str(err))

    def in_parallel(
        self, rows: Iterator[SourceRow], workers: int, progress: Callable[[int], None] | None
    ) -> Iterator[tuple[Built, list[Issue]]]:
        """The built records and their issues, in row order, from `workers` processes; a few
        chunks ahead at most, so memory stays flat."""
        pending: deque[tuple[list[SourceRow], AsyncResult[list[Outcome]]]] = deque()
        with _pool_context().Pool(workers) as pool:
            while True:
                chunk = list(islice(rows, CHUNK))
                if chunk:
                    pending.append((chunk, pool.apply_async(_build_chunk, (chunk, self.base_url))))
                if pending and (len(pending) > 2 * workers or not chunk):
                    done, outcomes = pending.popleft()
                    yield from self._outcomes(done, outcomes.get(), progress)
                elif not chunk:
                    return

    def _outcomes(
        self, rows: list[SourceRow], outcomes: list[Outcome], progress: Callable[[int], None] | None
    ) -> Iterator[tuple[Built, list[Issue]]]:
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, str):
                self.reject(row, outcome)
            else:
                record, changes, issues = outcome
                built = Built(record, row, [Change(*c) for c in changes])
                yield built, [Issue(*i) for i in issues]
            if progress:
                progress(1)

    def reject(self, row: SourceRow, reason: str) -> None:
        self.result.rejects.append(
            RowProblem(row.file, row.row, reason, sheet=row.sheet, column=row.columns.get("name"))
        )

    def accept(self, item: Built, issues: list[Issue] | None = None) -> None:
        """Validate a built record and pass it on, unless it repeats an earlier club or
        (with reject_invalid) fails validation."""
        record, row = item.record, item.row
        identifier = record["@id"]
        first = self.seen.get(identifier)
        if first is not None:
            where = SourceRow(first[0], first[2], {}, sheet=first[1]).where()
            self.late.append(
                RowProblem(
                    row.file,
                    row.row,
                    f"the same club as {where} (same name and place, so the same @id {identifier})",
                    sheet=row.sheet,
                )
            )
            return
        self.seen[identifier] = (row.file, row.sheet, row.row)
        club = ImportedClub(
            record, row, item.changes, check_record(record) if issues is None else issues
        )
        if self.reject_invalid and not club.valid:
            reasons = "; ".join(
                sorted({f"{i.path}: {i.type}" for i in club.issues if i.severity == "failure"})
            )
            self.late.append(
                RowProblem(row.file, row.row, f"invalid record ({reasons})", sheet=row.sheet)
            )
            return
        result = self.result
        result.accepted += 1
        result.valid += club.valid
        result.changes += len(item.changes)
        self.sink(club)

    def finish(self) -> ImportResult:
        self.result.rejects.extend(self.late)
        self.late = []
        return self.result


def _geocode(built: list[Built], geocoder: Geocoder) -> None:
    wanted = sorted({postcode for item in built for _, postcode in item.to_geocode})
    if not wanted:
        return
    found = geocoder.lookup(wanted)
    source = type(geocoder).__name__
    for item in built:
        for place, postcode in item.to_geocode:
            answer = found.get(postcode)
            if answer is not None and answer.latitude is not None and answer.longitude is not None:
                place["geo"] = {
                    "@type": "GeoCoordinates",
                    "latitude": answer.latitude,
                    "longitude": answer.longitude,
                }
                item.note(
                    "geo",
                    postcode,
                    [answer.latitude, answer.longitude],
                    f"geocoded from the postcode ({source})",
                )
            else:
                status = answer.status if answer else "unavailable"
                detail = answer.detail if answer else "no answer"
                item.note("geo", postcode, None, f"not geocoded: {status} ({detail})")
