"""How fast club search answers, on a SQLite store of 1,000,000 generated clubs.

The clubs are spread like real ones: around 60 UK towns and cities in proportion to their
population (scattered more widely around bigger places), with activities drawn from a
weighted list of popular ones plus a long tail over the whole Activity List, one or two
activities and one or two places each. The store is filled through `Store.upsert` and the
search index built in bulk by the indexer's catch-up (timed), then the script prints
p50/p95 latency of `Search.search` (the whole query: catch-up check, candidates, sorting,
a page of 20 results, facet counts) for

  - activity + 10 km radius around a town (population-weighted, jittered), the main use;
  - activity + radius for a broad activity ("Martial Arts": the concept and 24 narrower);
  - text queries (a word and a town name, and a word alone);
  - facet queries (everything within 25 km, no activity: the facets count every club);
  - an activity alone, across the UK, listed by name;

next to a full-scan baseline on the same data: the same activity + radius queries answered
by one SQL statement that reads every indexed point without using the R*Tree. Figures only.
(A search by place counts exactly up to 200 clubs, then reports "at least": see
openclubs.search.engine; the page of nearest clubs is always exact.)

    .venv/bin/python benchmarks/search.py [--clubs 1000000] [--queries 300]
        [--db PATH (keep and reuse the store) [--reindex]]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from openclubs.search.engine import Search
from openclubs.search.place import Locator
from openclubs.search.query import parse_query
from openclubs.search.sqlite_index import EARTH_RADIUS_KM
from openclubs.store import SQLiteStore
from openclubs.vocab import activity_list

# (town, latitude, longitude, population in thousands): the UK's larger places
TOWNS = [
    ("London", 51.507, -0.128, 8900),
    ("Birmingham", 52.486, -1.890, 1140),
    ("Manchester", 53.480, -2.242, 550),
    ("Leeds", 53.801, -1.549, 790),
    ("Glasgow", 55.864, -4.252, 630),
    ("Sheffield", 53.381, -1.470, 580),
    ("Bradford", 53.796, -1.759, 540),
    ("Liverpool", 53.408, -2.992, 500),
    ("Edinburgh", 55.953, -3.188, 530),
    ("Bristol", 51.454, -2.588, 470),
    ("Cardiff", 51.481, -3.179, 360),
    ("Leicester", 52.637, -1.140, 370),
    ("Coventry", 52.407, -1.512, 370),
    ("Nottingham", 52.954, -1.158, 330),
    ("Newcastle", 54.978, -1.618, 300),
    ("Belfast", 54.597, -5.930, 340),
    ("Brighton", 50.823, -0.137, 290),
    ("Hull", 53.768, -0.333, 260),
    ("Plymouth", 50.376, -4.143, 260),
    ("Stoke", 53.003, -2.180, 260),
    ("Wolverhampton", 52.587, -2.129, 260),
    ("Derby", 52.922, -1.477, 260),
    ("Swansea", 51.621, -3.944, 240),
    ("Southampton", 50.910, -1.404, 250),
    ("Aberdeen", 57.150, -2.094, 200),
    ("Portsmouth", 50.805, -1.087, 210),
    ("York", 53.960, -1.087, 210),
    ("Peterborough", 52.573, -0.248, 200),
    ("Dundee", 56.462, -2.971, 150),
    ("Norwich", 52.630, 1.297, 140),
    ("Exeter", 50.718, -3.534, 130),
    ("Oxford", 51.752, -1.258, 150),
    ("Cambridge", 52.205, 0.122, 145),
    ("Ipswich", 52.059, 1.155, 140),
    ("Reading", 51.454, -0.978, 170),
    ("Milton Keynes", 52.041, -0.759, 230),
    ("Northampton", 52.240, -0.903, 220),
    ("Luton", 51.879, -0.417, 215),
    ("Preston", 53.763, -2.703, 145),
    ("Blackpool", 53.817, -3.036, 140),
    ("Middlesbrough", 54.574, -1.235, 140),
    ("Sunderland", 54.906, -1.381, 170),
    ("Gloucester", 51.865, -2.238, 130),
    ("Carlisle", 54.892, -2.932, 75),
    ("Lincoln", 53.230, -0.540, 100),
    ("Inverness", 57.478, -4.224, 50),
    ("Truro", 50.263, -5.051, 20),
    ("Aberystwyth", 52.415, -4.082, 19),
    ("Kendal", 54.328, -2.745, 29),
    ("Hereford", 52.056, -2.716, 60),
    ("Shrewsbury", 52.708, -2.754, 75),
    ("Chester", 53.193, -2.893, 80),
    ("Canterbury", 51.280, 1.079, 55),
    ("Bath", 51.381, -2.359, 95),
    ("Salisbury", 51.069, -1.795, 45),
    ("Stirling", 56.117, -3.937, 37),
    ("Perth", 56.396, -3.437, 47),
    ("Derry", 54.997, -7.309, 85),
    ("Wrexham", 53.046, -2.993, 65),
    ("Scarborough", 54.283, -0.400, 60),
]
POPULAR = [  # (activity, weight): roughly what club registers show
    ("Football", 150),
    ("Cricket", 60),
    ("Tennis", 45),
    ("Golf", 45),
    ("Swimming", 40),
    ("Rugby Union", 30),
    ("Bowls", 35),
    ("Netball", 25),
    ("Athletics", 20),
    ("Running", 30),
    ("Cycling", 25),
    ("Badminton", 20),
    ("Hockey", 15),
    ("Judo", 10),
    ("Karate", 12),
    ("Taekwondo", 8),
    ("Boxing", 12),
    ("Gymnastics", 15),
    ("Sailing", 12),
    ("Rowing", 8),
    ("Canoeing", 8),
    ("Table Tennis", 10),
    ("Squash", 8),
    ("Angling", 20),
    ("Walking", 15),
    ("Basketball", 10),
    ("Volleyball", 5),
    ("Archery", 5),
    ("Equestrian", 10),
    ("Darts", 8),
]
TAIL_SHARE = 0.2  # a fifth of the activities come from anywhere in the Activity List
WORDS = [
    "United",
    "Rovers",
    "Athletic",
    "Town",
    "City",
    "Amateur",
    "Community",
    "Juniors",
    "Wanderers",
    "Harriers",
    "Club",
    "Academy",
    "Vale",
    "Park",
    "Albion",
    "Rangers",
]


def weighted(rng: random.Random, items: list[tuple[Any, float]]) -> Callable[[], Any]:
    values = [v for v, _ in items]
    cumulative: list[float] = []
    total = 0.0
    for _, weight in items:
        total += weight
        cumulative.append(total)

    def draw() -> Any:
        return rng.choices(values, cum_weights=cumulative, k=1)[0]

    return draw


def generate(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`count` Club Spec records spread like real clubs (deterministic for a seed)."""
    rng = random.Random(seed)
    scheme = activity_list()
    concepts = {c.pref_label: c.reference() for c in scheme}
    everything = list(concepts.values())
    popular = weighted(rng, [(concepts[label], w) for label, w in POPULAR])
    town = weighted(rng, [(t, t[3]) for t in TOWNS])
    for n in range(count):
        name, lat0, lon0, population = town()
        spread = 0.02 + 0.0012 * math.sqrt(population)  # degrees: wider round bigger places
        places = []
        for p in range(1 if rng.random() < 0.9 else 2):
            lat = lat0 + rng.gauss(0, spread)
            lon = lon0 + rng.gauss(0, spread * 1.6)
            places.append(
                {
                    "@type": "Place",
                    "name": f"{name} Ground {p + 1}",
                    "geo": {
                        "@type": "GeoCoordinates",
                        "latitude": round(lat, 5),
                        "longitude": round(lon, 5),
                    },
                    "address": {"@type": "PostalAddress", "addressLocality": name},
                }
            )
        activities = [
            rng.choice(everything) if rng.random() < TAIL_SHARE else popular()
            for _ in range(1 if rng.random() < 0.8 else 2)
        ]
        word = rng.choice(WORDS)
        record: dict[str, Any] = {
            "@context": "https://openactive.io/",
            "@type": "SportsClub",
            "@id": f"https://bench.example.org/clubs/c{n:07d}",
            "name": f"{name} {word} {activities[0]['prefLabel']} Club",
            "description": f"A {activities[0]['prefLabel'].lower()} club in {name} for "
            "players of every standard.",
            "url": f"https://c{n}.example.org/",
            "activity": activities,
            "location": places if len(places) > 1 else places[0],
        }
        if rng.random() < 0.3:
            low = rng.choice([4, 5, 7, 11, 16, 18])
            record["ageRange"] = {"@type": "QuantitativeValue", "minValue": low}
            if rng.random() < 0.5:
                record["ageRange"]["maxValue"] = low + rng.choice([6, 10, 40])
        if rng.random() < 0.4:
            record["genderRestriction"] = rng.choice(
                ["https://openactive.io/NoRestriction"] * 8
                + ["https://openactive.io/FemaleOnly", "https://openactive.io/MaleOnly"]
            )
        yield record


def build(path: Path, clubs: int) -> tuple[float, float]:
    store = SQLiteStore(path)
    store.migrate()
    start = time.perf_counter()
    records = generate(clubs)
    while chunk := list(islice(records, 20_000)):
        store.upsert(((record, None, []) for record in chunk), "bench")
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    Search(store).catch_up(batch=5000)
    indexed = time.perf_counter() - start
    store.close()
    return loaded, indexed


def reindex(path: Path) -> float:
    """Drop the search index of an existing store and build it again in bulk (timed)."""
    store = SQLiteStore(path)
    tables = store._db.execute(
        "SELECT name FROM sqlite_master WHERE name LIKE 'search_%' AND type = 'table' "
        "AND sql IS NOT NULL AND name NOT LIKE 'search_geo_%' AND name NOT LIKE 'search_text_%'"
    ).fetchall()
    for (table,) in tables:
        store._db.execute(f"DROP TABLE IF EXISTS {table}")
    store._db.execute("DELETE FROM schema_parts WHERE name = 'search'")
    store.migrate()
    start = time.perf_counter()
    Search(store).catch_up(batch=5000)
    store.close()
    return time.perf_counter() - start


def centre(rng: random.Random) -> str:
    _name, lat, lon, _ = rng.choices(TOWNS, weights=[t[3] for t in TOWNS], k=1)[0]
    return f"{lat + rng.gauss(0, 0.03):.5f},{lon + rng.gauss(0, 0.05):.5f}"


def measure(search: Search, queries: list[dict[str, str]]) -> tuple[list[float], list[int]]:
    locator = Locator(None, None)
    times, totals = [], []
    for params in queries:
        query = parse_query({k: [v] for k, v in params.items()}, locator)
        start = time.perf_counter()
        found = search.search(query)
        times.append((time.perf_counter() - start) * 1000)
        totals.append(found.total)
    return times, totals


def scan(store: SQLiteStore, search: Search, queries: list[dict[str, str]]) -> list[float]:
    """The same activity + radius queries answered by one statement that reads every
    indexed point (`search_points`: club, activity code, exact coordinates) without an
    index (`+code`), computing the same distances: the page of the 20 nearest."""
    codes = search.backend.codes()
    scheme = activity_list()
    times = []
    for params in queries:
        concept = scheme.find(params["activity"])
        assert concept is not None
        wanted = sorted(
            codes[i] for i in {concept.id} | scheme.narrower_ids(concept.id) if i in codes
        )
        lat, lon = (float(x) for x in params["near"].split(","))
        sql = (
            "SELECT club, min(2 * ? * asin(min(1.0, sqrt(power(sin(radians(lat - ?) / 2), 2) "
            "+ cos(radians(?)) * cos(radians(lat)) * power(sin(radians(lon - ?) / 2), 2))))) "
            f"AS distance FROM search_points WHERE +code IN ({','.join('?' * len(wanted))}) "
            "GROUP BY club HAVING distance <= ? ORDER BY distance LIMIT 20"
        )
        start = time.perf_counter()
        store._db.execute(sql, (EARTH_RADIUS_KM, lat, lat, lon, *wanted, 10.0)).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    return times


def percentiles(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clubs", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--db", help="keep the store here (reused when it exists)")
    parser.add_argument("--reindex", action="store_true", help="rebuild a reused store's index")
    args = parser.parse_args()
    folder = None if args.db else tempfile.TemporaryDirectory(prefix="openclubs-search-")
    path = Path(args.db) if args.db else Path(folder.name) / "search.sqlite3"  # type: ignore[union-attr]
    if not path.exists():
        print(f"building {args.clubs:,} clubs in {path} ...", file=sys.stderr, flush=True)
        loaded, indexed = build(path, args.clubs)
        print(
            f"store filled in {loaded:.0f} s; search index built in bulk in {indexed:.0f} s",
            flush=True,
        )
    elif args.reindex:
        print(f"search index rebuilt in bulk in {reindex(path):.0f} s", flush=True)
    store = SQLiteStore(path)
    store.migrate()  # a kept store may predate a search migration
    search = Search(store)
    search.catch_up()
    clubs = store.counts().get("updated", 0)
    points = store._db.execute("SELECT count(*) FROM search_geo").fetchone()[0]
    print(f"{clubs:,} clubs, {points:,} (activity, place) entries in the R*Tree", flush=True)
    rng = random.Random(11)
    pick = weighted(rng, [(label, w) for label, w in POPULAR])
    radius = [
        {"activity": pick(), "near": centre(rng), "radius": "10"} for _ in range(args.queries)
    ]
    broad = [
        {"activity": "Martial Arts", "near": centre(rng), "radius": "10"}
        for _ in range(args.queries // 3)
    ]
    text = [{"q": f"{rng.choice(WORDS)} {rng.choice(TOWNS)[0]}"} for _ in range(args.queries // 3)]
    word = [{"q": rng.choice(WORDS[:8])} for _ in range(20)]
    facets = [{"near": centre(rng), "radius": "25"} for _ in range(args.queries // 6)]
    alone = [{"activity": pick()} for _ in range(args.queries // 6)]
    for params in radius[:10]:  # warm the page cache and the vocabulary
        search.search(parse_query({k: [v] for k, v in params.items()}, Locator(None, None)))
    rows = [
        ("activity + 10 km radius", radius),
        ("Martial Arts (25 concepts) + 10 km", broad),
        ("text: a word and a town", text),
        ("text: one common word", word),
        ("facets: all within 25 km", facets),
        ("activity alone, whole UK, by name", alone),
    ]
    print(
        f"{'query':38} {'n':>4}   latency (whole search, 20 results + facets)   mean hits",
        flush=True,
    )
    radius_p95 = 0.0
    for label, queries in rows:
        times, totals = measure(search, queries)
        print(
            f"{label:38} {len(queries):4}   {percentiles(times)}   {statistics.mean(totals):9.0f}",
            flush=True,
        )
        if label == "activity + 10 km radius":
            radius_p95 = sorted(times)[math.ceil(0.95 * len(times)) - 1]
    baseline = scan(store, search, radius[:10])
    print(
        f"{'full scan, activity + 10 km':38} {len(baseline):4}   {percentiles(baseline)}",
        flush=True,
    )
    speedup = statistics.median(baseline) / radius_p95 if radius_p95 else float("nan")
    print(
        f"index vs scan: the scan's median is {speedup:.0f}x the index's p95 "
        "(target: p95 <= 25 ms, >= 50x)"
    )
    store.close()
    if folder is not None:
        folder.cleanup()


if __name__ == "__main__":
    main()
