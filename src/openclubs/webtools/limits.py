"""Per-visitor limits for the web tools: failed moderator sign-ins and submissions from /build.

`WindowLimiter` counts events per key (a visitor's address) over a sliding window: at most
`limit` events in any `window` seconds. It lives in the server process's memory, so with
`serve --workers N` each worker counts alone, and a restart forgets everything; that is
enough to turn token guessing at full speed into a handful of guesses an hour, and to stop
one visitor filling the moderators' queue, without a table or another service.

Memory is bounded: a key keeps at most `limit` times, keys idle for a whole window are
forgotten, and past `max_keys` the least recently active key is dropped (which can only
give that visitor their allowance back early, never refuse someone wrongly).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fastapi import Request

MAX_KEYS = 10_000  # visitors remembered at once: a few MB at most
SIGNIN_FAILURES = 5  # failed moderator sign-ins allowed from one address ...
SIGNIN_WINDOW = 15 * 60.0  # ... in this many seconds; then it waits
SUBMISSION_WINDOW = 3600.0  # the `submissions_per_hour` setting counts over an hour


class WindowLimiter:
    """At most `limit` events per key in any `window` seconds (a sliding window).

    `clock` returns seconds (monotonic by default, so a change of the system time neither
    frees nor locks anyone); tests pass a clock they move by hand. All methods are safe to
    call from several threads: FastAPI runs plain functions in a thread pool.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("a limiter needs limit >= 1, window > 0 and max_keys >= 1")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._lock = threading.Lock()
        # key -> times of its recent events, oldest first; the dict's order is by last event,
        # so idle keys are at the front and forgetting them costs only what is forgotten
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        """The key's events still inside the window (older ones dropped); lock held."""
        times = self._events.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._events[key]
            return None
        return times

    def _wait(self, times: deque[float] | None, now: float) -> float:
        """Seconds until one more event is allowed (0.0: allowed now); lock held."""
        if times is None or len(times) < self.limit:
            return 0.0
        return max(0.0, times[-self.limit] + self.window - now)

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may have another event; 0.0 when it may now."""
        with self._lock:
            now = self.clock()
            return self._wait(self._recent(key, now), now)

    def hit(self, key: str) -> float:
        """Count one event for `key` (even over the limit: a failure is a failure); the
        seconds it must now wait, 0.0 when it may go on."""
        with self._lock:
            now = self.clock()
            return self._count(key, self._recent(key, now), now)

    def acquire(self, key: str) -> float:
        """Count one event for `key` only when it is allowed, as one step (two requests at
        once cannot both take the last place): 0.0 when counted, else the seconds to wait."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            wait = self._wait(times, now)
            if wait == 0.0:
                self._count(key, times, now)
            return wait

    def _count(self, key: str, times: deque[float] | None, now: float) -> float:
        """Record an event at `now`; the wait that follows. Lock held."""
        if times is None:
            times = self._events[key] = deque(maxlen=self.limit)
        times.append(now)
        self._events.move_to_end(key)
        self._forget_idle(now)
        return self._wait(times, now)

    def release(self, key: str) -> None:
        """Take back `key`'s latest event (the thing it allowed did not happen after all)."""
        with self._lock:
            times = self._events.get(key)
            if times:
                times.pop()
                if not times:
                    del self._events[key]

    def clear(self, key: str) -> None:
        """Forget `key`'s events (a moderator who signs in is no longer guessing)."""
        with self._lock:
            self._events.pop(key, None)

    def _forget_idle(self, now: float) -> None:
        """Drop keys whose last event has left the window, then the least recently active
        ones past `max_keys`; lock held."""
        while self._events:
            key, times = next(iter(self._events.items()))
            if times and times[-1] > now - self.window and len(self._events) <= self.max_keys:
                break
            del self._events[key]


def client_key(request: Request) -> str:
    """Whom a request is counted against: the address it came from. An IPv6 address counts
    as its /64 network, since one home or server is usually given a whole /64 and could
    otherwise take a fresh address for every try.

    X-Forwarded-For is not read here: behind a reverse proxy on the same machine, uvicorn
    (as `openclubs serve` runs it) already puts the visitor's address in `request.client`
    for proxies in FORWARDED_ALLOW_IPS (127.0.0.1 and ::1 by default); from anyone else
    the header is a claim the visitor makes, and would let them pick a fresh key per try.
    """
    host = request.client.host if request.client is not None else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def in_minutes(seconds: float) -> str:
    """A wait in whole minutes, rounded up, in words: "1 minute", "15 minutes"."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def retry_after_header(seconds: float) -> str:
    """The Retry-After value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))


__all__ = [
    "MAX_KEYS",
    "SIGNIN_FAILURES",
    "SIGNIN_WINDOW",
    "SUBMISSION_WINDOW",
    "WindowLimiter",
    "client_key",
    "in_minutes",
    "retry_after_header",
]
