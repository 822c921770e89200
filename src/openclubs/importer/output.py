"""Writing imported records (JSON Lines, a JSON array or one file per club), the rejects
report (CSV) and the log of changes and issues (JSON)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Literal

import orjson

from openclubs.importer.run import ImportedClub, ImportResult

OutputKind = Literal["jsonl", "json", "files"]


def output_kind(out: str | None, declared: str | None = None) -> OutputKind:
    if declared in ("jsonl", "json", "files"):
        return declared  # type: ignore[return-value]
    if out is None or out == "-":
        return "jsonl"
    if out.endswith(("/", "\\")) or Path(out).is_dir():
        return "files"
    return "json" if out.lower().endswith((".json", ".jsonld")) else "jsonl"


def write_records(clubs: Iterable[ImportedClub], out: IO[bytes] | Path, kind: OutputKind) -> int:
    writer = RecordWriter(out, kind)
    for club in clubs:
        writer.write(club)
    return writer.close()


class RecordWriter:
    """Writes records one at a time, as a streamed import makes them: JSON Lines, one JSON
    array, or one file per club in a directory. `close` ends the array and returns the
    count; it does not close `out`."""

    def __init__(self, out: IO[bytes] | Path, kind: OutputKind) -> None:
        self.out = out
        self.kind = kind
        self.count = 0
        if kind == "files":
            assert isinstance(out, Path)
            out.mkdir(parents=True, exist_ok=True)
        elif kind == "json":
            assert not isinstance(out, Path)
            out.write(b"[\n")

    def write(self, club: ImportedClub) -> None:
        out = self.out
        if self.kind == "jsonl":  # the common case first: one line a record
            out.write(club.line)  # type: ignore[union-attr]  # a file, not a directory
        elif isinstance(out, Path):
            name = _UNSAFE.sub("-", club.record["@id"].rstrip("/").rpartition("/")[2])
            (out / f"{name or 'club'}.jsonld").write_bytes(
                orjson.dumps(club.record, option=orjson.OPT_INDENT_2) + b"\n"
            )
        elif self.kind == "json":
            out.write(b",\n" if self.count else b"")
            out.write(orjson.dumps(club.record, option=orjson.OPT_INDENT_2))
        self.count += 1

    def close(self) -> int:
        if self.kind == "json" and not isinstance(self.out, Path):
            self.out.write(b"\n]\n")
        return self.count


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def write_rejects(result: ImportResult, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "sheet", "row", "column", "reason"])
        labelled = [("", p) for p in result.rejects] + [("(accepted) ", p) for p in result.notes]
        for kind, problem in labelled:
            writer.writerow(
                [
                    problem.file,
                    problem.sheet or "",
                    problem.row,
                    problem.column or "",
                    kind + problem.reason,
                ]
            )
        for message in result.unreadable:
            writer.writerow(["", "", "", "", f"file not read: {message}"])


def write_log(result: ImportResult, path: Path) -> None:
    doc = {
        "summary": result.summary(),
        "unreadable": result.unreadable,
        "rejected": [vars_of(p) for p in result.rejects],
        "notes": [vars_of(p) for p in result.notes],
        "records": [club.log_entry() for club in result.clubs],
    }
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")


def vars_of(problem: object) -> dict[str, object]:
    return {k: getattr(problem, k) for k in ("file", "sheet", "row", "column", "reason")}
