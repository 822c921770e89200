"""How fast, and in how much memory, a large RPDE feed is harvested: openclubs against the PyPI
`openactive` reader, on the same feed served on 127.0.0.1, in the same run, with the ceiling
any reader meets on this machine.

A child process serves a feed of --items club items (default 1,000,000; change-number
ordering, 500 items a page, each item a Club Spec SportsClub of about 740 bytes, made from its
position). By default (`--server prerendered`) every page is made once before the runs and
served from memory, so that the server takes next to no processor from the readers (on 2
cores, a server making each page when asked, `--server live`, costs about 8 µs of processor
an item, taken from the reader's second core). Each reader runs in a child process of its own,
measured there, in this order:

- fetch: every page fetched with httpx (the HTTP client openclubs uses), its `next` found with
  a regular expression, nothing parsed: the ceiling of any reader;
- fetch+parse: the same, each page parsed with orjson.loads: the least any reader must do;
- openactive (PyPI, the official Python reader): `get_opportunities(url, seconds_wait_next=0)`,
  which keeps every item in a dict in memory;
- openclubs-walk: openclubs' feed walker alone (every page fetched, parsed and its items
  checked as RPDE items; nothing validated or stored), the part comparable to openactive;
- openclubs: `harvest_feed` into a fresh SQLite store (every item parsed, checked against the
  Club Spec rules and written with its checkpoint, page by page), with its resident memory
  sampled after 10 % of the feed and at the end.

Prints items, seconds, items/s, processor time per item (the reader's, and the server's in
the same run) and peak resident memory for each, and the ratio. Figures only.

    .venv/bin/python benchmarks/harvest.py [--items 1000000] [--only NAME ...]
        [--server prerendered|live] [--check-workers 0] [--no-prefetch]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

PER_PAGE = 500
SPORTS = ["Netball", "Cricket", "Judo", "Swimming", "Rowing", "Badminton", "Hockey"]
TOWNS = [
    ("Radyr", "Cardiff", "CF15 8DY"),
    ("Leeds", "West Yorkshire", "LS1 4AP"),
    ("Bangor", "Gwynedd", "LL57 1UT"),
    ("Perth", "Perth and Kinross", "PH1 5PH"),
    ("Truro", "Cornwall", "TR1 2SJ"),
]


def item(n: int) -> dict[str, Any]:
    sport = SPORTS[n % len(SPORTS)]
    town, region, postcode = TOWNS[n % len(TOWNS)]
    return {
        "state": "updated",
        "kind": "SportsClub",
        "id": f"club-{n}",
        "modified": n,
        "data": {
            "@context": "https://openactive.io/",
            "@type": "SportsClub",
            "@id": f"https://clubs.example.org/clubs/club-{n}",
            "name": f"{town} {sport} Club {n}",
            "description": f"A friendly {sport.lower()} club in {town}, all abilities welcome.",
            "url": f"https://clubs.example.org/{n}",
            "email": f"secretary{n}@clubs.example.org",
            "activity": [{"@type": "Concept", "prefLabel": sport}],
            "location": [
                {
                    "@type": "Place",
                    "name": f"{town} Sports Ground",
                    "address": {
                        "@type": "PostalAddress",
                        "streetAddress": f"{n % 200 + 1} Station Road",
                        "addressLocality": town,
                        "addressRegion": region,
                        "postalCode": postcode,
                        "addressCountry": "GB",
                    },
                    "geo": {"@type": "GeoCoordinates", "latitude": 51.51612, "longitude": -3.24951},
                }
            ],
        },
    }


def page_body(base: str, after: int, total: int) -> bytes:
    """The feed's page after change number `after`, as served."""
    numbers = range(after + 1, min(after + PER_PAGE, total) + 1)
    if not numbers:
        return orjson.dumps({"next": f"{base}?afterChangeNumber={after}", "items": []})
    body = {
        "next": f"{base}?afterChangeNumber={numbers[-1]}",
        "items": [item(n) for n in numbers],
        "license": "https://creativecommons.org/licenses/by/4.0/",
    }
    return orjson.dumps(body)


def serve(port: int, total: int, prerendered: bool, ready: Any) -> None:
    """Serve the feed. `prerendered`: every page is made once, before the first request, and
    served from memory, so that the server costs next to no processor while a reader runs
    (on 2 cores, a server making pages takes processor time from the reader it serves)."""
    base = f"http://127.0.0.1:{port}/feed"
    pages: dict[int, bytes] = {}
    if prerendered:
        for after in range(0, total + 1, PER_PAGE):
            pages[after] = page_body(base, after, total)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            after = int(query.get("afterChangeNumber", ["0"])[0])
            data = pages.get(after)
            if data is None:
                data = page_body(base, after, total)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()


def process_cpu(pid: int) -> float:
    """Processor seconds (user and system) used so far by process `pid` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """Processor time of this process (all its threads and children, user and system): less
    sensitive than elapsed time to other work on a shared machine."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def run_openclubs(url: str, total: int, prefetch: bool = True, workers: int = 0) -> dict[str, Any]:
    from openclubs.harvest.runner import HarvestOptions, harvest_feed
    from openclubs.store.base import open_store

    samples: dict[str, float] = {}

    def progress(_: str, pages: int, items: int) -> None:
        if "at 10%" not in samples and items >= total // 10:
            samples["at 10%"] = rss_mb()

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "bench.sqlite3"))
        store.migrate()
        start = time.perf_counter()
        options = HarvestOptions(rate_per_second=None, prefetch=prefetch, check_workers=workers)
        result = harvest_feed(store, url, options, progress=progress)
        seconds = time.perf_counter() - start
        samples["at the end"] = rss_mb()
        clubs = store.counts().get("updated", 0)
        store.close()
    return {
        "items": result.counts.items,
        "stored": clubs,
        "seconds": seconds,
        "cpu": cpu_seconds(),
        "peak_mb": peak_mb(),
        "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "rss_mb": samples,
    }


_NEXT = re.compile(rb'"next":"([^"]+)"')


def run_fetch(url: str, total: int, prefetch: bool = True, workers: int = 0) -> dict[str, Any]:
    """The ceiling of any reader: every page fetched with the HTTP client openclubs uses, its
    `next` found with a regular expression (nothing parsed)."""
    import httpx

    items = 0
    start = time.perf_counter()
    with httpx.Client() as http:
        while True:
            body = http.get(url).content
            found = _NEXT.search(body)
            assert found is not None, body[:200]
            after = found.group(1).decode()
            if after == url:
                break
            items += body.count(b'"state":"updated"')
            url = after
    seconds = time.perf_counter() - start
    return {"items": items, "seconds": seconds, "cpu": cpu_seconds(), "peak_mb": peak_mb()}


def run_fetch_parse(
    url: str, total: int, prefetch: bool = True, workers: int = 0
) -> dict[str, Any]:
    """Every page fetched as `fetch` does and parsed with orjson.loads (what any reader must do
    at least), nothing else."""
    import httpx

    items = 0
    start = time.perf_counter()
    with httpx.Client() as http:
        while True:
            page = orjson.loads(http.get(url).content)
            items += len(page["items"])
            if page["next"] == url:
                break
            url = page["next"]
    seconds = time.perf_counter() - start
    return {"items": items, "seconds": seconds, "cpu": cpu_seconds(), "peak_mb": peak_mb()}


def run_walk(url: str, total: int, prefetch: bool = True, workers: int = 0) -> dict[str, Any]:
    """openclubs' feed walker alone (fetch, parse and check every page; nothing stored)."""
    from openclubs.harvest.rpde_client import walk_feed

    start = time.perf_counter()
    result = walk_feed(url, on_page=lambda page: None, rate_per_second=None, prefetch=prefetch)
    seconds = time.perf_counter() - start
    return {"items": result.items, "seconds": seconds, "cpu": cpu_seconds(), "peak_mb": peak_mb()}


def run_openactive(url: str, total: int, prefetch: bool = True, workers: int = 0) -> dict[str, Any]:
    import openactive

    start = time.perf_counter()
    opportunities = openactive.get_opportunities(url, seconds_wait_next=0, seconds_timeout=10**6)
    seconds = time.perf_counter() - start
    return {
        "items": len(opportunities["items"]),
        "status": opportunities.get("status"),
        "seconds": seconds,
        "cpu": cpu_seconds(),
        "peak_mb": peak_mb(),
    }


RUNS = {
    "fetch": run_fetch,
    "fetch+parse": run_fetch_parse,
    "openactive": run_openactive,
    "openclubs-walk": run_walk,
    "openclubs": run_openclubs,
}


def child(which: str, url: str, total: int, extra: list[str]) -> dict[str, Any]:
    """Run one harvester in a fresh interpreter (its own peak memory) and read its figures."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", which, "--url", url, "--items", str(total), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr or done.stdout)[-2000:]}
    result: dict[str, Any] = orjson.loads(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument(
        "--only", choices=RUNS, action="append", help="run only this reader (repeatable)"
    )
    parser.add_argument(
        "--server",
        choices=("prerendered", "live"),
        default="prerendered",
        help="prerendered: pages made once before the runs and served from memory (the "
        "server then takes next to no processor from the readers); live: each page made "
        "when asked for",
    )
    parser.add_argument(
        "--check-workers",
        type=int,
        default=0,
        help="openclubs: processes checking prefetched pages (0: all in the harvester)",
    )
    parser.add_argument(
        "--no-prefetch", action="store_true", help="openclubs: fetch each page after the last"
    )
    parser.add_argument("--child", choices=RUNS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = RUNS[args.child]
        print(
            orjson.dumps(
                run(args.url, args.items, not args.no_prefetch, args.check_workers)
            ).decode()
        )
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ready = multiprocessing.Event()
    prerendered = args.server == "prerendered"
    server = multiprocessing.Process(
        target=serve, args=(port, args.items, prerendered, ready), daemon=True
    )
    server.start()
    while not ready.wait(1.0):  # making every page first takes a few seconds a million items
        if not server.is_alive():
            sys.exit("the feed server failed to start")
    assert server.pid is not None
    url = f"http://127.0.0.1:{port}/feed"
    print(f"feed: {args.items:,} club items, {PER_PAGE} a page, on {url} ({args.server} pages)")
    mode = "no prefetch" if args.no_prefetch else "prefetch"
    print(f"openclubs: {mode}, {args.check_workers} checking worker(s)")
    figures: dict[str, dict[str, Any]] = {}
    try:
        for which in RUNS:
            if args.only and which not in args.only:
                continue
            extra = ["--check-workers", str(args.check_workers)]
            extra += ["--no-prefetch"] if args.no_prefetch else []
            served = process_cpu(server.pid)
            figures[which] = found = child(which, url, args.items, extra)
            served = process_cpu(server.pid) - served
            if "error" in found:
                print(f"{which}: failed: {found['error']}")
                continue
            rate = found["items"] / found["seconds"]
            found["rate"] = rate
            line = (
                f"{which:>14}: {found['items']:,} items in {found['seconds']:.1f} s = "
                f"{rate:,.0f} items/s ({found['cpu'] / found['items'] * 1e6:,.1f} µs of "
                f"processor per item, the server's {served / found['items'] * 1e6:,.1f} µs); "
                f"peak memory {found['peak_mb']:,.0f} MB"
            )
            if "rss_mb" in found:
                line += (
                    " (resident: "
                    + ", ".join(f"{k} {v:,.0f} MB" for k, v in found["rss_mb"].items())
                    + f"; {found['stored']:,} clubs stored)"
                )
                if args.check_workers and found.get("worker_peak_mb"):
                    line += f"; checking worker's peak memory {found['worker_peak_mb']:,.0f} MB"
            if found.get("status"):
                line += f" (status {found['status']})"
            print(line, flush=True)
    finally:
        server.terminate()
    if "rate" in figures.get("openclubs", {}) and "rate" in figures.get("openactive", {}):
        ratio = figures["openclubs"]["rate"] / figures["openactive"]["rate"]
        print(f"openclubs / openactive items per second: {ratio:.2f}x")
    os._exit(0)


if __name__ == "__main__":
    main()
