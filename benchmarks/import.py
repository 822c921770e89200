"""How many register rows `openclubs import` turns into records per second (no geocoding).

It writes a generated register of --rows rows (default 100,000) shaped like the real ones in
../shared/data: the HMRC CASC register's columns (Organisation Name, Address Line 1-4,
Postcode) with its habits (UPPER CASE names with trailing spaces, free-form address lines,
missing and malformed postcodes, C/O addresses, homonyms), plus the website, email, phone and
sport columns governing bodies add. Then it times the whole import: reading, cleaning,
building, validating and writing JSON Lines. Figures only; no assertions.

    .venv/bin/python benchmarks/import.py [--rows 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from openclubs.importer.output import write_records
from openclubs.importer.run import import_files

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
    args = parser.parse_args()
    if hasattr(os, "sched_getaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory() as tmp:
        register = Path(tmp) / "register.csv"
        generate(register, args.rows, args.seed)
        size_mb = register.stat().st_size / 1e6
        start = time.perf_counter()
        result = import_files([str(register)])
        built = time.perf_counter()
        with (Path(tmp) / "out.jsonl").open("wb") as handle:
            written = write_records(result.clubs, handle, "jsonl")
        done = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    s = result.summary()
    print(
        f"python {sys.version.split()[0]}, one core; register: {args.rows:,} rows, {size_mb:.1f} MB"
    )
    print(
        f"rows = accepted + rejected: {s['rows']:,} = {s['accepted']:,} + {s['rejected']:,}; "
        f"{s['valid']:,} valid, {s['with_failures']:,} with failures; {s['changes']:,} changes"
    )
    print(
        f"import (read, clean, build, validate): {s['rows'] / (built - start):,.0f} rows/s "
        f"({built - start:.2f} s)"
    )
    print(
        f"with writing {written:,} JSON Lines: {s['rows'] / (done - start):,.0f} rows/s "
        f"({done - start:.2f} s); peak resident memory {peak:,.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
