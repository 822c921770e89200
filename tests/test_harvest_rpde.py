"""The RPDE consumer core against real HTTP servers on 127.0.0.1 (never the internet, never
sleeping for real: `sleep` is injected everywhere)."""

from __future__ import annotations

import json
import logging
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlsplit

import pytest

from openclubs.harvest.rpde_client import (
    FeedError,
    FeedGone,
    FeedInvalid,
    HostRateLimiter,
    Page,
    modified_key,
    retry_after_seconds,
    walk_feed,
)
from openclubs.ingest.fetch import USER_AGENT
from tests.conftest import LocalSite

FEEDS = Path("/work/shared/data/feeds")


class Sleeps:
    """An injected `sleep` that records every wait (and can run a hook on each)."""

    def __init__(self, hook: Any = None) -> None:
        self.waits: list[float] = []
        self.hook = hook

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.hook is not None:
            self.hook(len(self.waits))


def page(items: list[dict[str, Any]], next_url: str, **extra: Any) -> str:
    return json.dumps({"next": next_url, "items": items, **extra})


def item(id_: str, modified: int | str, state: str = "updated") -> dict[str, Any]:
    data = {"@type": "SportsClub", "name": id_} if state == "updated" else None
    body: dict[str, Any] = {"state": state, "kind": "SportsClub", "id": id_, "modified": modified}
    if data is not None:
        body["data"] = data
    return body


def walk(url: str, **kwargs: Any) -> tuple[list[Page], Any]:
    pages: list[Page] = []
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("rate_per_second", None)
    kwargs.setdefault("rng", random.Random(7))
    result = walk_feed(url, on_page=pages.append, **kwargs)
    return pages, result


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- real pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["active-newham-sessions-2020-01-02.json", "everyone-active-sessions-2020-01-06.json"],
)
def test_real_page_walked_to_a_synthetic_last_page(local_site: LocalSite, name: str) -> None:
    original = json.loads((FEEDS / name).read_text(encoding="utf-8"))
    query = urlsplit(original["next"]).query
    last_url = local_site.url(f"/feed?{query}")
    local_site.add("/feed", page(original["items"], last_url, license=original["license"]))
    local_site.add(f"/feed?{query}", page([], last_url))

    pages, result = walk(local_site.url("/feed"))

    assert [p.url for p in pages] == [local_site.url("/feed"), last_url]
    assert pages[0].items == original["items"]
    assert pages[0].license == original["license"]
    assert not pages[0].is_last and pages[1].is_last
    assert result.pages == 2 and result.items == len(original["items"])
    assert result.next_url == last_url and result.reached_end
    assert local_site.requests == ["/feed", f"/feed?{query}"]


def test_sends_user_agent_naming_openclubs(local_site: LocalSite) -> None:
    seen: list[str] = []

    original_handler = cast(type[BaseHTTPRequestHandler], local_site.server.RequestHandlerClass)

    class Recording(original_handler):  # type: ignore[valid-type,misc]
        def do_GET(self) -> None:
            seen.append(self.headers.get("User-Agent", ""))
            super().do_GET()

    local_site.server.RequestHandlerClass = Recording
    url = local_site.add("/f", "")
    local_site.add("/f", page([], url))
    walk(url)
    assert seen == [USER_AGENT] and "openclubs" in seen[0]


# -- a generated feed with ids that need URL-encoding -----------------------------------------


def test_generated_feed_follows_next_verbatim(local_site: LocalSite) -> None:
    awkward = ["a&b=3", "with space", "plus+sign", "slash/and?q", "per%cent", "é"]
    ids = [f"{awkward[(n // 100) % len(awkward)]}-{n:04d}" for n in range(1200)]  # each at an edge
    records = [item(ids[n], 1_000 + n // 3) for n in range(1200)]  # equal modifieds too
    issued: list[str] = ["/rpde"]
    for start in range(0, 1200, 100):
        chunk = records[start : start + 100]
        last = chunk[-1]
        nxt = f"/rpde?afterTimestamp={last['modified']}&afterId={quote(last['id'], safe='')}"
        local_site.add(issued[-1], page(chunk, local_site.url(nxt)))
        issued.append(nxt)
    local_site.add(issued[-1], page([], local_site.url(issued[-1])))

    pages, result = walk(local_site.url("/rpde"))

    assert local_site.requests == issued  # exactly the URLs the server issued, never rebuilt
    for encoded in ("a%26b%3D3", "with%20space", "plus%2Bsign", "slash%2Fand%3Fq", "per%25cent"):
        assert any(f"afterId={encoded}-" in p for p in issued)
    assert [i["id"] for p in pages for i in p.items] == ids
    assert result.pages == 13 and result.items == 1200 and result.reached_end
    assert result.next_url == local_site.url(issued[-1])


def test_empty_page_that_is_not_the_end_continues(local_site: LocalSite) -> None:
    end = local_site.url("/f?after=3")
    local_site.add("/f", page([item("a", 1)], local_site.url("/f?after=1")))
    local_site.add("/f?after=1", page([], local_site.url("/f?after=2")))  # filtered: empty
    local_site.add("/f?after=2", page([item("b", 3)], end))
    local_site.add("/f?after=3", page([], end))

    pages, result = walk(local_site.url("/f"))

    assert [len(p.items) for p in pages] == [1, 0, 1, 0]
    assert [p.is_last for p in pages] == [False, False, False, True]
    assert result.items == 2 and result.reached_end


def test_max_pages_and_polling_at_the_end(local_site: LocalSite) -> None:
    end = local_site.add("/f", "")
    local_site.add("/f", page([], end))
    sleeps = Sleeps()
    pages, _ = walk(end, stop_at_end=False, max_pages=3, sleep=sleeps, end_poll_wait=8)
    assert len(pages) == 3 and all(p.is_last for p in pages)
    assert sleeps.waits == [8, 8, 8]
    assert local_site.requests == ["/f"] * 3


def test_relative_next_is_resolved_with_a_warning(
    local_site: LocalSite, caplog: pytest.LogCaptureFixture
) -> None:
    local_site.add("/f", page([item("a", 1)], "/f?afterId=a%26b"))
    local_site.add("/f?afterId=a%26b", page([], local_site.url("/f?afterId=a%26b")))
    with caplog.at_level(logging.WARNING, logger="openclubs.harvest.rpde_client"):
        pages, _ = walk(local_site.url("/f"))
    assert pages[0].next == local_site.url("/f?afterId=a%26b")
    assert local_site.requests == ["/f", "/f?afterId=a%26b"]
    assert any("relative" in r.getMessage() for r in caplog.records)


# -- broken feeds ------------------------------------------------------------------------------


def test_html_instead_of_json(local_site: LocalSite) -> None:
    url = local_site.add("/f", "<!doctype html><p>Site maintenance</p>", content_type="text/html")
    with pytest.raises(FeedInvalid) as caught:
        walk(url)
    assert isinstance(caught.value, FeedError)
    assert str(caught.value).startswith(f"{url}: not JSON (text/html)")


def test_invalid_json(local_site: LocalSite) -> None:
    url = local_site.add("/f", '{"next": "x", "items": [')
    with pytest.raises(FeedInvalid, match=r"not JSON \(application/json\)") as caught:
        walk(url)
    assert caught.value.url == url and url in str(caught.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[]", "not an object"),
        ('{"next": "http://x/"}', "`items` is missing"),
        ('{"items": []}', "`next` is missing"),
        ('{"items": [], "next": 3}', "`next` is missing or not a string"),
        (
            '{"items": [{"id": "a", "kind": "k", "state": "updated"}], "next": "/n"}',
            "lacks modified",
        ),
        (
            '{"items": [{"id": "a", "kind": "k", "state": "x", "modified": 1}], "next": "/n"}',
            "state",
        ),
        (
            '{"items": [{"id": "a", "kind": "k", "state": "updated", "modified": 1.5}],'
            ' "next": "/n"}',
            "integer or a string",
        ),
    ],
)
def test_page_shape_is_checked(local_site: LocalSite, body: str, message: str) -> None:
    url = local_site.add("/f", body)
    with pytest.raises(FeedInvalid, match=message):
        walk(url)


def test_next_equal_to_itself_with_items_is_a_loop(local_site: LocalSite) -> None:
    url = local_site.add("/f", "")
    local_site.add("/f", page([item("a", 1)], url))
    with pytest.raises(FeedInvalid, match="would loop"):
        walk(url)


def test_modified_as_string_encoded_integers(local_site: LocalSite) -> None:
    big = 2**70
    end = local_site.url("/f?2")
    local_site.add("/f", page([item("a", "9"), item("b", "10"), item("c", str(big))], end))
    local_site.add("/f?2", page([item("d", big + 1)], local_site.url("/f?3")))
    local_site.add("/f?3", page([], local_site.url("/f?3")))
    # as strings "9" > "10"; as big integers the order is right and the feed is valid
    pages, result = walk(local_site.url("/f"))
    assert result.items == 4 and result.reached_end
    assert [i["modified"] for i in pages[0].items] == ["9", "10", str(big)]


def test_modified_key_compares_big_ints_and_strings() -> None:
    assert modified_key("10") > modified_key(9)
    assert modified_key(2**80) > modified_key(str(2**79))
    assert modified_key("2020-01-02T00:00:00Z") > modified_key("2020-01-01T23:00:00Z")
    assert modified_key("abc") > modified_key(10**30)  # strings after every integer
    with pytest.raises(ValueError):
        modified_key(True)


def test_next_going_backwards(local_site: LocalSite) -> None:
    local_site.add("/f", page([item("a", 5), item("b", 6)], local_site.url("/f?after=6")))
    local_site.add("/f?after=6", page([item("c", 7)], local_site.url("/f?after=2")))
    local_site.add("/f?after=2", page([item("b", 3)], local_site.url("/f?after=3")))
    seen: list[Page] = []
    with pytest.raises(FeedInvalid, match="goes backwards") as caught:
        walk_feed(local_site.url("/f"), on_page=seen.append, sleep=Sleeps(), rate_per_second=None)
    assert caught.value.url == local_site.url("/f?after=2")
    assert len(seen) == 2  # the pages before the bad one were delivered, the bad one not


def test_next_going_back_to_an_earlier_empty_page(local_site: LocalSite) -> None:
    local_site.add("/f", page([], local_site.url("/f?1")))
    local_site.add("/f?1", page([], local_site.url("/f")))  # would loop forever
    with pytest.raises(FeedInvalid, match="goes back to a page already read") as caught:
        walk(local_site.url("/f"))
    assert caught.value.url == local_site.url("/f?1")


# -- HTTP faults -------------------------------------------------------------------------------


def test_503_with_retry_after_then_success(local_site: LocalSite) -> None:
    url = local_site.add(
        "/f", "busy", status=503, content_type="text/plain", headers={"Retry-After": "0"}
    )

    def recover(_: int) -> None:
        local_site.add("/f", page([], url))

    sleeps = Sleeps(recover)
    pages, result = walk(url, sleep=sleeps)
    assert sleeps.waits == [0.0]  # Retry-After honoured, not 60–120 minutes
    assert result.retries == 1 and result.waits == [0.0]
    assert pages[0].is_last and local_site.requests == ["/f", "/f"]


def test_429_without_retry_after_waits_in_retry_wait_range(local_site: LocalSite) -> None:
    url = local_site.add("/f", "slow down", status=429, content_type="text/plain")
    sleeps = Sleeps(lambda _: local_site.add("/f", page([], url)))
    walk(url, sleep=sleeps)
    assert len(sleeps.waits) == 1 and 3600 <= sleeps.waits[0] <= 7200

    local_site.add("/f", "slow down", status=429, content_type="text/plain")
    sleeps = Sleeps(lambda _: local_site.add("/f", page([], url)))
    walk(url, sleep=sleeps, retry_wait=(2, 3))
    assert len(sleeps.waits) == 1 and 2 <= sleeps.waits[0] <= 3


def test_retry_after_http_date() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(header, now=now) == 90
    assert retry_after_seconds(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_403_retried_a_few_times(local_site: LocalSite) -> None:
    url = local_site.add("/f", "no", status=403, content_type="text/plain")
    sleeps = Sleeps()
    with pytest.raises(FeedError, match=r"HTTP 403.*after 2 retries") as caught:
        walk(url, sleep=sleeps, max_forbidden_retries=2)
    assert caught.value.status == 403 and not isinstance(caught.value, FeedGone)
    assert len(sleeps.waits) == 2 and all(1 <= w <= 3 for w in sleeps.waits)
    assert local_site.requests == ["/f"] * 3


@pytest.mark.parametrize("status", [404, 410])
def test_404_later_is_gone(local_site: LocalSite, status: int) -> None:
    local_site.add("/f", page([item("a", 1)], local_site.url("/f?2")))
    local_site.add("/f?2", "gone", status=status, content_type="text/plain")
    seen: list[Page] = []
    sleeps = Sleeps()
    with pytest.raises(FeedGone, match=f"gone \\(HTTP {status}\\)") as caught:
        walk_feed(local_site.url("/f"), on_page=seen.append, sleep=sleeps, rate_per_second=None)
    assert caught.value.url == local_site.url("/f?2") and caught.value.status == status
    assert len(seen) == 1 and sleeps.waits == []  # never retried
    assert local_site.requests == ["/f", "/f?2"]


def test_500_twice_then_success_backs_off(local_site: LocalSite) -> None:
    url = local_site.add("/f", "oops", status=500, content_type="text/plain")

    def recover(count: int) -> None:
        if count == 2:
            local_site.add("/f", page([], url))

    sleeps = Sleeps(recover)
    pages, result = walk(url, sleep=sleeps, backoff_base=1.0)
    assert len(sleeps.waits) == 2
    first, second = sleeps.waits
    assert 1.0 <= first < 1.5 and 2.0 <= second < 3.0 and second > first
    assert result.retries == 2 and pages[0].is_last
    assert local_site.requests == ["/f"] * 3


def test_500_forever_gives_up(local_site: LocalSite) -> None:
    url = local_site.add("/f", "oops", status=502, content_type="text/plain")
    sleeps = Sleeps()
    with pytest.raises(FeedError, match=r"server error \(HTTP 502\), still after 3 retries"):
        walk(url, sleep=sleeps, max_retries=3, backoff_base=1.0, backoff_max=3.0)
    assert len(sleeps.waits) == 3
    assert sleeps.waits[2] < 4.5  # capped by backoff_max (plus jitter)


def test_connection_refused_backs_off_then_fails() -> None:
    with socket.socket() as sock:  # a port on 127.0.0.1 that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/f"
    sleeps = Sleeps()
    with pytest.raises(FeedError, match="could not connect") as caught:
        walk(url, sleep=sleeps, max_retries=2)
    assert str(caught.value).startswith(f"{url}: ")
    assert len(sleeps.waits) == 2 and sleeps.waits[1] > sleeps.waits[0]


def test_other_4xx_is_an_error_without_retry(local_site: LocalSite) -> None:
    url = local_site.add("/f", "bad", status=400, content_type="text/plain")
    with pytest.raises(FeedError, match="HTTP 400") as caught:
        walk(url)
    assert caught.value.status == 400 and local_site.requests == ["/f"]


# -- politeness --------------------------------------------------------------------------------


def test_host_rate_limiter_spaces_requests_per_host() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = HostRateLimiter(4.0, clock=lambda: now[0])
    for _ in range(3):
        limiter.wait("http://a.example/feed", sleep)
    limiter.wait("http://b.example/feed", sleep)  # another host: no wait
    assert slept == [0.25, 0.25]
    assert HostRateLimiter(None).wait("http://a.example/", sleep) == 0.0


def test_walk_uses_the_rate_limiter(local_site: LocalSite) -> None:
    local_site.add("/f", page([item("a", 1)], local_site.url("/f?2")))
    local_site.add("/f?2", page([], local_site.url("/f?2")))
    now = [0.0]
    sleeps = Sleeps()
    limiter = HostRateLimiter(2.0, clock=lambda: now[0])  # the clock never moves
    walk(local_site.url("/f"), sleep=sleeps, rate_limiter=limiter)
    assert sleeps.waits == [0.5]
