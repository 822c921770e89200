"""How many club records openclubs validates per second, on one core.

The record is the Club Specification 0.2 Example 3 shape (made valid JSON, the activity @id's
stray backslash removed), varied per record so that no cache flatters the figure: names,
telephone numbers (Ofcom's drama ranges, e.g. "020 7946 0xxx"), postcodes, coordinates,
activities (real Activity List ids) and amenities all change. (What does repeat is what
repeats in real data too: the same governing body names, the same amenity objects, and the
issues they give, which the validator shares between records.) Two measurements:

* ``check_record`` on already parsed dicts (the engine alone), and
* ``validate`` on the JSON text of each record (parsing and line numbers included).

When Node and the official validator are installed (``scripts/setup.sh``), it also runs
``build/shared/peers/dmv-bench.js`` on one record of the same shape and prints the ratio.
Figures only; no assertions.

    .venv/bin/python benchmarks/validate.py [--n 20000] [--repeat 3] [--no-official]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from openclubs.validate import validate
from openclubs.validate.engine import check_record
from openclubs.vocab import activity_list

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "build" / "shared" / "peers"
AL = "https://openactive.io/activity-list"

# Ofcom's numbers reserved for drama (never allocated): realistic and harmless.
PHONE_RANGES = (
    "020 7946 0{:03d}",
    "020 8396 0{:03d}",
    "0113 496 0{:03d}",
    "0114 496 0{:03d}",
    "0115 496 0{:03d}",
    "0116 496 0{:03d}",
    "0117 496 0{:03d}",
    "0118 496 0{:03d}",
    "0121 496 0{:03d}",
    "0131 496 0{:03d}",
    "0141 496 0{:03d}",
    "0151 496 0{:03d}",
    "0161 496 0{:03d}",
    "01632 960{:03d}",
)
# (town, region, outward codes, latitude, longitude)
TOWNS = (
    ("Greenwich", "London", ("SE10", "SE3", "SE7"), 51.4826, 0.0077),
    ("Hackney", "London", ("E8", "E9", "E5", "N16"), 51.5450, -0.0553),
    ("Manchester", "Greater Manchester", ("M1", "M4", "M14", "M20"), 53.4808, -2.2426),
    ("Leeds", "West Yorkshire", ("LS1", "LS6", "LS11", "LS17"), 53.8008, -1.5491),
    ("Bristol", "Bristol", ("BS1", "BS3", "BS7", "BS16"), 51.4545, -2.5879),
    ("Kendal", "Cumbria", ("LA9",), 54.3280, -2.7463),
    ("Bedford", "Bedfordshire", ("MK40", "MK41", "MK42"), 52.1360, -0.4667),
    ("Glasgow", "Glasgow City", ("G1", "G3", "G12", "G41"), 55.8642, -4.2518),
    ("Cardiff", "Cardiff", ("CF10", "CF11", "CF14", "CF24"), 51.4816, -3.1791),
    ("Belfast", "County Antrim", ("BT1", "BT7", "BT9"), 54.5973, -5.9301),
    ("Tamworth", "Staffordshire", ("B77", "B78", "B79"), 52.6339, -1.6958),
    ("Norwich", "Norfolk", ("NR1", "NR2", "NR4"), 52.6309, 1.2974),
)
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
STREETS = ("Peartree Way", "Station Road", "Park Lane", "Mill Lane", "Church Street", "The Green")
KINDS = ("Club", "Sports Club", "Athletic Club", "Community Club", "Association")
NGBS = ("Royal Yachting Association", "British Rowing", "England Athletics", "Swim England")
AMENITIES = (
    ("Changing Facilities", "ChangingFacilities"),
    ("Showers", "Showers"),
    ("Toilets", "Toilets"),
    ("Parking", "Parking"),
    ("Lockers", "Lockers"),
    ("Towels", "Towels"),
    ("Creche", "Creche"),
    ("Baby Changing", "BabyChanging"),
)


def example3() -> dict[str, Any]:
    """Club Spec 0.2 Example 3, made valid JSON (`\\#` → `#`, trailing commas and the missing
    brace fixed). Its "UK" country code is kept: the spec's own example fails on it."""
    return {
        "@context": "https://openactive.io/",
        "@type": "Organization",
        "@id": "https://opensessions.io/api/id/organizers/2572",
        "name": "Greenwich Yacht Club",
        "description": "Community amateur sports club focused on getting people sailing.",
        "url": "http://www.greenwichyachtclub.co.uk",
        "sameAs": [
            "http://www.greenwichyachtclub.co.uk",
            "https://www.facebook.com/GreenwichYachtClub/",
            "https://www.twitter.com/greenwichYC",
        ],
        "email": "training@greenwichyachtclub.co.uk",
        "telephone": "02083960321",
        "alternateName": ["GYC"],
        "memberOf": "Royal Yachting Association",
        "activity": [
            {
                "@id": AL + "#d2733a1c-662c-427a-a270-400171c07320",
                "@type": "Concept",
                "inScheme": AL,
                "prefLabel": "Rowing",
            }
        ],
        "location": {
            "@type": "Place",
            "name": "Greenwich Yacht Club, London SE10 0BW, UK",
            "geo": {"@type": "GeoCoordinates", "latitude": 51.4955, "longitude": 0.018473},
            "address": {
                "@type": "PostalAddress",
                "streetAddress": "Greenwich Yacht Club, Peartree Wharf, 1 Peartree Way",
                "addressLocality": "Greenwich",
                "addressRegion": "London",
                "postalCode": "SE10 0BW",
                "addressCountry": "UK",
            },
            "amenityFeature": [
                {"name": name, "@type": kind, "value": i < 4}
                for i, (name, kind) in enumerate(AMENITIES)
            ],
        },
    }


def generate(n: int, seed: int) -> list[dict[str, Any]]:
    """`n` records of the Example 3 shape, all different. About 1 in 12 keeps the example's
    "UK" country code and 1 in 25 has a malformed postcode, so some records have failures."""
    rng = random.Random(seed)
    concepts = [c for c in activity_list() if c.scheme == AL]
    records = []
    for i in range(n):
        town, region, outwards, lat, lon = rng.choice(TOWNS)
        chosen = rng.sample(concepts, rng.choice((1, 1, 1, 2, 3)))
        main = chosen[0].pref_label
        name = f"{town} {main} {rng.choice(KINDS)}"
        slug = "".join(ch for ch in f"{town}{main}{i}".lower() if ch.isascii() and ch.isalnum())
        postcode = (
            f"{rng.choice(outwards)} {rng.randrange(10)}"
            f"{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        )
        if i % 25 == 7:
            postcode = postcode.replace("0", "O").replace("1", "I") + "X"
        rec = example3()
        rec["@id"] = f"https://clubs.example.org/id/{i}"
        rec["name"] = name
        rec["description"] = (
            f"{name}: {main.lower()} for all ages and abilities since {1900 + i % 120}."
        )
        rec["url"] = f"https://www.{slug}.org.uk/"
        rec["sameAs"] = [f"https://www.facebook.com/{slug}/", f"https://www.instagram.com/{slug}/"]
        rec["email"] = f"{rng.choice(('info', 'secretary', 'membership'))}@{slug}.org.uk"
        rec["telephone"] = rng.choice(PHONE_RANGES).format(rng.randrange(1000))
        rec["alternateName"] = ["".join(w[0] for w in name.split())]
        rec["memberOf"] = rng.choice(NGBS)
        rec["activity"] = [c.reference() for c in chosen]
        place = rec["location"]
        place["name"] = f"{name} club house"
        place["geo"]["latitude"] = round(lat + rng.uniform(-0.08, 0.08), rng.choice((4, 5, 6)))
        place["geo"]["longitude"] = round(lon + rng.uniform(-0.08, 0.08), rng.choice((4, 5, 6)))
        address = place["address"]
        address["streetAddress"] = f"{rng.randrange(1, 300)} {rng.choice(STREETS)}"
        address["addressLocality"] = town
        address["addressRegion"] = region
        address["postalCode"] = postcode
        address["addressCountry"] = "UK" if i % 12 == 5 else "GB"
        place["amenityFeature"] = [
            {"name": a, "@type": t, "value": rng.random() < 0.6}
            for a, t in rng.sample(AMENITIES, rng.randrange(2, len(AMENITIES) + 1))
        ]
        records.append(rec)
    return records


def measure(run: Callable[[Any], int], items: Sequence[Any], repeat: int) -> tuple[float, int]:
    """Best (largest) records/second over `repeat` passes, and the issues found per pass."""
    rates = []
    issues = 0
    for _ in range(repeat):
        start = time.perf_counter()
        issues = sum(run(item) for item in items)
        rates.append(len(items) / (time.perf_counter() - start))
    return max(rates), issues


def official(record: dict[str, Any], n: int, warmup: int) -> dict[str, Any] | None:
    node = shutil.which("node")
    bench = PEERS / "dmv-bench.js"
    if node is None or not (PEERS / "node" / "node_modules").is_dir() or not bench.is_file():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "club.json"
        path.write_text(json.dumps(record), encoding="utf-8")
        done = subprocess.run(
            [node, str(bench), str(path), str(n), "--warmup", str(warmup)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0 or not done.stdout.strip():
        print(f"official validator: dmv-bench.js failed ({done.returncode}): {done.stderr[-500:]}")
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="records to generate")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best is reported")
    parser.add_argument("--seed", type=int, default=2572)
    parser.add_argument("--official-n", type=int, default=100, help="dmv-bench.js N")
    parser.add_argument("--official-warmup", type=int, default=10)
    parser.add_argument("--no-official", action="store_true", help="skip the Node validator")
    args = parser.parse_args(argv)

    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if cores:
        os.sched_setaffinity(0, {min(cores)})  # openclubs on one core

    start = time.perf_counter()
    activity_list()  # loading the vocabulary is a one-off start-up cost, timed apart
    load_ms = (time.perf_counter() - start) * 1000
    records = generate(args.n, args.seed)
    texts = [json.dumps(r, indent=2, ensure_ascii=False) for r in records]
    for rec in generate(200, args.seed + 1):  # warm up the code paths, not the caches
        check_record(rec)

    # The inputs are all held in memory only so that the loop times the validator alone; a
    # validator reading a file or feed keeps one record at a time. Left to itself, the cyclic
    # garbage collector walks these millions of input objects again and again, which is no
    # part of validating; so the main figures are taken with the inputs frozen (gc.freeze),
    # and the figure without that is printed too.
    rate_unfrozen, _ = measure(lambda r: len(check_record(r)), records, args.repeat)
    gc.freeze()
    rate_dict, issues_dict = measure(lambda r: len(check_record(r)), records, args.repeat)
    rate_text, issues_text = measure(lambda t: len(validate(t).issues), texts, args.repeat)
    failures = sum(1 for r in records if any(i.severity == "failure" for i in check_record(r)))

    print(f"python {platform.python_version()} on {platform.machine()}, one core")
    print(f"records: {args.n} generated (Example 3 shape), {failures} with failures")
    print(f"vocabulary load (once): {load_ms:.0f} ms")
    print(
        f"check_record (parsed dicts): {rate_dict:,.0f} records/s, "
        f"{1e6 / rate_dict:.1f} µs/record, {issues_dict:,} issues "
        f"({issues_dict / args.n:.2f}/record); without gc.freeze: {rate_unfrozen:,.0f} records/s"
    )
    print(
        f"validate (JSON text):        {rate_text:,.0f} records/s, "
        f"{1e6 / rate_text:.1f} µs/record, {issues_text:,} issues "
        f"({issues_text / args.n:.2f}/record)"
    )
    if args.no_official:
        return 0
    # The official validator gets the same shape, valid (GB), with a fixed activity.
    sample = generate(1, args.seed)[0]
    sample["location"]["address"]["addressCountry"] = "GB"
    sample["activity"] = example3()["activity"]
    if cores:
        os.sched_setaffinity(0, cores)  # Node as dmv-bench.js is normally run
    result = official(sample, args.official_n, args.official_warmup)
    if result is None:
        print("official validator: not installed (run scripts/setup.sh); no ratio")
        return 0
    theirs = float(result["items_per_second"])
    print(
        f"official dmv (node {result.get('node', '?')}): {theirs:,.1f} records/s, "
        f"{result['ms_per_item']:.1f} ms/record, {result['messages_per_item']} messages/record "
        f"(n={result['n']}, warm-up {result['warmup']})"
    )
    print(
        f"ratio ours/official: check_record {rate_dict / theirs:,.0f}x, "
        f"validate(text) {rate_text / theirs:,.0f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
