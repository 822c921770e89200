"""How fast the RPDE club feed is served, over HTTP on 127.0.0.1, from a large store.

Builds a SQLite store of --clubs clubs (default 1,000,000; realistic records of the Club Spec
Example 3 shape), serves it with uvicorn in a child process, then prints the time to serve the
first page, a middle page and the last page (median of 5 requests each), and the items per
second over a full walk of the feed by one client following `next`, and by two clients
walking at once (what the server serves in all), first clients that decode every page as a
harvester does, then light clients that only find `next` and count items (on this 2-core
machine, decoding clients take the cores the server would use). Figures only.

    .venv/bin/python benchmarks/feed.py [--clubs 1000000] [--workers N]
        [--db PATH (keep and reuse the store)]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from openclubs.store import SQLiteStore

BASE_TEMPLATE = "http://127.0.0.1:{port}"
CRICKET = {
    "@type": "Concept",
    "@id": "https://openactive.io/activity-list#77e3f8fa-c8b3-4e4e-bf1a-ff4b914bb6ec",
    "prefLabel": "Cricket",
    "inScheme": "https://openactive.io/activity-list",
}


def record(n: int, base: str) -> dict[str, Any]:
    return {
        "@context": "https://openactive.io/",
        "@type": "SportsClub",
        "@id": f"{base}/clubs/club-{n:07d}",
        "name": f"Club {n} Cricket Club",
        "description": "Community amateur sports club with junior and senior sections.",
        "url": f"https://club{n}.example.org/",
        "sameAs": [f"https://www.facebook.com/club{n}/"],
        "email": f"secretary@club{n}.example.org",
        "telephone": f"020 7946 0{n % 1000:03d}",
        "activity": [CRICKET],
        "location": {
            "@type": "Place",
            "name": f"Ground {n}",
            "geo": {
                "@type": "GeoCoordinates",
                "latitude": 50 + (n % 800) / 100,
                "longitude": -5 + (n % 600) / 100,
            },
            "address": {
                "@type": "PostalAddress",
                "streetAddress": f"{n % 300} High Street",
                "addressLocality": "York",
                "addressRegion": "North Yorkshire",
                "postalCode": "YO1 7HH",
                "addressCountry": "GB",
            },
        },
    }


def build(path: Path, clubs: int, base: str) -> float:
    store = SQLiteStore(path)
    store.migrate()
    start = time.perf_counter()
    batch = 20_000
    for first in range(0, clubs, batch):
        store.upsert(
            ((record(n, base), None, []) for n in range(first, min(first + batch, clubs))), "bench"
        )
    store.close()
    return time.perf_counter() - start


def serve(db: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """`openclubs serve` on the store, in a child process, as a publisher runs it."""
    command = [sys.executable, "-m", "openclubs", "serve", "--db", db, "--port", str(port)]
    command += ["--workers", str(workers), "--base-url", BASE_TEMPLATE.format(port=port)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(client: httpx.Client, url: str, n: int = 5) -> tuple[float, dict[str, Any]]:
    times, body = [], {}
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        body = response.json()
    return statistics.median(times), body


def full_walk(port: int, feed: str, parse: bool = True) -> tuple[int, int, float]:
    """Follow `next` from the first page to the last with one keep-alive connection (the
    standard library's client: lighter than httpx, so the figure is the server's).

    With `parse`, every page is decoded as a harvester would. Without it (a light client,
    to measure what the server can serve when the clients are not the bottleneck on this
    2-core machine), `next` is read from the page's head (openclubs writes it first), items
    are counted by their `{"state":` openings, and every 25th page is decoded in full to
    check that count."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    items = pages = 0
    url = feed
    start = time.perf_counter()
    while True:
        connection.request("GET", url.removeprefix(f"http://127.0.0.1:{port}"))
        raw = connection.getresponse().read()
        if parse or pages % 25 == 0:
            body = orjson.loads(raw)
            count, following = len(body["items"]), body["next"]
            if not parse:
                assert raw.count(b'{"state":') == count, "item count mismatch"
        else:
            head = orjson.loads(raw[: raw.index(b',"items":[')] + b"}")
            count, following = raw.count(b'{"state":'), head["next"]
        items += count
        pages += 1
        if not count and following == url:
            break
        url = following
    connection.close()
    return items, pages, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clubs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1, help="openclubs serve --workers")
    parser.add_argument(
        "--db", help="where to keep the store: built there if missing, reused if it exists"
    )
    args = parser.parse_args()
    port = free_port()
    base = BASE_TEMPLATE.format(port=port)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "feed.sqlite3"
        if not db.exists():
            seconds = build(db, args.clubs, base)
            print(
                f"store: {args.clubs:,} clubs written in {seconds:.1f} s "
                f"({args.clubs / seconds:,.0f}/s), {db.stat().st_size / 1e6:,.0f} MB"
            )
        server = serve(str(db), port, args.workers)
        try:
            feed = f"{base}/feeds/organizations"
            with httpx.Client(timeout=60) as client:
                for _ in range(100):
                    try:
                        client.get(base + "/catalog.jsonld")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                first, _ = timed(client, feed)
                middle_url = (
                    f"{feed}?afterTimestamp={args.clubs // 2}&afterId=club-{args.clubs // 2:07d}"
                )
                middle, _ = timed(client, middle_url)
                last_url = (
                    f"{feed}?afterTimestamp={args.clubs - 300}&afterId=club-{args.clubs - 300:07d}"
                )
                last, _ = timed(client, last_url)
                print(
                    f"first page {first * 1000:.1f} ms, middle page {middle * 1000:.1f} ms, "
                    f"last (partial) page {last * 1000:.1f} ms; last/first = {last / first:.2f}"
                )
                items, pages, walk = full_walk(port, feed)
                print(
                    f"full walk: {items:,} items in {pages:,} pages, {walk:.1f} s, "
                    f"{items / walk:,.0f} items/s (one client on loopback)"
                )
                for parse, who in (
                    (True, "clients that decode every page"),
                    (False, "light clients"),
                ):
                    with multiprocessing.Pool(2) as pool:
                        start = time.perf_counter()
                        walks = pool.starmap(full_walk, [(port, feed, parse), (port, feed, parse)])
                        both = time.perf_counter() - start
                    served = sum(w[0] for w in walks)
                    print(
                        f"two {who} walking at once: {served:,} items in {both:.1f} s, "
                        f"{served / both:,.0f} items/s served in all"
                    )
        finally:
            server.terminate()
            server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
