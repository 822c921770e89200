"""How many register rows `openclubs import` turns into records per second (no geocoding).

It writes a generated register of --rows rows (default 100,000) shaped like the real ones in
../shared/data: the HMRC CASC register's columns (Organisation Name, Address Line 1-4,
Postcode) with its habits (UPPER CASE names with trailing spaces, free-form address lines,
missing and malformed postcodes, C/O addresses, homonyms), plus the website, email, phone and
sport columns governing bodies add. Then it times the whole import: reading, cleaning,
building, validating and writing JSON Lines, streamed as `openclubs import -o FILE` does it
(each record written as soon as it is made, so memory stays flat), with the worker processes
`openclubs import` starts for a file this size (one per CPU; `--workers 1` times this process
alone, pinned to one core). --stages also times each stage alone. Figures only; no
assertions.

    .venv/bin/python benchmarks/import.py [--rows 100000] [--seed 7] [--workers N] [--stages]
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import orjson

from openclubs.cli.import_cmd import OUT_BUFFER, auto_workers
from openclubs.importer.build import build_record
from openclubs.importer.output import RecordWriter
from openclubs.importer.run import import_files, read_rows
from openclubs.validate.engine import check_record

WORDS = (
    "BARROW",
    "KENDAL",
    "GREENWICH",
    "HILLTOP",
    "RIVERSIDE",
    "ST. HELENS",
    "ABBEY",
    "MILLFIELD",
    "OLD ELTHAMIANS",
    "1066",
    "NORTH WEST",
    "VALLEY",
    "ASHFORD",
    "MCDONALD'S",
)
KINDS = (
    "CRICKET CLUB",
    "BOWLS CLUB",
    "FOOTBALL CLUB",
    "RFC",
    "ROWING CLUB",
    "RIFLE & PISTOL CLUB",
    "TENNIS CLUB",
    "GOLF CLUB",
    "SPORTS ASSOCIATION",
    "SWIMMING CLUB",
    "HOCKEY CLUB",
    "SAILING CLUB",
    "ATHLETIC CLUB",
    "BOXING CLUB",
    "NETBALL CLUB",
)
SPORTS = ("", "", "", "Cricket", "Football", "Bowls", "Tennis", "soccer", "Rowing, Sailing")
STREETS = ("Station Road", "Park Lane", "Mill Lane", "Church Street", "The Pavilion", "Rec Ground")
TOWNS = (
    ("Hastings", "East Sussex", "TN34"),
    ("Kendal", "Cumbria", "LA9"),
    ("Sheffield", "", "S4"),
    ("Greenwich", "London", "SE10"),
    ("Leeds", "West Yorkshire", "LS6"),
    ("Buxton", "Derbyshire", "SK17"),
    ("Abergavenny", "Monmouthshire", "NP7"),
)
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def generate(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            [
                "Organisation Name",
                "Address Line 1",
                "Address Line 2",
                "Address Line 3",
                "Address Line 4",
                "Postcode",
                "Website",
                "Email",
                "Phone",
                "Sport",
            ]
        )
        for i in range(rows):
            town, county, district = rng.choice(TOWNS)
            name = f"{rng.choice(WORDS)} {rng.choice(KINDS)} {i % 997 or ''}".strip()
            first = (
                f"C/O {rng.randint(1, 99)} Duthie Terrace"
                if rng.random() < 0.02
                else (f"{rng.randint(1, 200)} {rng.choice(STREETS)}")
            )
            postcode = f"{district} {rng.randint(0, 9)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
            roll = rng.random()
            if roll < 0.05:
                postcode = ""
            elif roll < 0.07:
                postcode = postcode.replace("0", "O").lower()
            slug = name.lower().replace(" ", "").replace("'", "")[:20]
            out.writerow(
                [
                    name + "   ",
                    first,
                    rng.choice(("", "Ore", "Saltley")),
                    town.upper(),
                    county,
                    postcode,
                    rng.choice(("", f"www.{slug}.org.uk", f"https://{slug}.example.org/")),
                    rng.choice(("", f"secretary@{slug}.org.uk", f"{slug}@gmail.com")),
                    rng.choice(
                        (
                            "",
                            f"020 7946 0{rng.randint(0, 999):03d}",
                            f"0113496{rng.randint(0, 9999):04d}",
                        )
                    ),
                    rng.choice(SPORTS),
                ]
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes building and validating (0: as `openclubs import` chooses, one per "
        "CPU for a file this size; 1: this one alone, pinned to one core)",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="also time reading, building, validating and writing each alone (per row)",
    )
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if args.workers == 1 and hasattr(os, "sched_getaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        cores = 1
    with tempfile.TemporaryDirectory() as tmp:
        register = Path(tmp) / "register.csv"
        generate(register, args.rows, args.seed)
        size_mb = register.stat().st_size / 1e6
        workers = args.workers or auto_workers((str(register),), True)
        start = time.perf_counter()
        cpu = time.process_time()
        children = _children_cpu()
        with (Path(tmp) / "out.jsonl").open("wb", buffering=OUT_BUFFER) as handle:
            writer = RecordWriter(handle, "jsonl")  # as `openclubs import -o out.jsonl` does
            result = import_files(
                [str(register)], sink=writer.write, workers=workers, details=False
            )
            written = writer.close()
        done = time.perf_counter()
        cpu = time.process_time() - cpu
        children = _children_cpu() - children
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if args.stages:
            stages = stage_costs(register)
    s = result.summary()
    how = "one core" if workers == 1 else f"{workers} workers on {cores} cores"
    print(f"python {sys.version.split()[0]}, {how}; register: {args.rows:,} rows, {size_mb:.1f} MB")
    print(
        f"rows = accepted + rejected: {s['rows']:,} = {s['accepted']:,} + {s['rejected']:,}; "
        f"{s['valid']:,} valid, {s['with_failures']:,} with failures; {s['changes']:,} changes"
    )
    print(
        f"import (read, clean, build, validate, write {written:,} JSON Lines): "
        f"{s['rows'] / (done - start):,.0f} rows/s ({done - start:.2f} s; CPU time "
        f"{cpu:.2f} s in this process, {s['rows'] / cpu:,.0f} rows per CPU second); "
        f"peak resident memory {peak:,.0f} MB"
        + (
            f" (each worker {worker_peak:,.0f} MB); CPU time in the workers {children:.2f} s "
            f"({children / s['rows'] * 1e6:.0f} µs a row)"
            if workers > 1
            else ""
        )
    )
    if args.stages:
        print(
            "per row (CPU time, each stage alone): "
            + ", ".join(f"{name} {micro:.1f} µs" for name, micro in stages.items())
        )
    return 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stage_costs(register: Path) -> dict[str, float]:
    """Each stage timed alone over every row, in CPU time (less disturbed than the clock by
    other processes on the machine): read, build, validate, write."""
    clock = time.process_time
    gc.disable()  # as during an import: the rows and records held here hold no cycles
    began = clock()
    rows, _ = read_rows(register)
    every = list(rows)
    read = clock()
    built = [b for b in (build_record(row) for row in every) if not isinstance(b, str)]
    building = clock()
    for item in built:
        check_record(item.record)
    validating = clock()
    for item in built:
        orjson.dumps(item.record)
    writing = clock()
    gc.enable()
    n = len(every) / 1e6
    return {
        "read": (read - began) / n,
        "build": (building - read) / n,
        "validate": (validating - building) / n,
        "write": (writing - validating) / n,
    }


if __name__ == "__main__":
    raise SystemExit(main())
