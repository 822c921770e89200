"""Importing club lists: read every file, build records, geocode, validate, and account for
every row (accepted into a record, or rejected with its reason)."""

from __future__ import annotations

import gc
import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.context import BaseContext
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any, Literal

import orjson

from openclubs.importer.build import DEFAULT_BASE_URL, Built, Change, build_record
from openclubs.ingest.openactive_sheets import is_openactive_workbook, read_openactive_workbook
from openclubs.ingest.rows import ReadError, RowProblem, SourceRow
from openclubs.ingest.tabular import (
    Columns,
    CsvLayout,
    csv_layout,
    csv_piece_rows,
    csv_pieces,
    read_csv,
    read_json,
    read_xlsx,
)
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


# A row, or the file, row number and columns of a CSV row a worker read (enough to make the
# row when it is asked for)
_Where = SourceRow | tuple[str, int, dict[str, str]]


def _source_row(where: _Where) -> SourceRow:
    if isinstance(where, tuple):
        file, number, columns = where
        return SourceRow(file, number, {}, columns=columns)
    return where


class ImportedClub:
    """A Club Spec 0.2 record with where it came from, what was changed and its issues.

    A record built in a worker process arrives encoded (its JSON, its changes and issues
    packed): writing it as JSON Lines needs nothing more, and the dict, changes and issues are
    only unpacked when something asks for them (a store, a log)."""

    __slots__ = (
        "_changes",
        "_issues",
        "_line",
        "_packed",
        "_record",
        "_row",
        "change_count",
        "valid",
    )

    def __init__(
        self, record: dict[str, Any], row: SourceRow, changes: list[Change], issues: list[Issue]
    ) -> None:
        self._record: dict[str, Any] | None = record
        self._line: bytes | None = None
        self._row: _Where = row
        self._changes: list[Change] | None = changes
        self._issues: list[Issue] | None = issues
        self._packed: bytes | None = None
        self.valid = not any(i.severity == "failure" for i in issues)
        self.change_count = len(changes)

    @classmethod
    def encoded_by_worker(
        cls,
        line: bytes,
        where: _Where,
        valid: bool,
        change_count: int,
        packed: bytes | None,
    ) -> ImportedClub:
        """A record from a worker: its JSON line, its row (or the file, row number and
        columns of its CSV row, enough to make the row when it is asked for), and its
        changes and issues packed as JSON."""
        club = cls.__new__(cls)
        club._record = None
        club._line = line
        club._row = where
        club._changes = club._issues = None
        club._packed = packed
        club.valid = valid
        club.change_count = change_count
        return club

    @property
    def record(self) -> dict[str, Any]:
        if self._record is None:
            self._record = orjson.loads(self._line or b"{}")
        return self._record

    @property
    def line(self) -> bytes:
        """The record as one line of JSON Lines (ending with its newline)."""
        if self._line is None:
            self._line = orjson.dumps(self._record, option=orjson.OPT_APPEND_NEWLINE)
        return self._line

    @property
    def row(self) -> SourceRow:
        if isinstance(self._row, tuple):
            self._row = _source_row(self._row)
        return self._row

    @property
    def changes(self) -> list[Change]:
        if self._changes is None:
            self._unpack()
        return self._changes or []

    @property
    def issues(self) -> list[Issue]:
        if self._issues is None:
            self._unpack()
        return self._issues or []

    def _unpack(self) -> None:
        if self._packed is None:
            raise RuntimeError(
                "this club was imported with details=False: its changes and issues were not kept"
            )
        changes, issues = orjson.loads(self._packed)
        self._changes = [Change(*c) for c in changes]
        self._issues = [Issue(*i) for i in issues]

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
    path: Path,
    fmt: Format = "auto",
    mapping: Mapping[str, str] | None = None,
    layout: CsvLayout | None = None,
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
    return read_csv(path, mapping, layout), []


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
    details: bool = True,
) -> ImportResult:
    """Import every file; a file that cannot be read is recorded, never fatal to the others.

    With a `sink`, each accepted club goes to it as soon as it is made and is not kept in
    `result.clubs`: memory then stays flat however long the file (only the ids seen so far
    are kept, to catch the same club twice). Without a geocoder, rows are read, built,
    validated and passed on one at a time; a geocoder needs every postcode first, so then
    the records are all built before any is passed on.

    With `workers` > 1 (and no geocoder), worker processes build, validate and encode
    chunks of rows while this one hands out the work and passes the results on in row
    order: the result is the same as with one process. A CSV file is cut into pieces at row
    boundaries that the workers read themselves; the rows of other files are read here.
    With `details=False` the workers do not send back each record's changes and issues
    (only their counts): for a sink that only writes the records, such as JSON Lines
    output, this saves a tenth of the work; asking such a club for them is an error."""
    with _bulk():
        importer = _Importer(base_url, reject_invalid, sink)
        if workers > 1 and geocoder is None:
            importer.in_parallel(paths, fmt, mapping, workers, progress, details)
            return importer.finish()
        built = importer.built(paths, fmt, mapping, progress)
        if geocoder is not None:
            pending = list(built)
            _geocode(pending, geocoder)
            built = iter(pending)
        for item in built:
            importer.accept(item)
        return importer.finish()


CHUNK = 500  # rows of a workbook or JSON file a worker builds at a time
PIECE_BYTES = 96 * 1024  # bytes of a CSV file a worker reads at a time: about 600 rows
# What a worker sends back for each row: (row number, why it is not a club), or
# (row number, @id, record as a JSON line, valid, number of changes, changes and issues as
# JSON or None, its failures in a few words when it is not valid)
Outcome = tuple[Any, ...]
# ("csv" or "rows", what to read, (base URL, want failures, want changes and issues))
Job = tuple[str, Any, tuple[str, bool, bool]]
# the rows of a job as this process knows them: read here, or (file, columns) of a CSV piece
_Rows = list[SourceRow] | tuple[str, dict[str, str]]


def _work(job: Job) -> list[Outcome]:
    """In a worker: read the rows (a CSV piece, or rows read by the main process), then build,
    validate and encode each."""
    kind, payload, (base_url, want_failures, details) = job
    if kind == "csv":
        layout, columns, piece, lines_before = payload
        rows: Iterable[SourceRow] = csv_piece_rows(
            CsvLayout(*layout), Columns(*columns), piece, lines_before
        )
    else:
        rows = payload
    return [_outcome(row, base_url, want_failures, details) for row in rows]


def _outcome(row: SourceRow, base_url: str, want_failures: bool, details: bool) -> Outcome:
    built = build_record(row, base_url)
    if isinstance(built, str):
        return (row.row, built)
    record = built.record
    issues = check_record(record)
    valid = not any(i.severity == "failure" for i in issues)
    packed = _pack(built.changes, issues) if details else None
    failures = _failures(issues) if want_failures and not valid else ""
    line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    return (row.row, record["@id"], line, valid, len(built.changes), packed, failures)


def _pack(changes: list[Change], issues: list[Issue]) -> bytes:
    """A record's changes and issues as JSON: quicker to make than a pickle."""
    values = (
        [(c.field, c.before, c.after, c.reason) for c in changes],
        [i.values() for i in issues],
    )
    try:
        return orjson.dumps(values)
    except TypeError:  # a value read from a workbook that JSON cannot hold: kept as text
        return orjson.dumps(values, default=str)


def _failures(issues: list[Issue]) -> str:
    return "; ".join(sorted({f"{i.path}: {i.type}" for i in issues if i.severity == "failure"}))


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
        self,
        paths: list[str],
        fmt: Format,
        mapping: Mapping[str, str] | None,
        layout: CsvLayout | None = None,
    ) -> Iterator[SourceRow]:
        """Every row of every file, counted; a file that cannot be read is recorded.
        `layout`: a CSV file's, when already known (not read again)."""
        result = self.result
        for name in paths:
            path = Path(name)
            try:
                rows, problems = read_rows(path, fmt, mapping, layout)
                result.notes.extend(problems)
                for row in rows:
                    result.rows_in[row.file] += 1
                    yield row
            except ReadError as err:
                result.unreadable.append(str(err))

    def in_parallel(
        self,
        paths: list[str],
        fmt: Format,
        mapping: Mapping[str, str] | None,
        workers: int,
        progress: Callable[[int], None] | None,
        details: bool = True,
    ) -> None:
        """Every row built, validated and encoded by `workers` processes and taken in row
        order; a few jobs ahead at most, so memory stays flat."""
        pending: deque[tuple[_Rows, AsyncResult[list[Outcome]]]] = deque()
        how = (self.base_url, self.reject_invalid, details)
        with _pool_context().Pool(workers) as pool:
            for rows, payload in self.jobs(paths, fmt, mapping):
                job: Job = ("csv" if isinstance(rows, tuple) else "rows", payload, how)
                pending.append((rows, pool.apply_async(_work, (job,))))
                while len(pending) > 2 * workers:
                    self._take(*pending.popleft(), progress)
            while pending:
                self._take(*pending.popleft(), progress)

    def jobs(
        self, paths: list[str], fmt: Format, mapping: Mapping[str, str] | None
    ) -> Iterator[tuple[_Rows, Any]]:
        """The work for the workers: pieces of CSV files they read themselves (with the
        file, header and columns they need), or chunks of rows read here."""
        for name in paths:
            path = Path(name)
            try:
                layout, split = self._split_csv(path, fmt, mapping)
                if split is None:
                    rows = self.rows([name], fmt, mapping, layout)
                    while chunk := list(islice(rows, CHUNK)):
                        yield chunk, chunk
                    continue
                assert layout is not None
                columns, pieces = split
                where = (name, columns.names)
                for piece, lines_before in pieces:
                    yield where, (layout.params(), columns.made_from, piece, lines_before)
            except ReadError as err:
                self.result.unreadable.append(str(err))

    @staticmethod
    def _split_csv(
        path: Path, fmt: Format, mapping: Mapping[str, str] | None
    ) -> tuple[CsvLayout | None, tuple[Columns, Iterator[tuple[bytes, int]]] | None]:
        """A CSV file's layout, and its columns and pieces when it can be cut; (layout, None)
        for the CSV files that cannot be cut (lone carriage returns, escaped quotes, UTF-16),
        (None, None) for other files."""
        if not path.is_file() or detect_format(path, fmt) != "csv":
            return None, None
        layout = csv_layout(path)
        found = csv_pieces(path, layout, PIECE_BYTES) if layout.splittable else None
        if found is None:
            return layout, None
        number, headers, pieces = found
        return layout, (Columns(str(path), number, headers, mapping), pieces)

    def _take(
        self, rows: _Rows, done: AsyncResult[list[Outcome]], progress: Callable[[int], None] | None
    ) -> None:
        """Pass on a job's records (or reject its rows) in row order, as `accept` does, in
        one loop: this process passes on every record of a parallel import, so its share is
        kept small. A CSV piece's rows are known by their numbers only."""
        outcomes = done.get()
        wheres: Sequence[_Where]
        if isinstance(rows, tuple):
            file, names = rows
            self.result.rows_in[file] += len(outcomes)
            wheres = [(file, outcome[0], names) for outcome in outcomes]
        else:
            wheres = rows
        result, seen, sink = self.result, self.seen, self.sink
        make = ImportedClub.encoded_by_worker
        accepted = valid_ones = changes = 0
        for where, outcome in zip(wheres, outcomes, strict=True):
            if len(outcome) == 2:
                self.reject(_source_row(where), outcome[1])
                continue
            _, identifier, line, valid, change_count, packed, failures = outcome
            if identifier in seen:
                row = _source_row(where)
                self._repeats(identifier, row.file, row.sheet, row.row)
                continue
            if isinstance(where, tuple):
                seen[identifier] = (where[0], None, where[1])
            else:
                seen[identifier] = (where.file, where.sheet, where.row)
            if self.reject_invalid and not valid:
                self._refuse_invalid(_source_row(where), failures)
                continue
            accepted += 1
            valid_ones += valid
            changes += change_count
            sink(make(line, where, valid, change_count, packed))
        result.accepted += accepted
        result.valid += valid_ones
        result.changes += changes
        if progress:
            progress(len(outcomes))

    def reject(self, row: SourceRow, reason: str) -> None:
        self.result.rejects.append(
            RowProblem(row.file, row.row, reason, sheet=row.sheet, column=row.columns.get("name"))
        )

    def _repeats(self, identifier: str, file: str, sheet: str | None, number: int) -> bool:
        """Whether an earlier row made the same club (reported as a late reject)."""
        first = self.seen.get(identifier)
        if first is None:
            self.seen[identifier] = (file, sheet, number)
            return False
        where = SourceRow(first[0], first[2], {}, sheet=first[1]).where()
        self.late.append(
            RowProblem(
                file,
                number,
                f"the same club as {where} (same name and place, so the same @id {identifier})",
                sheet=sheet,
            )
        )
        return True

    def _refuse_invalid(self, row: SourceRow, failures: str) -> None:
        self.late.append(
            RowProblem(row.file, row.row, f"invalid record ({failures})", sheet=row.sheet)
        )

    def _pass_on(self, club: ImportedClub) -> None:
        result = self.result
        result.accepted += 1
        result.valid += club.valid
        result.changes += club.change_count
        self.sink(club)

    def accept(self, item: Built) -> None:
        """Validate a built record and pass it on, unless it repeats an earlier club or
        (with reject_invalid) fails validation."""
        row = item.row
        if self._repeats(item.record["@id"], row.file, row.sheet, row.row):
            return
        club = ImportedClub(item.record, item.row, item.changes, check_record(item.record))
        if self.reject_invalid and not club.valid:
            self._refuse_invalid(item.row, _failures(club.issues))
            return
        self._pass_on(club)

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
