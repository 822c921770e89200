"""Importing club lists: read every file, build records, geocode, validate, and account for
every row (accepted into a record, or rejected with its reason)."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    clubs: list[ImportedClub] = field(default_factory=list)
    rejects: list[RowProblem] = field(default_factory=list)
    notes: list[RowProblem] = field(default_factory=list)  # problems of rows still accepted
    unreadable: list[str] = field(default_factory=list)  # files that could not be read
    rows_in: Counter[str] = field(default_factory=Counter)

    @property
    def rows(self) -> int:
        return sum(self.rows_in.values())

    def summary(self) -> dict[str, Any]:
        valid = sum(1 for c in self.clubs if c.valid)
        return {
            "rows": self.rows,
            "accepted": len(self.clubs),
            "rejected": len(self.rejects),
            "valid": valid,
            "with_failures": len(self.clubs) - valid,
            "changes": sum(len(c.changes) for c in self.clubs),
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
) -> ImportResult:
    """Import every file; a file that cannot be read is recorded, never fatal to the others."""
    with _bulk():
        return _import(paths, fmt, mapping, base_url, geocoder, reject_invalid, progress)


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


def _import(
    paths: list[str],
    fmt: Format,
    mapping: Mapping[str, str] | None,
    base_url: str,
    geocoder: Geocoder | None,
    reject_invalid: bool,
    progress: Callable[[int], None] | None,
) -> ImportResult:
    result = ImportResult()
    built: list[Built] = []
    for name in paths:
        path = Path(name)
        try:
            rows, problems = read_rows(path, fmt, mapping)
            result.notes.extend(problems)
            for row in rows:
                result.rows_in[row.file] += 1
                outcome = build_record(row, base_url)
                if isinstance(outcome, str):
                    result.rejects.append(
                        RowProblem(
                            row.file,
                            row.row,
                            outcome,
                            sheet=row.sheet,
                            column=row.columns.get("name"),
                        )
                    )
                else:
                    built.append(outcome)
                if progress:
                    progress(1)
        except ReadError as err:
            result.unreadable.append(str(err))
    if geocoder is not None:
        _geocode(built, geocoder)
    seen: dict[str, Built] = {}
    for item in built:
        record = item.record
        first = seen.get(record["@id"])
        if first is not None:
            result.rejects.append(
                RowProblem(
                    item.row.file,
                    item.row.row,
                    f"the same club as {first.row.where()} "
                    f"(same name and place, so the same @id {record['@id']})",
                    sheet=item.row.sheet,
                )
            )
            continue
        seen[record["@id"]] = item
        issues = check_record(record)
        failures = [i for i in issues if i.severity == "failure"]
        if reject_invalid and failures:
            reasons = "; ".join(sorted({f"{i.path}: {i.type}" for i in failures}))
            result.rejects.append(
                RowProblem(
                    item.row.file, item.row.row, f"invalid record ({reasons})", sheet=item.row.sheet
                )
            )
            continue
        result.clubs.append(ImportedClub(record, item.row, item.changes, issues))
    return result


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
