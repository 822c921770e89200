"""An RPDE 1.0 feed walker: follows ``next`` verbatim, page by page, with polite HTTP.

- ``next`` is an opaque cursor: it is requested exactly as published (never decoded or
  rebuilt). A relative ``next`` is resolved against the page's URL, with a logged warning.
- The end of the feed is a page with ``items == []`` **and** ``next`` equal to the page's own
  URL; an empty page alone is not the end (in-stream filtering).
- Every page is validated (JSON object, ``items`` a list, ``next`` a string, each item with
  ``state``/``kind``/``id``/``modified``) and items must not go backwards in ``modified``
  (compared as big integers when integer-like, as strings otherwise).
- Faults: 503/429 honour ``Retry-After`` (seconds or an HTTP date), else wait a random time
  in ``retry_wait`` (60–120 minutes by default); 403 (some platforms throttle that way) is
  retried a few times after 1–3 s; 404/410 raise :class:`FeedGone`; other 5xx and network
  errors back off exponentially with jitter, then raise :class:`FeedError`.

Nothing here stores anything: ``on_page`` receives each :class:`Page` in order, and nothing
but the current page is held in memory.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

from openclubs.ingest.fetch import USER_AGENT

log = logging.getLogger(__name__)

RETRY_WAIT = (60.0 * 60.0, 120.0 * 60.0)  # RPDE 1.0: 503 → retry after a random 60–120 min
FORBIDDEN_WAIT = (1.0, 3.0)  # 403 throttling (dataset-utils' known-Legend-issue retry)
MAX_FORBIDDEN_RETRIES = 5
BACKOFF_BASE = 1.0
BACKOFF_MAX = 10.0 * 60.0
END_POLL_WAIT = 8.0  # DevDocs harvesting: "sleep mode" between polls of the last page
RATE_PER_SECOND = 5.0
RECENT_URLS = 64
MAX_PAGE_BYTES = 64 * 1024 * 1024
REQUIRED_ITEM_FIELDS = ("state", "kind", "id", "modified")
_STATES = ("updated", "deleted")
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*\Z")

Sleep = Callable[[float], None]
ModifiedKey = tuple[int, int, str]


# -- errors ----------------------------------------------------------------------------------


class FeedError(Exception):
    """A feed could not be walked; the message names the URL and says why."""

    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status = status


class FeedGone(FeedError):
    """The feed answered 404 or 410: it is gone (Dataset API Discovery: purge its records)."""


class FeedInvalid(FeedError):
    """A page is not a valid RPDE page (not JSON, wrong shape, going backwards...)."""


# -- pages and results -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One RPDE page as read. `url` is the URL requested, `next` the (absolute) URL to request
    after it: the checkpoint to save with this page's items."""

    url: str
    next: str
    items: list[dict[str, Any]]
    is_last: bool
    status: int = 200
    license: str | None = None


@dataclass(slots=True)
class WalkResult:
    pages: int = 0
    items: int = 0
    next_url: str = ""  # the checkpoint: where to resume
    reached_end: bool = False
    retries: int = 0
    waits: list[float] = field(default_factory=list)


def modified_key(value: object) -> ModifiedKey:
    """A sort key for an item's `modified`: integers (and integer-like strings) as big ints,
    any other string as a string, after all integers."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a valid `modified`")
    if isinstance(value, int):
        return (0, value, "")
    if isinstance(value, str):
        if _INTEGER.match(value) and len(value.strip()) <= 4000:
            return (0, int(value), "")
        return (1, 0, value)
    raise ValueError(f"`modified` must be an integer or a string, not {type(value).__name__}")


# -- politeness --------------------------------------------------------------------------------


class HostRateLimiter:
    """At most `rate_per_second` requests per host, shared by every walk given the same limiter
    (thread-safe). `None` or 0 means no limit."""

    def __init__(
        self,
        rate_per_second: float | None = RATE_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / rate_per_second if rate_per_second else 0.0
        self.clock = clock
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str, sleep: Sleep) -> float:
        """Sleep until `url`'s host may be asked again; return the time slept."""
        if self.interval <= 0:
            return 0.0
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            now = self.clock()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self.interval
        delay = slot - now
        if delay > 0:
            sleep(delay)
        return max(delay, 0.0)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds to wait (delta-seconds or an HTTP date); None when absent or
    unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


# -- the walker --------------------------------------------------------------------------------


class _Retry(Exception):
    """Internal: this attempt failed in a way worth retrying after `wait` seconds."""

    def __init__(self, wait: float, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.wait = wait
        self.reason = reason
        self.kind = kind  # "throttled", "forbidden" or "error"


def walk_feed(
    url: str,
    *,
    on_page: Callable[[Page], None],
    client: httpx.Client | None = None,
    transport: httpx.BaseTransport | None = None,
    max_pages: int | None = None,
    stop_at_end: bool = True,
    sleep: Sleep = time.sleep,
    retry_wait: tuple[float, float] = RETRY_WAIT,
    max_retries: int = 5,
    max_forbidden_retries: int = MAX_FORBIDDEN_RETRIES,
    forbidden_wait: tuple[float, float] = FORBIDDEN_WAIT,
    backoff_base: float = BACKOFF_BASE,
    backoff_max: float = BACKOFF_MAX,
    end_poll_wait: float = END_POLL_WAIT,
    rate_per_second: float | None = RATE_PER_SECOND,
    rate_limiter: HostRateLimiter | None = None,
    connect_timeout: float = 10.0,
    read_timeout: float = 30.0,
    max_page_bytes: int = MAX_PAGE_BYTES,
    rng: random.Random | None = None,
    prefetch: bool = False,
    on_body: Callable[[str, bytes], None] | None = None,
) -> WalkResult:
    """Walk the RPDE feed starting at `url` (the first page, or a saved checkpoint), calling
    `on_page` for every page in order. Stops at the end of the feed when `stop_at_end`;
    otherwise polls the last page every `end_poll_wait` seconds (until `max_pages` pages have
    been read, if given). Raises FeedGone, FeedInvalid or FeedError.

    With `prefetch`, the next page (the current page's `next`, as published) is requested and
    parsed in a background thread while `on_page` handles the current one, so that the
    network and the publisher's server work while the consumer does. Pages still reach
    `on_page` one at a time and in order, at most two pages are held, and a page that fails is
    retried (or reported) exactly as without prefetching, once `on_page` has returned for the
    page before it. A consumer that saves its checkpoint in `on_page` therefore never saves a
    page it has not handled. `on_body` is called in the prefetch thread with each prefetched
    page's URL and body as soon as the body is read (before it is parsed and checked as an RPDE
    page: a page found invalid then never reaches `on_page`), to start work on it early
    (`openclubs.harvest.checking`)."""
    rand = rng or random.Random()
    limiter = rate_limiter or HostRateLimiter(rate_per_second)
    result = WalkResult(next_url=url)
    owned = client is None
    http = client or httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        follow_redirects=True,
        max_redirects=5,
    )
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    last_key: ModifiedKey | None = None
    current = url
    recent: deque[str] = deque(maxlen=RECENT_URLS)  # to catch `next` going back to a page
    ahead: _Prefetch | None = None

    def get_once(target: str, backoff: float) -> tuple[tuple[bytes, str], int]:
        return _get_once(
            http,
            target,
            headers=headers,
            rand=rand,
            retry_wait=retry_wait,
            forbidden_wait=forbidden_wait,
            backoff=backoff,
            max_page_bytes=max_page_bytes,
        )

    def fetch(target: str, first: _Retry | None = None) -> tuple[tuple[bytes, str], int]:
        return _get_with_retries(
            get_once,
            target,
            sleep=sleep,
            limiter=limiter,
            result=result,
            max_retries=max_retries,
            max_forbidden_retries=max_forbidden_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            first=first,
        )

    def fetch_once(target: str, after: ModifiedKey | None, cancel: threading.Event) -> Any:
        """One attempt, in the background: the parsed page, or the `_Retry` to handle."""

        def wait(seconds: float) -> None:
            if cancel.wait(seconds):
                raise _Cancelled

        limiter.wait(target, wait)
        try:
            fetched, status = get_once(target, min(backoff_max, backoff_base))
        except _Retry as retry:
            return retry
        if cancel.is_set():
            raise _Cancelled
        if on_body is not None:  # first, so that work on the page starts while it is parsed
            on_body(target, fetched[0])
        return _parse_page(target, fetched, status, after)

    try:
        while max_pages is None or result.pages < max_pages:
            got: tuple[Page, ModifiedKey | None] | _Retry | None = None
            if ahead is not None:  # the page asked for ahead (always `current`)
                if ahead.url == current:
                    got = ahead.take()
                else:
                    ahead.cancel()
                ahead = None
            if isinstance(got, tuple):
                page, last_key = got
            else:
                body, status = fetch(current, got)
                page, last_key = _parse_page(current, body, status, last_key)
            if page.next != page.url and page.next in recent:
                raise FeedInvalid(current, f"`next` goes back to a page already read ({page.next})")
            recent.append(page.url)
            if (
                prefetch
                and not page.is_last
                and (max_pages is None or result.pages + 1 < max_pages)
            ):
                ahead = _Prefetch(page.next, last_key, fetch_once)
            on_page(page)
            result.pages += 1
            result.items += len(page.items)
            result.next_url = page.next
            if page.is_last:
                result.reached_end = True
                if stop_at_end:
                    break
                sleep(end_poll_wait)
            else:
                result.reached_end = False
            current = page.next
    finally:
        if ahead is not None:
            ahead.cancel()
        if owned:
            http.close()
    return result


class _Cancelled(Exception):
    """Internal: a prefetch was cancelled (the walk ended) before its request was sent."""


class _Prefetch:
    """The next page, fetched (one attempt) and parsed in a daemon thread. `take` waits for it
    and returns the parsed page with its last `modified` key, or the `_Retry` the attempt
    asked for (the walk then retries in the foreground, counting this attempt), or raises what
    the attempt raised (FeedGone, FeedInvalid, FeedError...), in the walk's own thread."""

    def __init__(
        self,
        url: str,
        after: ModifiedKey | None,
        fetch_once: Callable[[str, ModifiedKey | None, threading.Event], Any],
    ) -> None:
        self.url = url
        self._cancel = threading.Event()
        self._outcome: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._outcome = fetch_once(url, after, self._cancel)
            except BaseException as err:  # handed to the walk's thread by `take`
                self._error = err

        self._thread = threading.Thread(target=run, name="rpde-prefetch", daemon=True)
        self._thread.start()

    def take(self) -> tuple[Page, ModifiedKey | None] | _Retry:
        self._thread.join()
        if self._error is not None:
            raise self._error
        outcome: tuple[Page, ModifiedKey | None] | _Retry = self._outcome
        return outcome

    def cancel(self, timeout: float = 2.0) -> None:
        """Stop waiting for the page: a request not yet sent is not sent; one in flight ends
        within `timeout` or is left to its daemon thread (its answer is never used)."""
        self._cancel.set()
        self._thread.join(timeout)


def _get_with_retries(
    get_once: Callable[[str, float], tuple[tuple[bytes, str], int]],
    url: str,
    *,
    sleep: Sleep,
    limiter: HostRateLimiter,
    result: WalkResult,
    max_retries: int,
    max_forbidden_retries: int,
    backoff_base: float,
    backoff_max: float,
    first: _Retry | None = None,
) -> tuple[tuple[bytes, str], int]:
    """GET `url` with `get_once` (one attempt, given its back-off), retrying as the module
    says. `first`: a first attempt already made (by a prefetch) that asked for a retry."""
    failures = 0
    forbidden = 0
    failed = first
    while True:
        if failed is None:
            limiter.wait(url, sleep)
            try:
                return get_once(url, min(backoff_max, backoff_base * 2**failures))
            except _Retry as err:
                failed = err
        retry, failed = failed, None
        if retry.kind == "forbidden":
            forbidden += 1
            if forbidden > max_forbidden_retries:
                raise FeedError(
                    url,
                    f"{retry.reason}, still after {max_forbidden_retries} retries",
                    status=403,
                ) from None
        else:
            failures += 1
            if failures > max_retries:
                raise FeedError(url, f"{retry.reason}, still after {max_retries} retries") from None
        log.warning("%s: %s; retrying in %.1f s", url, retry.reason, retry.wait)
        result.retries += 1
        result.waits.append(retry.wait)
        sleep(retry.wait)


def _get_once(
    http: httpx.Client,
    url: str,
    *,
    headers: Mapping[str, str],
    rand: random.Random,
    retry_wait: tuple[float, float],
    forbidden_wait: tuple[float, float],
    backoff: float,
    max_page_bytes: int,
) -> tuple[tuple[bytes, str], int]:
    """One GET: ((body, content type), status), or _Retry / FeedError."""
    jittered = backoff * (1.0 + 0.5 * rand.random())  # in [backoff, 1.5 × backoff)
    try:
        with http.stream("GET", url, headers=dict(headers)) as response:
            status = response.status_code
            if status in (404, 410):
                raise FeedGone(url, f"the feed is gone (HTTP {status})", status=status)
            if status in (429, 503):
                wait = retry_after_seconds(response.headers.get("retry-after"))
                if wait is None:
                    wait = rand.uniform(*retry_wait)
                raise _Retry(wait, f"the server is busy (HTTP {status})", "throttled")
            if status == 403:
                raise _Retry(
                    rand.uniform(*forbidden_wait), "access refused (HTTP 403)", "forbidden"
                )
            if status >= 500:
                raise _Retry(jittered, f"server error (HTTP {status})", "error")
            if status >= 400 or status < 200:
                raise FeedError(
                    url,
                    f"the server answered HTTP {status} {response.reason_phrase}".rstrip(),
                    status=status,
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_page_bytes:
                    raise FeedInvalid(url, f"the page is too large (over {max_page_bytes:,} bytes)")
                chunks.append(chunk)
            return (b"".join(chunks), response.headers.get("content-type", "")), status
    except httpx.TimeoutException as err:
        raise _Retry(jittered, f"no answer in time ({type(err).__name__})", "error") from None
    except httpx.TooManyRedirects:
        raise FeedError(url, "too many redirects") from None
    except httpx.TransportError as err:
        raise _Retry(
            jittered, f"could not connect ({type(err).__name__}: {err})", "error"
        ) from None


def _parse_page(
    url: str, fetched: tuple[bytes, str], status: int, last_key: ModifiedKey | None
) -> tuple[Page, ModifiedKey | None]:
    body, content_type = fetched
    media = content_type.split(";", 1)[0].strip().lower() or "no content type"
    try:
        data = load_json(body)
    except orjson.JSONDecodeError as err:
        if "html" in media or body.lstrip()[:1] == b"<":
            raise FeedInvalid(url, f"not JSON ({media}): an HTML page, not an RPDE page") from None
        raise FeedInvalid(url, f"not JSON ({media}): {err}") from None
    if not isinstance(data, dict):
        raise FeedInvalid(
            url, f"not an RPDE page: the JSON is a {type(data).__name__}, not an object"
        )
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedInvalid(url, "not an RPDE page: `items` is missing or not a list")
    raw_next = data.get("next")
    if not isinstance(raw_next, str) or not raw_next.strip():
        raise FeedInvalid(url, "not an RPDE page: `next` is missing or not a string")
    next_url = raw_next
    if not urlsplit(raw_next).scheme:
        next_url = urljoin(url, raw_next)
        log.warning("%s: `next` is relative (%s); RPDE requires an absolute URL", url, raw_next)
    for index, item in enumerate(items):
        # the usual item passes one cheap test; anything else gets the full, located checks
        if not (
            type(item) is dict
            and "kind" in item
            and "modified" in item
            and item.get("state") in _STATES
            and type(item.get("id")) in (str, int)
        ):
            _check_item(url, index, item)
        modified = item["modified"]
        if type(modified) is int:
            key: ModifiedKey = (0, modified, "")
        else:
            try:
                key = modified_key(modified)
            except ValueError as err:
                raise FeedInvalid(url, f"item {index + 1}: {err}") from None
        if last_key is not None and key < last_key:
            raise FeedInvalid(
                url,
                f"item {index + 1} goes backwards: modified {modified!r} comes after "
                f"{_show(last_key)} (a `next` that goes back, or items out of order)",
            )
        last_key = key
    own = next_url == url
    if own and items:
        raise FeedInvalid(
            url, "`next` is the page's own URL but the page has items (it would loop)"
        )
    license_ = data.get("license")
    page = Page(
        url=url,
        next=next_url,
        items=items,
        is_last=own and not items,
        status=status,
        license=license_ if isinstance(license_, str) else None,
    )
    return page, last_key


def _check_item(url: str, index: int, item: Any) -> None:
    """Raise FeedInvalid naming what is wrong with the page's item at `index`."""
    where = f"item {index + 1}"
    if not isinstance(item, dict):
        raise FeedInvalid(url, f"{where} is not a JSON object")
    missing = [name for name in REQUIRED_ITEM_FIELDS if name not in item]
    if missing:
        raise FeedInvalid(url, f"{where} lacks {', '.join(missing)}")
    if item["state"] not in _STATES:
        raise FeedInvalid(url, f"{where} has state {item['state']!r} (updated or deleted)")
    if not isinstance(item["id"], str | int) or isinstance(item["id"], bool):
        raise FeedInvalid(url, f"{where} has an `id` that is not a string or integer")


def load_json(body: bytes) -> Any:
    """A page's JSON as the walker reads it (raises orjson.JSONDecodeError)."""
    data = orjson.loads(body)
    if isinstance(data, dict) and _has_float_modified(data):
        # orjson reads integers beyond 64 bits as floats: re-read losslessly
        data = json.loads(body)
    return data


def _has_float_modified(data: dict[str, Any]) -> bool:
    items = data.get("items")
    return isinstance(items, list) and any(
        isinstance(item, dict) and isinstance(item.get("modified"), float) for item in items
    )


def _show(key: ModifiedKey) -> str:
    return str(key[1]) if key[0] == 0 else repr(key[2])
