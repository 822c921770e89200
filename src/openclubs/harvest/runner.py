"""Running harvests: each feed resumes from its saved checkpoint, pages are applied to the
store as they arrive (`apply_page`), and one feed's failure never stops the others.

- Several feeds run side by side, one thread each, each with its own store connection
  (`open_store`), sharing one per-host rate limiter.
- A feed that answers 404/410 is purged and marked gone. Any other failure (after the
  walker's own retries) is recorded as the feed's last error; with `follow`, the feed is tried
  again later (exponential back-off with jitter, `error_wait` doubling up to `error_wait_max`).
- With `follow`, each feed keeps polling its last page every `end_poll_wait` seconds until
  `stop` is set; waits end as soon as it is.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from openclubs.harvest.apply import (
    PageCounts,
    apply_page,
    feed_publisher,
    purge_feed,
    record_error,
    register_feed,
)
from openclubs.harvest.checking import PageChecker
from openclubs.harvest.rpde_client import (
    BACKOFF_MAX,
    END_POLL_WAIT,
    FORBIDDEN_WAIT,
    RATE_PER_SECOND,
    RETRY_WAIT,
    FeedError,
    FeedGone,
    HostRateLimiter,
    Page,
    walk_feed,
)
from openclubs.store.base import Store

log = logging.getLogger(__name__)

DISCOVERY_GRACE = 5.0  # seconds a stopped harvest waits for a look at the catalogs under way


@dataclass(frozen=True, slots=True)
class HarvestOptions:
    """How to harvest; every wait is configurable so that tests run in milliseconds."""

    follow: bool = False
    strict: bool = False
    end_poll_wait: float = END_POLL_WAIT
    retry_wait: tuple[float, float] = RETRY_WAIT
    forbidden_wait: tuple[float, float] = FORBIDDEN_WAIT
    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = BACKOFF_MAX
    rate_per_second: float | None = RATE_PER_SECOND
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    error_wait: float = 60.0
    error_wait_max: float = 3600.0
    max_pages: int | None = None
    prefetch: bool = True  # fetch and parse the next page while the current one is written
    # processes checking big prefetched pages; 0 (checked in the harvester): on 2 shared cores
    # a worker cost more processor time than it saved (benchmarks/harvest.py --check-workers)
    check_workers: int = 0


@dataclass(slots=True)
class FeedResult:
    url: str
    status: str  # caught-up, error, gone, stopped
    pages: int = 0
    counts: PageCounts = field(default_factory=PageCounts)
    error: str | None = None


class Stopped(Exception):
    """The harvest was asked to stop (the `stop` event) during a wait."""


Progress = Callable[[str, int, int], None]  # (feed, pages so far, items so far)


def harvest_feed(
    store: Store,
    url: str,
    options: HarvestOptions = HarvestOptions(),
    *,
    stop: threading.Event | None = None,
    limiter: HostRateLimiter | None = None,
    progress: Progress | None = None,
    rng: random.Random | None = None,
) -> FeedResult:
    """Harvest one feed into `store` from its saved position (or its first page)."""
    stop = stop or threading.Event()
    rand = rng or random.Random()
    limiter = limiter or HostRateLimiter(options.rate_per_second)
    result = FeedResult(url, "stopped")
    start, _ = register_feed(store, url)
    publisher = feed_publisher(store, url)
    checker = PageChecker(url, workers=options.check_workers if options.prefetch else 0)

    def on_page(page: Page) -> None:
        counts = apply_page(
            store,
            url,
            page,
            strict=options.strict,
            publisher=publisher,
            checked=checker.take(page.url),
        )
        result.pages += 1
        result.counts.add(counts)
        log.info(
            "page applied",
            extra={
                "feed": url,
                "page": page.url,
                "items": counts.items,
                "applied": counts.applied,
                "skipped": counts.skipped,
                "deletes": counts.deletes,
                "last": page.is_last,
            },
        )
        if progress is not None:
            progress(url, result.pages, result.counts.items)
        if stop.is_set():  # asked to stop: after this page, which is committed
            raise Stopped

    try:
        return _walk(store, url, start, options, on_page, checker, stop, limiter, rand, result)
    finally:
        checker.close()


def _walk(
    store: Store,
    url: str,
    start: str,
    options: HarvestOptions,
    on_page: Callable[[Page], None],
    checker: PageChecker,
    stop: threading.Event,
    limiter: HostRateLimiter,
    rand: random.Random,
    result: FeedResult,
) -> FeedResult:
    """Walk from `start` until caught up, stopped, gone or (without `follow`) failed."""

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped

    failures = 0
    while not stop.is_set():
        try:
            walk_feed(
                start,
                on_page=on_page,
                stop_at_end=not options.follow,
                sleep=sleep,
                retry_wait=options.retry_wait,
                max_retries=options.max_retries,
                forbidden_wait=options.forbidden_wait,
                backoff_base=options.backoff_base,
                backoff_max=options.backoff_max,
                end_poll_wait=options.end_poll_wait,
                rate_limiter=limiter,
                connect_timeout=options.connect_timeout,
                read_timeout=options.read_timeout,
                max_pages=options.max_pages,
                rng=rand,
                prefetch=options.prefetch,
                on_body=checker.submit,
            )
            result.status = "caught-up"
            return result
        except Stopped:
            result.status = "stopped"
            return result
        except FeedGone as err:
            purged = purge_feed(store, url, str(err))
            log.warning("feed gone: %s; %d records purged", err, purged, extra={"feed": url})
            result.status, result.error = "gone", str(err)
            return result
        except Exception as err:  # one feed's failure never stops the others
            message = str(err) if isinstance(err, FeedError) else f"{type(err).__name__}: {err}"
            log.error("feed failed: %s", message, extra={"feed": url})
            record_error(store, url, message)
            result.status, result.error = "error", message
            if not options.follow:
                return result
            failures += 1
            wait = min(options.error_wait_max, options.error_wait * 2 ** min(failures - 1, 20))
            try:
                sleep(wait * (1.0 + 0.5 * rand.random()))
            except Stopped:
                return result
            start = _checkpoint(store, url)
    return result


def _checkpoint(store: Store, url: str) -> str:
    rows = store.harvest_query("SELECT next_url FROM harvest_feeds WHERE url = ?", (url,))
    return str(rows[0][0]) if rows else url


def harvest_feeds(
    open_store: Callable[[], Store],
    urls: Sequence[str],
    options: HarvestOptions = HarvestOptions(),
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    max_workers: int = 8,
    rediscover: Callable[[], list[str]] | None = None,
    rediscover_every: float = 6 * 3600.0,
) -> list[FeedResult]:
    """Harvest every feed, side by side (one thread and one store connection each). With
    `follow` and more feeds than `max_workers`, or with `rediscover`, the feeds take turns
    instead (see `_follow_in_turns`): a following feed never ends, so a thread each would
    leave the feeds after the first `max_workers` waiting for ever."""
    stop = stop or threading.Event()
    limiter = HostRateLimiter(options.rate_per_second)
    unique = list(dict.fromkeys(urls))
    if options.follow and (len(unique) > max_workers or rediscover is not None):
        return _follow_in_turns(
            open_store,
            unique,
            options,
            stop,
            limiter,
            progress,
            max_workers,
            (rediscover, rediscover_every) if rediscover is not None else None,
        )

    def one(url: str) -> FeedResult:
        store = open_store()
        try:
            return harvest_feed(store, url, options, stop=stop, limiter=limiter, progress=progress)
        except Exception as err:  # the store itself failed: report it for this feed only
            log.exception("feed %s: harvest failed", url)
            return FeedResult(url, "error", error=f"{type(err).__name__}: {err}")
        finally:
            store.close()

    if len(unique) <= 1:
        return [one(url) for url in unique]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(unique))) as pool:
        return list(pool.map(one, unique))


def _follow_in_turns(
    open_store: Callable[[], Store],
    urls: list[str],
    options: HarvestOptions,
    stop: threading.Event,
    limiter: HostRateLimiter,
    progress: Progress | None,
    workers: int,
    rediscover: tuple[Callable[[], list[str]], float] | None = None,
) -> list[FeedResult]:
    """Follow many feeds with a few threads: each turn harvests one feed from its saved
    position until it is caught up, then the feed waits `end_poll_wait` (after a failure,
    the doubling `error_wait`) before its next turn, and the thread takes the feed due
    soonest. A feed that is gone takes no more turns. With `rediscover` (a function giving
    the sources' feeds now, and how often to call it), feeds that catalogs and dataset
    sites add later join in, and a gone feed they still list takes turns again. Until `stop`
    is set.

    The store connections are opened before any thread starts, so a store that cannot be
    opened fails the call (as it does without turns) instead of leaving fewer threads, or
    none, silently following nothing."""
    once = replace(options, follow=False)
    results = {url: FeedResult(url, "stopped") for url in urls}
    failures = dict.fromkeys(urls, 0)
    due = [(0.0, n, url) for n, url in enumerate(urls)]  # (when, tie-break, feed)
    turns = itertools.count(len(urls))
    rand = random.Random()
    retired: set[str] = set()  # gone feeds: no more turns unless rediscovery lists them

    def backoff(url: str) -> float:
        """The doubling wait, with jitter, after `url`'s latest failure in a row."""
        failures[url] += 1
        wait = options.error_wait * float(2 ** min(failures[url] - 1, 20))
        return min(options.error_wait_max, wait) * (1.0 + 0.5 * rand.random())

    def turn(store: Store, url: str) -> float | None:
        """One turn of `url`; the seconds until its next turn (None: no more turns)."""
        total = results[url]
        base_pages, base_items = total.pages, total.counts.items

        def shown(feed: str, pages: int, items: int) -> None:
            if progress is not None:
                progress(feed, base_pages + pages, base_items + items)

        run = harvest_feed(store, url, once, stop=stop, limiter=limiter, progress=shown, rng=rand)
        total.pages += run.pages
        total.counts.add(run.counts)
        total.status, total.error = run.status, run.error if run.status != "caught-up" else None
        if run.status == "gone" or stop.is_set():
            return None
        if run.status == "error":
            return backoff(url)
        failures[url] = 0
        return options.end_poll_wait

    ready = threading.Condition()
    busy = 0  # feeds in a turn now (they come back to `due` unless gone)

    def take() -> str | None:
        """The feed due soonest, once it is due; None when stopped or no feed is left."""
        nonlocal busy
        with ready:
            while not stop.is_set():
                if not due:
                    if not busy:
                        return None
                    ready.wait(0.5)
                    continue
                delay = due[0][0] - time.monotonic()
                if delay <= 0:
                    busy += 1
                    return heapq.heappop(due)[2]
                ready.wait(min(delay, 0.5))  # woken early when a feed comes back
            return None

    def back(url: str, after: float | None) -> None:
        nonlocal busy
        with ready:
            busy -= 1
            if after is not None:
                heapq.heappush(due, (time.monotonic() + after, next(turns), url))
            elif not stop.is_set():
                retired.add(url)
            ready.notify_all()

    def worker(store: Store) -> None:
        try:
            while (url := take()) is not None:
                after: float | None = None
                try:
                    after = turn(store, url)
                except Exception as err:  # the store itself failed: this feed's turn only
                    log.exception("feed %s: harvest failed", url)
                    results[url].status = "error"
                    results[url].error = f"{type(err).__name__}: {err}"
                    after = backoff(url)  # a store that keeps failing is not hammered
                finally:
                    back(url, after)
        finally:
            store.close()

    def discoverer(find: Callable[[], list[str]], every: float) -> None:
        while not stop.wait(every):
            try:
                found = find()
            except Exception:  # a catalog that cannot be read now is tried again later
                log.exception("rediscovering feeds failed")
                continue
            with ready:
                for url in found:
                    if url in retired:  # gone, but its publisher still lists it
                        log.info("gone feed listed again", extra={"feed": url})
                        retired.discard(url)
                        heapq.heappush(due, (0.0, next(turns), url))
                    elif url not in results:
                        log.info("new feed found", extra={"feed": url})
                        results[url] = FeedResult(url, "stopped")
                        failures[url] = 0
                        heapq.heappush(due, (0.0, next(turns), url))
                ready.notify_all()

    stores: list[Store] = []
    try:
        for _ in range(workers):
            stores.append(open_store())
    except BaseException:
        for store in stores:
            store.close()
        raise
    threads = [threading.Thread(target=worker, args=(store,), daemon=True) for store in stores]
    finder = None
    if rediscover is not None:
        busy += 1  # the discoverer may always bring feeds back: workers wait for them
        finder = threading.Thread(target=discoverer, args=rediscover, daemon=True)
        finder.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if finder is not None:
        # stopped: a look at the catalogs under way may be waiting on a slow server; it
        # only registers feeds (each in its own transaction), so it is not waited for long
        finder.join(DISCOVERY_GRACE)
        if finder.is_alive():
            log.warning("stopped while looking at the catalogs again; that look is abandoned")
    with ready:
        return list(results.values())


@dataclass(frozen=True, slots=True)
class FeedStatus:
    url: str
    status: str
    next_url: str
    dataset: str | None
    pages: int
    items: int
    applied: int
    skipped: int
    deletes: int
    invalid: int
    refused: int
    ignored: int
    current: int  # items of this feed that are current (not deleted)
    last_success: str | None
    last_error: str | None
    last_error_at: str | None


def feed_statuses(store: Store) -> list[FeedStatus]:
    """Every feed's position, last success, last error and counts."""
    rows = store.harvest_query(
        "SELECT url, status, next_url, dataset, pages, items, applied, skipped, deletes, "
        "invalid, refused, ignored, last_success, last_error, last_error_at "
        "FROM harvest_feeds ORDER BY url"
    )
    current = dict(
        store.harvest_query(
            "SELECT feed, count(*) FROM harvest_items WHERE state = 'updated' GROUP BY feed"
        )
    )
    out = []
    for row in rows:
        url, status, next_url, dataset = (str(v) if v is not None else None for v in row[:4])
        n = [int(v) for v in row[4:12]]
        success, error, error_at = row[12:15]
        out.append(
            FeedStatus(
                url=str(url),
                status=str(status),
                next_url=str(next_url),
                dataset=dataset,
                pages=n[0],
                items=n[1],
                applied=n[2],
                skipped=n[3],
                deletes=n[4],
                invalid=n[5],
                refused=n[6],
                ignored=n[7],
                current=int(current.get(url, 0)),
                last_success=success,
                last_error=error,
                last_error_at=error_at,
            )
        )
    return out
