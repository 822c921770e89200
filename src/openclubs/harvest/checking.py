"""Checking big pages' club records against the Club Spec in a worker process, while the
harvester writes the page before.

The Club Spec checks are the largest cost of a harvest (about half of it) and need nothing
but the record, so they can run beside the rest: when the walker has fetched the next page
(`walk_feed(prefetch=True, on_body=...)`), its raw body goes to a worker process, which parses
it, makes the page's club records as `apply_page` will (`club_records`) and checks each one.
`apply_page` then takes each record's issues from the worker's answer (matched by item
position and record `@id`) instead of checking it again; any record without an answer (the
first page, a page fetched again after a retry, a worker that failed) is checked in the
harvester as before, so every stored record has its issues either way.

The pool starts only for a page of at least `min_bytes` (a small feed is not worth a process
start), uses the "spawn" start method (the harvester has threads and an open database: it is
never forked), and is shut down with the harvest; a worker whose harvester was killed ends
by itself within a second.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import orjson

from openclubs.harvest.records import classify, club_records
from openclubs.harvest.rpde_client import load_json
from openclubs.validate.engine import check_record

log = logging.getLogger(__name__)

MIN_BYTES = 128 * 1024  # pages smaller than this are checked in the harvester itself

# (item position in the page, record position in the item) -> (record @id, issues)
Checked = dict[tuple[int, int], tuple[str, list[dict[str, Any]]]]


def check_page(feed: str, body: bytes) -> bytes:
    """In the worker: the issues of every club record of the page (as JSON: a list of [item
    position, record position, @id, issues]). A page it cannot read gives an empty list (the
    harvester reports the page's faults itself)."""
    out: list[list[Any]] = []
    try:
        data = load_json(body)
        items = data.get("items") if isinstance(data, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict) or item.get("state") != "updated":
                continue
            value = item.get("data")
            if "id" not in item or not isinstance(value, dict) or classify(item) != "club":
                continue
            for position, record in enumerate(club_records(feed, str(item["id"]), value)):
                issues = [i.to_dict() for i in check_record(record)]
                out.append([index, position, record["@id"], issues])
    except Exception:  # the harvester checks whatever has no answer
        log.exception("checking a page in a worker failed")
        return b"[]"
    return orjson.dumps(out)


def _watch_parent() -> None:
    """In the worker: end as soon as the harvester is gone (even killed with SIGKILL, when no
    one is left to shut the pool down), instead of lingering as an orphan."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class PageChecker:
    """The pool and the answers on their way, by page URL (at most the prefetched page)."""

    def __init__(self, feed: str, *, workers: int = 1, min_bytes: int | None = None) -> None:
        self.feed = feed
        self.workers = workers
        self.min_bytes = MIN_BYTES if min_bytes is None else min_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[str, Future[bytes]] = {}
        self._lock = threading.Lock()

    def submit(self, url: str, body: bytes) -> None:
        """Called by the walker's prefetch thread with a page's body; never raises."""
        if self.workers <= 0 or len(body) < self.min_bytes:
            return
        try:
            with self._lock:
                if self._pool is None:
                    self._pool = ProcessPoolExecutor(
                        self.workers,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_watch_parent,
                    )
                self._pending[url] = self._pool.submit(check_page, self.feed, body)
        except Exception:  # no pool (e.g. shutting down): the harvester checks the page
            log.warning("could not check a page in a worker", exc_info=True)

    def take(self, url: str) -> Checked | None:
        """The worker's answer for the page at `url`, if one was asked for."""
        with self._lock:
            future = self._pending.pop(url, None)
            self._pending.clear()  # an answer for any other page would never be used
        if future is None:
            return None
        try:
            rows = orjson.loads(future.result())
        except Exception:
            log.warning("a worker failed to check %s; checking it here", url, exc_info=True)
            return None
        return {(int(i), int(p)): (str(club_id), issues) for i, p, club_id, issues in rows}

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            pending = list(self._pending.values())
            self._pending.clear()
        for future in pending:
            future.cancel()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
