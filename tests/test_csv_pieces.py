"""Reading a CSV file in pieces (what `read_csv` and an import's workers do) gives the rows
the csv module gives reading the whole file line by line: the same values under the same row
numbers, for messy text that mixes plain lines (split directly) with quoted cells (read by
the csv reader)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from openclubs.ingest.tabular import (
    Columns,
    CsvLayout,
    csv_header,
    csv_layout,
    csv_piece_rows,
    read_csv,
)

HEADERS = ["Club Name", "Website", "Email", "Phone", "Town", "County", "Postcode", "Sport"]
PIECES = [
    "Barrow Cricket Club",
    "www.barrowcc.org.uk",
    "secretary@barrowcc.org.uk",
    "020 7946 0123",
    "Kendal",
    "Cumbria",
    "LA9 4AB",
    "Cricket",
    "",
    "   ",
    '5" Gun Rifle Club',
    "Café Élan",
    "St. Helens",
]


def _cell(rng: random.Random, delimiter: str) -> str:
    text = rng.choice(PIECES)
    roll = rng.random()
    if roll < 0.15:  # a quoted cell, sometimes over several lines, with doubled quotes
        inner = text.replace('"', '""')
        if rng.random() < 0.5:
            inner += rng.choice(["\nUnit 4", "\r\nMoor Lane", '\n""A"" pitch\n', f"{delimiter} x"])
        return f'"{inner}"'
    if roll < 0.2:
        return f"{text} and {text}"
    return text


def _register(rng: random.Random, delimiter: str, crlf: bool, spaced: bool) -> str:
    end = "\r\n" if crlf else "\n"
    lines = [delimiter.join(HEADERS)]
    for _ in range(300):
        if rng.random() < 0.05:
            lines.append(rng.choice(["", delimiter * 7, "   "]))
            continue
        gap = delimiter + (" " if spaced and rng.random() < 0.3 else "")
        lines.append(gap.join(_cell(rng, delimiter) for _ in range(rng.randint(6, 9))))
    return end.join(lines) + (end if rng.random() < 0.7 else "")


def _by_the_csv_module(path: Path, layout: CsvLayout) -> list[tuple[int, dict[str, Any]]]:
    """The rows as the csv reader gives them over the whole file: each numbered by the line
    it starts on, rows without a value left out, the first such row the header."""
    rows: list[tuple[int, dict[str, Any]]] = []
    columns = None
    with path.open(encoding=layout.encoding, errors=layout.errors, newline="") as handle:
        reader = layout.reader(handle)
        start = 1
        for values in reader:
            if any(value.strip() for value in values):
                if columns is None:
                    columns = Columns(str(path), start, values, None)
                else:
                    rows.append((start, columns.source_row(start, values).fields))
            start = reader.line_num + 1
    return rows


@pytest.mark.parametrize("seed", range(12))
def test_a_piece_reads_as_the_whole_file_reads(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    delimiter = rng.choice([",", ";", "\t", "|"])
    text = _register(rng, delimiter, crlf=seed % 2 == 1, spaced=seed % 3 == 0)
    path = tmp_path / "clubs.csv"
    path.write_bytes(text.encode("utf-8" if seed % 4 else "cp1252", "replace"))
    layout = csv_layout(path)
    assert layout.splittable and layout.delimiter == delimiter
    whole = _by_the_csv_module(path, layout)
    assert [(r.row, r.fields) for r in read_csv(path)] == whole
    data = path.read_bytes()
    header = csv_header(layout, data)
    assert header is not None
    number, cells, lines = header
    offset = 0
    for _ in range(lines):
        offset = data.index(b"\n", offset) + 1
    columns = Columns(str(path), number, cells, None)
    pieces = [(r.row, r.fields) for r in csv_piece_rows(layout, columns, data[offset:], lines)]
    assert pieces == whole
    assert len(whole) > 250
    # quoted cells over several lines were among them
    assert any("\n" in str(value) for _, fields in whole for value in fields.values())
