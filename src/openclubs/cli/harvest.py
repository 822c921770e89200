"""``openclubs harvest``: RPDE feeds, dataset sites, data catalogs and club web pages into the
store; ``openclubs harvest status``: every feed's position, last success, last error, counts."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from contextlib import closing
from typing import Any, TextIO

import click
import orjson

from openclubs.harvest.apply import register_feed
from openclubs.harvest.discovery import discover
from openclubs.harvest.rpde_client import BACKOFF_MAX, END_POLL_WAIT, RATE_PER_SECOND
from openclubs.harvest.runner import (
    FeedResult,
    HarvestOptions,
    feed_statuses,
    harvest_feeds,
)
from openclubs.store.base import Store, open_store

log = logging.getLogger(__name__)

DB_HELP = "The store: a SQLite file path, or a postgresql:// URL (PostgreSQL 15 + PostGIS)."
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class StoreError(click.ClickException):
    """The store could not be opened: the tool failed, exit status 2."""

    exit_code = 2


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and every `extra` field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                entry[key] = value
        return orjson.dumps(entry, default=str).decode()


class ProgressLines:
    """Per-feed progress (pages, items, items/s) on standard error: rewritten in place on a
    terminal, else a line at most every `every` seconds."""

    def __init__(self, stream: TextIO, every: float = 5.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = 1.0 if self.tty else every
        self.started = time.monotonic()
        self.feeds: dict[str, tuple[int, int]] = {}
        self.shown = 0.0
        self.lock = threading.Lock()

    def __call__(self, feed: str, pages: int, items: int) -> None:
        with self.lock:
            self.feeds[feed] = (pages, items)
            now = time.monotonic()
            if now - self.shown < self.every:
                return
            self.shown = now
            self.show()

    def show(self) -> None:
        for feed, (pages, items) in self.feeds.items():
            rate = items / max(time.monotonic() - self.started, 1e-9)
            line = f"{feed}: {items:,} items, {pages:,} pages, {rate:,.0f} items/s"
            self.stream.write(("\r\x1b[K" + line + "\n") if self.tty else line + "\n")
        self.stream.flush()


def _range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        a, b = float(low), float(high or low)
    except ValueError:
        raise click.BadParameter(f"{text!r}: give seconds as MIN-MAX, such as 3600-7200") from None
    if a < 0 or b < a:
        raise click.BadParameter(f"{text!r}: MIN-MAX with 0 <= MIN <= MAX")
    return a, b


@click.command(name="harvest")
@click.argument("sources", nargs=-1, metavar="SOURCE...")
@click.option("--db", "db_path", default="openclubs.sqlite3", show_default=True, help=DB_HELP)
@click.option("--site", "sites", multiple=True, metavar="URL", help="A club web page to read.")
@click.option("--crawl", is_flag=True, help="With --site: also the pages its sitemap lists.")
@click.option(
    "--follow",
    is_flag=True,
    help="Keep polling each feed's end until stopped (more than 8 feeds take turns).",
)
@click.option(
    "--rediscover",
    type=click.FloatRange(min=0),
    default=6 * 3600,
    show_default=True,
    help="--follow: seconds between new looks at the catalogs and dataset sites given as "
    "SOURCE, whose new feeds join in (0: never).",
)
@click.option("--strict", is_flag=True, help="Refuse invalid records instead of storing them.")
@click.option(
    "--poll-wait",
    type=float,
    default=END_POLL_WAIT,
    show_default=True,
    help="--follow: seconds between polls of a feed's last page.",
)
@click.option(
    "--retry-wait",
    default="3600-7200",
    show_default=True,
    metavar="MIN-MAX",
    help="Seconds to wait after 503/429 without Retry-After (random in the range).",
)
@click.option(
    "--error-wait",
    type=float,
    default=60.0,
    show_default=True,
    help="--follow: first wait before trying a failed feed again (doubles each time).",
)
@click.option(
    "--rate",
    type=float,
    default=RATE_PER_SECOND,
    show_default=True,
    help="Requests per second per host (0: no limit).",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Read timeout (s).")
@click.option("--max-retries", type=int, default=5, show_default=True, help="Retries of errors.")
@click.option("--backoff", type=float, default=1.0, show_default=True, help="First back-off (s).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: warnings and errors; json: one JSON object a line (each page, each error).",
)
@click.option("--json", "as_json", is_flag=True, help="status: JSON instead of a table.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines or summary.")
def harvest_command(
    sources: tuple[str, ...],
    db_path: str,
    sites: tuple[str, ...],
    crawl: bool,
    follow: bool,
    rediscover: float,
    strict: bool,
    poll_wait: float,
    retry_wait: str,
    error_wait: float,
    rate: float,
    timeout: float,
    max_retries: int,
    backoff: float,
    log_format: str,
    as_json: bool,
    quiet: bool,
) -> None:
    """Harvest club records into the store from RPDE feeds, dataset sites, data catalogs
    (recursing through hasPart/dataset) and club web pages (--site).

    Each feed resumes from its saved position: the next URL is saved with each page's items
    in one transaction. Club items (Organization, SportsClub, ...) become clubs; opportunity
    items (sessions, events, facility uses) give their organiser as a club, with the
    activities and places of all its items. Deleted items withdraw what they gave.

    `openclubs harvest status --db DB` shows every feed's position, last success, last error
    and counts.

    Exit status: 0 every source harvested; 1 a feed or source failed (the others were still
    harvested); 2 usage error or the store could not be opened.
    """
    logger = logging.getLogger("openclubs")
    level = logger.level
    handler = _logging(log_format, quiet)
    try:
        _harvest(
            sources,
            db_path,
            sites,
            crawl,
            HarvestOptions(
                follow=follow,
                strict=strict,
                end_poll_wait=poll_wait,
                retry_wait=_range(retry_wait),
                max_retries=max_retries,
                backoff_base=backoff,
                backoff_max=max(BACKOFF_MAX, backoff),
                rate_per_second=rate or None,
                read_timeout=timeout,
                error_wait=error_wait,
            ),
            as_json,
            quiet,
            rediscover,
        )
    finally:  # leave logging as it was (the command may run inside another program)
        logger.removeHandler(handler)
        logger.setLevel(level)


def _harvest(
    sources: tuple[str, ...],
    db_path: str,
    sites: tuple[str, ...],
    crawl: bool,
    options: HarvestOptions,
    as_json: bool,
    quiet: bool,
    rediscover: float = 0.0,
) -> None:
    if sources[:1] == ("status",):
        if len(sources) > 1:
            raise click.UsageError("harvest status takes no SOURCE")
        _status(db_path, as_json)
        return
    if not sources and not sites:
        raise click.UsageError("give at least one SOURCE (a feed, dataset site or catalog URL)")
    for url in (*sources, *sites):
        if not url.lower().startswith(("http://", "https://")):
            raise click.UsageError(f"{url}: a SOURCE is an http(s) URL")
    store = _open(db_path)
    failed = False
    try:
        known = _known_feeds(store)
        feeds, problems = _feeds(store, sources)
        for problem in problems:
            click.echo(f"openclubs harvest: {problem}", err=True)
        failed = bool(problems)
        if sites:
            from openclubs.harvest.site import harvest_sites

            outcome = harvest_sites(store, list(sites), crawl=crawl, strict=options.strict)
            for problem in outcome.problems:
                click.echo(f"openclubs harvest: {problem}", err=True)
            failed = failed or bool(outcome.problems)
            if not quiet:
                click.echo(f"openclubs harvest: pages: {outcome.summary()}", err=True)
    finally:
        store.close()
    if not feeds:
        sys.exit(1 if failed else 0)
    stop = threading.Event()  # Ctrl-C or SIGTERM: every feed stops at its next wait
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    progress = None if quiet else ProgressLines(sys.stderr)
    # catalogs and dataset sites (not feeds already known) are looked at again while following
    discovered = [s for s in sources if s not in known and s not in feeds]
    again = None
    if options.follow and rediscover > 0 and discovered:

        def again() -> list[str]:
            with closing(open_store(db_path)) as fresh:
                found, problems = _feeds(fresh, tuple(discovered))
            for problem in problems:
                log.warning("rediscovery: %s", problem)
            return found

    try:
        results = harvest_feeds(
            lambda: open_store(db_path),
            feeds,
            options,
            stop=stop,
            progress=progress,
            rediscover=again,
            rediscover_every=rediscover or 1.0,
        )
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if progress is not None:
        progress.show()
    for result in results:
        if not quiet or result.error:
            click.echo(f"openclubs harvest: {_summary(result)}", err=True)
    failed = failed or any(r.status in ("error", "gone") for r in results)
    sys.exit(1 if failed else 0)


def _open(db_path: str) -> Store:
    """The store, migrated; one that cannot be opened is a StoreError (exit status 2)."""
    try:
        store = open_store(db_path)
        store.migrate()
    except Exception as err:
        raise StoreError(f"{db_path}: the store could not be opened ({err})") from err
    return store


def _known_feeds(store: Store) -> set[str]:
    return {str(url) for (url,) in store.harvest_query("SELECT url FROM harvest_feeds")}


def _feeds(store: Store, sources: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The feed URLs of the sources (registering discovered ones with their dataset and
    publisher), and a sentence per source that gave none. A URL already known as a feed is
    not fetched again: it resumes."""
    known = _known_feeds(store)
    feeds: list[str] = []
    problems: list[str] = []
    for source in sources:
        if source in known:
            feeds.append(source)
            continue
        found = discover(source)
        problems.extend(found.problems)
        for spec in found.feeds:
            register_feed(store, spec.url, dataset=spec.dataset, publisher=spec.publisher)
            feeds.append(spec.url)
        if not found.feeds and not found.problems:
            problems.append(f"{source}: no feeds found")
    return feeds, problems


def _summary(result: FeedResult) -> str:
    c = result.counts
    text = (
        f"{result.url}: {result.status}; {result.pages:,} pages, {c.items:,} items "
        f"({c.applied:,} applied, {c.skipped:,} not newer, {c.deletes:,} deletes, "
        f"{c.invalid:,} invalid, {c.refused:,} refused, {c.ignored:,} ignored)"
    )
    return text + (f": {result.error}" if result.error else "")


def _status(db_path: str, as_json: bool) -> None:
    store = _open(db_path)
    try:
        statuses = feed_statuses(store)
    finally:
        store.close()
    if as_json:
        click.echo(orjson.dumps([vars_of(s) for s in statuses], option=orjson.OPT_INDENT_2))
        return
    if not statuses:
        click.echo(f"{db_path}: no feeds harvested yet")
        return
    for s in statuses:
        click.echo(f"{s.url}  [{s.status}]")
        click.echo(f"  position      {s.next_url}")
        click.echo(f"  last success  {s.last_success or '-'}")
        click.echo(
            f"  last error    {s.last_error or '-'}"
            + (f" (at {s.last_error_at})" if s.last_error else "")
        )
        click.echo(
            f"  counts        {s.current:,} current items; {s.pages:,} pages, {s.items:,} items "
            f"read, {s.applied:,} applied, {s.skipped:,} not newer, {s.deletes:,} deletes, "
            f"{s.invalid:,} invalid, {s.refused:,} refused, {s.ignored:,} ignored"
        )


def vars_of(value: object) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__slots__}  # type: ignore[attr-defined]


def _logging(log_format: str, quiet: bool) -> logging.Handler:
    """Log to standard error (text, warnings and errors; or JSON lines from info up)."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
        level = logging.INFO
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        level = logging.WARNING
    root = logging.getLogger("openclubs")
    root.addHandler(handler)
    root.setLevel(logging.ERROR if quiet and log_format == "text" else level)
    return handler
