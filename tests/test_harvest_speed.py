"""The harvester's speed mechanisms keep its guarantees: the walker's prefetch (the next page
fetched while the current one is handled) delivers the same pages in the same order and
reports a failing page only after the page before it was handled; the checking worker's
issues are those the harvester would find; a record whose content is unchanged keeps its
stored issues without being checked again. Feeds are served on 127.0.0.1."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from openclubs.harvest import apply as apply_module
from openclubs.harvest import checking
from openclubs.harvest.apply import apply_page, register_feed
from openclubs.harvest.checking import PageChecker, check_page
from openclubs.harvest.records import club_records
from openclubs.harvest.rpde_client import FeedGone, FeedInvalid, Page, walk_feed
from openclubs.harvest.runner import HarvestOptions, harvest_feed
from openclubs.store.base import Store, open_store
from openclubs.store.sqlite import HARVEST_CHECKPOINT_PAGES
from openclubs.validate.engine import check_record
from tests.conftest import LocalSite
from tests.test_harvest_rpde import Sleeps, path_of
from tests.test_harvest_store import club, page, serve


def five_pages(site: LocalSite) -> tuple[str, list[str]]:
    """A feed of five pages of 20 clubs and its end page; returns its URL and the paths the
    server issues, in order."""
    items = [club(n, 1_000 + n) for n in range(100)]
    url = serve(site, "/feed", items, per_page=20, ordering="change")
    paths = ["/feed"] + [f"/feed?afterChangeNumber={1_000 + n}" for n in range(19, 100, 20)]
    return url, paths


def walk(url: str, on_page: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("sleep", Sleeps())
    return walk_feed(url, on_page=on_page, rate_per_second=None, rng=random.Random(3), **kwargs)


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "rpde-prefetch" and t.is_alive()]


# -- the walker's prefetch ---------------------------------------------------------------------


def test_prefetch_asks_for_the_next_page_while_the_page_is_handled(
    local_site: LocalSite,
) -> None:
    url, paths = five_pages(local_site)
    plain: list[Page] = []
    walk(url, plain.append)
    assert local_site.requests == paths
    local_site.requests.clear()

    seen: list[Page] = []
    asked_during: list[bool] = []

    def on_page(got: Page) -> None:
        seen.append(got)
        if not got.is_last:  # the next page is requested before this one is done with
            deadline = time.monotonic() + 10
            wanted = path_of(got.next)
            while wanted not in local_site.requests and time.monotonic() < deadline:
                time.sleep(0.005)
            asked_during.append(wanted in local_site.requests)

    result = walk(url, on_page, prefetch=True)

    assert asked_during == [True] * 5
    assert local_site.requests == paths  # each page once, `next` followed verbatim
    assert [(p.url, p.next, p.items) for p in seen] == [(p.url, p.next, p.items) for p in plain]
    assert result.pages == 6 and result.items == 100 and result.reached_end
    assert not prefetch_threads()


def test_prefetch_ends_when_the_consumer_fails(local_site: LocalSite) -> None:
    url, paths = five_pages(local_site)
    seen: list[str] = []

    def on_page(got: Page) -> None:
        seen.append(got.url)
        raise RuntimeError("the store is full")

    with pytest.raises(RuntimeError, match="the store is full"):
        walk(url, on_page, prefetch=True)

    assert seen == [url]
    assert local_site.requests in (paths[:1], paths[:2])  # at most the one page ahead
    assert not prefetch_threads()


def test_prefetched_page_that_is_busy_is_retried_as_without_prefetch(
    local_site: LocalSite,
) -> None:
    url, paths = five_pages(local_site)
    second = paths[1]
    body = local_site.routes[second][2]
    local_site.add(
        second, "busy", status=503, content_type="text/plain", headers={"Retry-After": "0"}
    )
    handled: list[int] = []

    def recover(_: int) -> None:  # the retry waits only after page 1 was handled
        assert handled == [20]
        local_site.add(second, body)

    sleeps = Sleeps(recover)
    result = walk(url, lambda got: handled.append(len(got.items)), prefetch=True, sleep=sleeps)

    assert sleeps.waits == [0.0] and result.retries == 1 and result.waits == [0.0]
    assert handled == [20] * 5 + [0]
    assert local_site.requests == paths[:2] + paths[1:]


@pytest.mark.parametrize(
    ("status", "text", "error"),
    [(404, "gone", FeedGone), (200, '{"next": 1, "items": [}', FeedInvalid)],
)
def test_prefetched_page_that_fails_is_reported_after_the_page_before(
    local_site: LocalSite, status: int, text: str, error: type[Exception]
) -> None:
    url, paths = five_pages(local_site)
    local_site.add(paths[2], text, status=status, content_type="application/json")
    handled: list[str] = []

    with pytest.raises(error):
        walk(url, lambda got: handled.append(got.url), prefetch=True)

    assert handled == [url, local_site.url(paths[1])]  # both pages before it were handled
    assert not prefetch_threads()


# -- checking in a worker process ----------------------------------------------------------


def test_worker_finds_the_issues_the_harvester_would(local_site: LocalSite) -> None:
    items = [club(n, 1_000 + n) for n in range(30)]
    for n in (3, 17):  # invalid: no name, a postcode that is not one
        del items[n]["data"]["name"]
        items[n]["data"]["location"][0]["address"]["postalCode"] = "XX"
    body = page(items, local_site.url("/f?after=2")).encode()

    answer = orjson.loads(check_page("https://feeds.example.org/f", body))

    expected = []
    for index, item in enumerate(items):
        for position, record in enumerate(
            club_records("https://feeds.example.org/f", item["id"], item["data"])
        ):
            expected.append(
                [index, position, record["@id"], [i.to_dict() for i in check_record(record)]]
            )
    assert answer == expected
    assert any(i["severity"] == "failure" for i in answer[3][3])
    assert check_page("https://feeds.example.org/f", b"<html>not a page</html>") == b"[]"


def counting_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the records checked in this process (by `apply_page`)."""
    calls: list[int] = []

    def counted(record: Any) -> Any:
        calls.append(1)
        return check_record(record)

    monkeypatch.setattr(apply_module, "check_record", counted)
    return calls


def stored_issues(store: Store) -> dict[str, Any]:
    rows = store.harvest_query("SELECT id, issues FROM clubs WHERE state = 'updated' ORDER BY id")
    return {str(i): orjson.loads(v) if isinstance(v, str | bytes) else v for i, v in rows}


def test_harvest_with_a_checking_worker_stores_the_same_issues(
    local_site: LocalSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [club(n, 1_000 + n) for n in range(120)]
    for n in (5, 64, 110):
        del items[n]["data"]["name"]
    url = serve(local_site, "/feed", items, per_page=40)
    calls = counting_checks(monkeypatch)
    monkeypatch.setattr(checking, "MIN_BYTES", 0)  # these small pages go to the worker too
    results = {}
    for workers in (0, 1):
        calls.clear()
        store = open_store(str(tmp_path / f"w{workers}.sqlite3"))
        store.migrate()
        options = HarvestOptions(rate_per_second=None, check_workers=workers)
        result = harvest_feed(store, url, options)
        assert result.status == "caught-up" and result.counts.items == 120
        assert result.counts.invalid == 3
        results[workers] = (stored_issues(store), len(calls))
        store.close()

    assert results[1][0] == results[0][0] and len(results[0][0]) == 120
    assert results[0][1] == 120
    # The first page (not prefetched) is checked here; prefetched pages go to the worker,
    # unless the walker had to fetch one itself (timing on a loaded machine): at least one did.
    assert 40 <= results[1][1] < 120


def test_worker_answer_for_another_record_is_not_used(store: Store) -> None:
    feed = "https://feeds.example.org/rpde"
    register_feed(store, feed)
    items = [club(1, 5), club(2, 6)]
    del items[1]["data"]["name"]
    wrong = {(1, 0): ("https://clubs.example.org/clubs/another", [])}  # not item 2's record

    counts = apply_page(store, feed, Page(feed, feed + "?after=6", items, False), checked=wrong)

    assert counts.invalid == 1
    issues = stored_issues(store)["https://clubs.example.org/clubs/club-00002"]
    assert any(i["severity"] == "failure" and "name" in i["path"] for i in issues)


# -- unchanged content keeps its stored issues -------------------------------------------------


def test_unchanged_record_keeps_its_issues_without_a_check(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = "https://feeds.example.org/rpde"
    register_feed(store, feed)
    items = [club(n, 10 + n) for n in range(6)]
    del items[2]["data"]["name"]
    calls = counting_checks(monkeypatch)
    apply_page(store, feed, Page(feed, feed + "?p=2", items, False))
    first = stored_issues(store)
    assert len(calls) == 6

    calls.clear()  # the same content again, newer: applied, not checked again
    again = [dict(item, modified=item["modified"] + 100) for item in items]
    again[4] = club(4, 200, version=2)  # one really changed
    counts = apply_page(store, feed, Page(feed + "?p=2", feed + "?p=3", again, False))

    assert counts.applied == 6 and counts.invalid == 1
    assert len(calls) == 1  # only the changed record
    now = stored_issues(store)
    assert {k: v for k, v in now.items() if "club-00004" not in k} == {
        k: v for k, v in first.items() if "club-00004" not in k
    }
    assert now["https://clubs.example.org/clubs/club-00002"]  # its failure is still stored


def test_strict_refuses_an_unchanged_invalid_record_from_its_stored_issues(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = "https://feeds.example.org/rpde"
    register_feed(store, feed)
    bad = club(1, 10)
    del bad["data"]["name"]
    apply_page(store, feed, Page(feed, feed + "?p=2", [bad], False))
    calls = counting_checks(monkeypatch)

    counts = apply_page(
        store,
        feed,
        Page(feed + "?p=2", feed + "?p=3", [dict(bad, modified=20)], False),
        strict=True,
    )

    assert counts.refused == 1 and not calls
    rows = store.harvest_query("SELECT modified FROM harvest_items WHERE item_id = 'club-00001'")
    assert rows == [("10",)]  # what was stored stays


def test_page_checker_without_a_pool_checks_nothing() -> None:
    checker = PageChecker("https://feeds.example.org/rpde", workers=0)
    checker.submit("https://feeds.example.org/rpde", b"{}" * 100_000)
    assert checker.take("https://feeds.example.org/rpde") is None
    checker.close()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                found.append(int(entry.name))
    return found


def test_checking_worker_ends_when_its_harvester_is_killed(tmp_path: Path) -> None:
    body = page([club(n, n) for n in range(3)], "https://feeds.example.org/f?after=2")
    (tmp_path / "page.json").write_text(body)
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from openclubs.harvest.checking import PageChecker\n"
        "checker = PageChecker('https://feeds.example.org/f', workers=1, min_bytes=0)\n"
        f"checker.submit('u', Path({str(tmp_path / 'page.json')!r}).read_bytes())\n"
        "assert len(checker.take('u') or {}) == 3\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        workers = children_of(process.pid)
        assert workers  # the pool's worker (and multiprocessing's resource tracker)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


# -- schema migration 2 ------------------------------------------------------------------------


def test_migration_2_keeps_every_item_and_the_organiser_index_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openclubs.harvest import schema

    first = schema.SchemaPart(
        name="harvest", sqlite=schema.PART.sqlite[:1], postgres=schema.PART.postgres[:1]
    )
    monkeypatch.setattr(schema, "PART", first)
    store = open_store(str(tmp_path / "old.sqlite3"))
    store.migrate()
    feed = "https://feeds.example.org/rpde"
    register_feed(store, feed)
    apply_page(store, feed, Page(feed, feed + "?p=2", [club(n, 10 + n) for n in range(5)], False))
    before = store.harvest_query("SELECT * FROM harvest_items ORDER BY item_id")
    monkeypatch.undo()

    assert store.migrate() == 1
    after = store.harvest_query("SELECT * FROM harvest_items ORDER BY item_id")
    plan = store.harvest_query(
        "EXPLAIN QUERY PLAN SELECT feed, item_id FROM harvest_items WHERE organiser_id = ? "
        "AND state = 'updated' ORDER BY feed, item_id LIMIT 5",
        ("https://clubs.example.org/o",),
    )
    sql = store.harvest_query("SELECT sql FROM sqlite_master WHERE name = 'harvest_items'")
    store.close()

    assert after == before and len(after) == 5
    assert "WITHOUT ROWID" in str(sql[0][0])
    assert any("harvest_items_organiser" in str(row[-1]) for row in plan)


# -- WAL checkpoints while harvesting ----------------------------------------------------------


def test_harvesting_checkpoints_the_wal_less_often_and_every_page_stays_committed(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "h.sqlite3")
    store = open_store(db)
    store.migrate()
    assert store.harvest_query("PRAGMA wal_autocheckpoint") == [(1000,)]  # SQLite's default
    feed = "https://feeds.example.org/rpde"
    register_feed(store, feed)
    for n in range(4):
        items = [club(k, k) for k in range(100 * n, 100 * n + 100)]
        apply_page(store, feed, Page(feed + f"?p={n}", feed + f"?p={n + 1}", items, False))

    assert store.harvest_query("PRAGMA wal_autocheckpoint") == [(HARVEST_CHECKPOINT_PAGES,)]
    # another connection (the web app, or the harvest resumed after a SIGKILL) sees every page
    # committed so far, read from the WAL before it is copied back
    with sqlite3.connect(db) as reader:
        counted = reader.execute("SELECT count(*) FROM clubs WHERE state = 'updated'").fetchone()
        feeds = reader.execute("SELECT next_url, items FROM harvest_feeds").fetchall()
    store.close()
    assert counted == (400,)
    assert feeds == [(feed + "?p=4", 400)]
