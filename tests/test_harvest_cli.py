"""`openclubs harvest` end to end: the command on feeds, dataset sites and catalogs served on
127.0.0.1, `harvest status`, club web pages (robots.txt, conditional requests), --strict, and a
harvester killed with SIGKILL at random moments that still ends equal to a clean harvest."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from openclubs.cli.main import cli
from openclubs.harvest.runner import harvest_feed
from openclubs.store.base import Store, open_store
from tests.conftest import LocalSite
from tests.helpers import ROOT
from tests.test_harvest_store import (
    EVERYONE_ACTIVE,
    FAST,
    NEWHAM,
    LiveFeed,
    club,
    current,
    deleted,
    serve,
    serve_real,
)

FAST_FLAGS = ["--rate", "0", "--retry-wait", "0-0.001", "--backoff", "0.001", "--max-retries", "1"]


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_harvest_feed_then_status(tmp_path: Path, local_site: LocalSite) -> None:
    db = str(tmp_path / "h.sqlite3")
    url = serve(local_site, "/clubs", [club(n, 10 + n) for n in range(30)], per_page=10)
    other = serve(local_site, "/other", [club(n, 10 + n) for n in range(40, 45)])
    result = run("harvest", url, other, "--db", db, "-q", *FAST_FLAGS)
    assert result.exit_code == 0, result.output

    # the other feed's end now answers a maintenance page; a third source is no feed at all
    end = "/other?afterTimestamp=54&afterId=club-00044"
    local_site.add(end, "<html><p>down for maintenance</p></html>", content_type="text/html")
    stray = local_site.add("/about", "<html><p>About us</p></html>", content_type="text/html")
    result = run("harvest", url, other, stray, "--db", db, "-q", *FAST_FLAGS)

    assert result.exit_code == 1  # failures are reported; the good feed still harvested
    assert f"{local_site.url(end)}: not JSON (text/html)" in result.output
    assert f"{stray}: an HTML page without a JSON-LD Dataset" in result.output
    store = open_store(db)
    try:
        assert len(current(store)) == 35  # nothing lost from the failed feed
    finally:
        store.close()

    status = run("harvest", "status", "--db", db)
    assert status.exit_code == 0
    assert f"{url}  [caught-up]" in status.output
    assert f"{other}  [error]" in status.output
    assert "30 current items; 5 pages, 30 items read, 30 applied" in status.output
    as_json = json.loads(run("harvest", "status", "--db", db, "--json").output)
    by_url = {s["url"]: s for s in as_json}
    assert by_url[url]["next_url"] == local_site.url("/clubs?afterTimestamp=39&afterId=club-00029")
    assert by_url[url]["last_success"] and by_url[url]["last_error"] is None
    assert by_url[other]["last_error"].startswith(local_site.url(end))
    assert by_url[other]["next_url"] == local_site.url(end) and by_url[other]["current"] == 5


def test_usage_errors(tmp_path: Path) -> None:
    result = run("harvest", "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2 and "at least one SOURCE" in result.output
    result = run("harvest", "feed.json", "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2 and "http(s) URL" in result.output
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("shopping list\n" * 100)
    result = run("harvest", "status", "--db", str(not_a_db))
    assert result.exit_code == 2 and f"{not_a_db}: the store could not be opened" in result.output


def test_strict_refuses_invalid_items(tmp_path: Path, local_site: LocalSite) -> None:
    items = [club(n, 10 + n) for n in range(6)]
    del items[2]["data"]["location"][0]["address"]["postalCode"]  # a failure
    url = serve(local_site, "/clubs", items)
    db = str(tmp_path / "s.sqlite3")

    result = run("harvest", url, "--db", db, "--strict", *FAST_FLAGS)

    assert result.exit_code == 0
    assert "6 items (5 applied, 0 not newer, 0 deletes, 0 invalid, 1 refused" in result.output
    store = open_store(db)
    try:
        assert len(current(store)) == 5
    finally:
        store.close()
    lenient = str(tmp_path / "l.sqlite3")
    result = run("harvest", url, "--db", lenient, "--log-format", "json", *FAST_FLAGS)
    assert "6 applied, 0 not newer, 0 deletes, 1 invalid, 0 refused" in result.output
    logged = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    pages = [entry for entry in logged if entry["message"] == "page applied"]
    assert [(p["feed"], p["items"], p["last"]) for p in pages] == [(url, 6, False), (url, 0, True)]
    assert all(p["level"] == "info" and p["logger"] == "openclubs.harvest.runner" for p in pages)
    store = open_store(lenient)
    try:
        stored = store.get("https://clubs.example.org/clubs/club-00002")
        assert stored is not None and any(
            i["type"] == "missing_required_property" for i in stored.issues
        )
    finally:
        store.close()


def test_follow_polls_the_end_and_picks_up_new_items(store: Store) -> None:
    import threading

    from openclubs.harvest.runner import HarvestOptions

    with LiveFeed([club(n, 10 + n) for n in range(5)], per_page=2) as feed:
        stop = threading.Event()
        options = HarvestOptions(**{**vars_of(FAST), "follow": True, "end_poll_wait": 0.02})
        thread = threading.Thread(
            target=harvest_feed, args=(store, feed.url, options), kwargs={"stop": stop}
        )
        thread.start()
        deadline = time.monotonic() + 10
        while len(current(store)) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        feed.put(club(7, 100))
        feed.put(deleted("club-00001", 101))
        while len(
            current(store)
        ) != 5 or "https://clubs.example.org/clubs/club-00007" not in current(store):
            assert time.monotonic() < deadline, "the new items never arrived"
            time.sleep(0.02)
        stop.set()
        thread.join(5)
        assert not thread.is_alive()
    assert "https://clubs.example.org/clubs/club-00001" not in current(store)


def vars_of(options: Any) -> dict[str, Any]:
    return {name: getattr(options, name) for name in options.__slots__}


# -- discovery ---------------------------------------------------------------------------------


def dataset_site(feed_urls: list[str], publisher: dict[str, Any]) -> str:
    dataset = {
        "@context": ["https://schema.org/", "https://openactive.io/"],
        "@type": "Dataset",
        "name": "Everyone Active Sessions",
        "publisher": publisher,
        "distribution": [
            {
                "@type": "DataDownload",
                "name": "SessionSeries",
                "additionalType": "https://openactive.io/SessionSeries",
                "encodingFormat": "application/vnd.openactive.rpde+json; version=1",
                "contentUrl": url,
            }
            for url in feed_urls
        ],
    }
    return (
        "<!doctype html><html><head><title>Open Data</title>"
        f'<script type="application/ld+json">{json.dumps(dataset)}</script></head>'
        "<body><h1>Open data</h1></body></html>"
    )


def test_catalog_collection_to_dataset_sites_to_feeds(
    tmp_path: Path, local_site: LocalSite
) -> None:
    newham = serve_real(local_site, "/newham/sessions", NEWHAM)
    ea = serve_real(local_site, "/ea/sessions", EVERYONE_ACTIVE)
    publisher = {
        "@type": "Organization",
        "name": "Everyone Active",
        "url": "https://www.everyoneactive.com/",
    }
    local_site.add("/ea/", dataset_site([ea], publisher), content_type="text/html")
    local_site.add(
        "/newham/",
        dataset_site([newham], {"@type": "Organization", "name": "Active Newham"}),
        content_type="text/html",
    )
    local_site.add(
        "/catalogs/singular.jsonld",
        json.dumps(
            {
                "@type": "DataCatalog",
                "dataset": [local_site.url("/ea/"), local_site.url("/missing/")],
            }
        ),
    )
    local_site.add(
        "/catalogs/nested.jsonld",
        json.dumps({"@type": "DataCatalog", "dataset": [local_site.url("/newham/")]}),
    )
    local_site.add(
        "/catalogs/collection.jsonld",
        json.dumps(
            {
                "@type": "DataCatalog",
                "hasPart": [
                    local_site.url("/catalogs/singular.jsonld"),
                    local_site.url("/catalogs/more.jsonld"),
                ],
            }
        ),
    )
    local_site.add(
        "/catalogs/more.jsonld",
        json.dumps(
            {"@type": "DataCatalog", "hasPart": [local_site.url("/catalogs/nested.jsonld")]}
        ),
    )
    db = str(tmp_path / "d.sqlite3")

    result = run(
        "harvest", local_site.url("/catalogs/collection.jsonld"), "--db", db, "-q", *FAST_FLAGS
    )

    assert result.exit_code == 1  # one dataset site of the catalog is missing: said, skipped
    assert f"{local_site.url('/missing/')}: the server answered HTTP 404" in result.output
    store = open_store(db)
    try:
        clubs = current(store)
        assert sorted(c["name"] for c in clubs.values()) == ["Active Newham", "Everyone Active"]
        assert len(clubs["https://www.everyoneactive.com/"]["location"]) == 67
    finally:
        store.close()
    status = json.loads(run("harvest", "status", "--db", db, "--json").output)
    assert {s["url"]: s["dataset"] for s in status} == {
        newham: local_site.url("/newham/"),
        ea: local_site.url("/ea/"),
    }


# -- club web pages ----------------------------------------------------------------------------


def club_page(name: str) -> str:
    record = club(3, 1)["data"] | {"@id": "https://perth-judo.example/", "name": name}
    crumbs = {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": []}
    return (
        "<html><head>"
        f'<script type="application/ld+json">{json.dumps(crumbs)}</script>'
        f'<script type="application/ld+json">{json.dumps(record)}</script>'
        "</head><body>Perth Judo</body></html>"
    )


def test_site_pages_robots_and_conditional_requests(tmp_path: Path, local_site: LocalSite) -> None:
    local_site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    local_site.add(
        "/club", club_page("Perth Judo Club"), content_type="text/html", headers={"ETag": '"v1"'}
    )
    local_site.add("/private/club", club_page("Hidden"), content_type="text/html")
    db = str(tmp_path / "p.sqlite3")

    result = run(
        "harvest",
        "--site",
        local_site.url("/club"),
        "--site",
        local_site.url("/private/club"),
        "--db",
        db,
    )

    assert result.exit_code == 0, result.output
    assert (
        "1 read, 0 unchanged (304), 1 clubs, 0 withdrawn, 0 refused, 1 disallowed" in result.output
    )
    assert "/private/club" not in local_site.requests
    store = open_store(db)
    try:
        assert [c["name"] for c in current(store).values()] == ["Perth Judo Club"]
    finally:
        store.close()

    # the next run asks with If-None-Match; a 304 keeps the club
    seen: list[str | None] = []
    handler = local_site.server.RequestHandlerClass
    original = handler.do_GET  # type: ignore[attr-defined]

    def do_get(self: Any) -> None:
        if self.path == "/club":
            seen.append(self.headers.get("If-None-Match"))
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
        original(self)

    handler.do_GET = do_get  # type: ignore[attr-defined]
    try:
        result = run("harvest", "--site", local_site.url("/club"), "--db", db)
        assert seen == ['"v1"'] and "0 read, 1 unchanged (304)" in result.output
        local_site.add(
            "/club",
            "<html><p>We have closed</p></html>",
            content_type="text/html",
            headers={"ETag": '"v2"'},
        )
        handler.do_GET = original  # type: ignore[attr-defined]
        result = run("harvest", "--site", local_site.url("/club"), "--db", db)
        assert "1 withdrawn" in result.output
    finally:
        handler.do_GET = original  # type: ignore[attr-defined]
    store = open_store(db)
    try:
        assert current(store) == {}
    finally:
        store.close()


def test_crawl_reads_the_sitemap(tmp_path: Path, local_site: LocalSite) -> None:
    local_site.add(
        "/robots.txt", f"Sitemap: {local_site.url('/sitemap.xml')}\n", content_type="text/plain"
    )
    local_site.add(
        "/sitemap.xml",
        f"<urlset><url><loc>{local_site.url('/clubs/a')}</loc></url>"
        "<url><loc>https://elsewhere.example/x</loc></url></urlset>",
        content_type="application/xml",
    )
    local_site.add("/", "<html><p>home</p></html>", content_type="text/html")
    local_site.add("/clubs/a", club_page("Perth Judo Club"), content_type="text/html")
    db = str(tmp_path / "c.sqlite3")
    result = run("harvest", "--site", local_site.url("/"), "--crawl", "--db", db)
    assert result.exit_code == 0, result.output
    assert "2 read" in result.output and "1 clubs" in result.output
    assert not any("elsewhere" in r for r in local_site.requests)


# -- SIGKILL at random moments -----------------------------------------------------------------


def table(db: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def pages_done(db: str) -> int:
    try:
        rows = table(db, "SELECT pages FROM harvest_feeds")
    except sqlite3.Error:
        return 0
    return int(rows[0][0]) if rows else 0


def test_killed_at_random_moments_ends_equal_to_a_clean_harvest(tmp_path: Path) -> None:
    rng = random.Random(20261123)
    items = [club(n, 1000 + n // 3) for n in range(1500)]
    items += [deleted(f"club-{n:05d}", 2000 + n) for n in range(0, 1500, 7)]  # later deletes
    by_id: dict[str, dict[str, Any]] = {}
    for item in items:
        by_id[item["id"]] = item  # a feed lists each item once, at its latest
    with LiveFeed(list(by_id.values()), per_page=25) as feed:
        clean = str(tmp_path / "clean.sqlite3")
        store = open_store(clean)
        store.migrate()
        harvest_feed(store, feed.url, FAST)
        store.close()

        killed = str(tmp_path / "killed.sqlite3")
        command = [
            sys.executable,
            "-m",
            "openclubs",
            "harvest",
            feed.url,
            "--db",
            killed,
            "-q",
            "--rate",
            "0",
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        kills = 0
        started = time.monotonic()
        while kills < 5 and time.monotonic() - started < 30:  # 5 rounds, or 3+ on a busy machine
            # kill once a random number of further pages has been committed, a random few
            # milliseconds later: in the middle of fetching, applying or committing a page
            target = pages_done(killed) + rng.randint(2, 8)
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            while process.poll() is None and pages_done(killed) < target:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.03))
            if process.poll() is not None:
                break  # it finished before the kill
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    assert kills >= 3  # (fewer rounds fit in the time on a busy machine)
    clubs_sql = "SELECT key, id, state, modified, data FROM clubs ORDER BY modified"
    assert table(killed, clubs_sql) == table(clean, clubs_sql)  # even the change numbers
    items_sql = "SELECT item_id, state, modified, club_id FROM harvest_items ORDER BY item_id"
    assert table(killed, items_sql) == table(clean, items_sql)
    feeds_sql = "SELECT next_url, status, items, applied, deletes, skipped FROM harvest_feeds"
    assert table(killed, feeds_sql) == table(clean, feeds_sql)  # nothing read twice
    assert len(table(killed, "SELECT 1 FROM clubs WHERE state = 'updated'")) == 1500 - 215


def test_harvest_and_status_on_postgres(postgres_dsn: str, local_site: LocalSite) -> None:
    url = serve_real(local_site, "/sessions", NEWHAM)

    result = run("harvest", url, "--db", postgres_dsn, "-q", *FAST_FLAGS)

    assert result.exit_code == 0, result.output
    status = json.loads(run("harvest", "status", "--db", postgres_dsn, "--json").output)
    assert [(s["url"], s["status"], s["items"], s["deletes"], s["current"]) for s in status] == [
        (url, "caught-up", 269, 71, 198)
    ]
    store = open_store(postgres_dsn)
    try:
        assert [c["name"] for c in current(store).values()] == ["Active Newham"]
    finally:
        store.close()


def test_follow_with_more_feeds_than_threads_keeps_every_feed_current(tmp_path: Path) -> None:
    """Following a catalog's worth of feeds with a few threads: the feeds take turns, so the
    ones after the first `max_workers` are harvested too, and a change to any of them,
    the last included, arrives while following."""
    import threading

    from openclubs.harvest.runner import HarvestOptions, harvest_feeds

    db = str(tmp_path / "follow.sqlite3")
    store = open_store(db)
    store.migrate()
    store.close()
    feeds = [LiveFeed([club(100 * f + n, 10 + n) for n in range(3)]) for f in range(6)]
    for feed in feeds:
        feed.__enter__()
    try:
        stop = threading.Event()
        options = HarvestOptions(**{**vars_of(FAST), "follow": True, "end_poll_wait": 0.02})
        found: list[Any] = []
        thread = threading.Thread(
            target=lambda: found.extend(
                harvest_feeds(
                    lambda: open_store(db),
                    [f.url for f in feeds],
                    options,
                    stop=stop,
                    max_workers=2,
                )
            )
        )
        thread.start()
        reader = open_store(db)
        try:
            deadline = time.monotonic() + 20
            while len(current(reader)) < 18:
                assert time.monotonic() < deadline, f"only {len(current(reader))} of 18 clubs"
                time.sleep(0.05)
            feeds[-1].put(club(507, 100))  # the last feed, which no thread holds for good
            while "https://clubs.example.org/clubs/club-00507" not in current(reader):
                assert time.monotonic() < deadline, "the new item of the last feed never arrived"
                time.sleep(0.05)
        finally:
            reader.close()
        stop.set()
        thread.join(10)
        assert not thread.is_alive()
    finally:
        for feed in feeds:
            feed.__exit__(None, None, None)
    assert [r.url for r in found] == [f.url for f in feeds]
    assert all(r.error is None and r.pages >= 2 for r in found)
    assert found[-1].counts.applied == 4


def test_follow_looks_at_the_catalog_again_and_takes_its_new_feeds(
    tmp_path: Path, local_site: LocalSite
) -> None:
    """`openclubs harvest DATASET-SITE --follow`, left running: when the publisher adds a
    feed to its dataset site, the harvester finds it at its next look (`--rediscover`)
    and harvests it too; SIGTERM then stops it cleanly."""
    first = serve(local_site, "/a/feed", [club(n, 10 + n) for n in range(3)])
    second = serve(local_site, "/b/feed", [club(50 + n, 10 + n) for n in range(2)])
    publisher = {"@type": "Organization", "name": "Perth and Kinross Leisure"}
    local_site.add("/data/", dataset_site([first], publisher), content_type="text/html")
    db = str(tmp_path / "follow.sqlite3")
    command = [sys.executable, "-m", "openclubs", "harvest", local_site.url("/data/")]
    command += ["--db", db, "-q", "--follow", "--poll-wait", "0.05", "--rediscover", "0.3"]
    command += FAST_FLAGS
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:

        def names() -> set[str]:
            if not Path(db).exists():
                return set()
            try:
                with closing(sqlite3.connect(db)) as connection:
                    query = "SELECT id FROM clubs WHERE state = 'updated'"
                    return {str(row[0]).rpartition("/")[2] for row in connection.execute(query)}
            except sqlite3.OperationalError:  # the tables are not made yet
                return set()

        deadline = time.monotonic() + 20
        while names() != {"club-00000", "club-00001", "club-00002"}:
            assert process.poll() is None and time.monotonic() < deadline, names()
            time.sleep(0.05)
        local_site.add("/data/", dataset_site([first, second], publisher), content_type="text/html")
        while not {"club-00050", "club-00051"} <= names():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the feed added to the dataset site never came"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=20)
    assert process.returncode == 0, errors.decode()
    status = json.loads(run("harvest", "status", "--db", db, "--json").output)
    assert {s["url"] for s in status} == {first, second}


def test_following_in_turns_fails_at_once_when_the_store_cannot_be_opened(tmp_path: Path) -> None:
    """A store that cannot be opened for every thread is an error from the call (as without
    turns), not threads that die one by one while the others, or none, go on."""
    import threading

    import pytest

    from openclubs.harvest.runner import HarvestOptions, harvest_feeds

    db = str(tmp_path / "turns.sqlite3")
    opened: list[Store] = []

    def open_some() -> Store:
        path = db if len(opened) < 2 else str(tmp_path / "no-such-folder" / "turns.sqlite3")
        store = open_store(path)
        opened.append(store)
        return store

    options = HarvestOptions(**{**vars_of(FAST), "follow": True})
    stop = threading.Event()
    stop.set()  # before: the call returned every feed "stopped" and no error
    urls = [f"http://127.0.0.1:9/feed-{n}" for n in range(4)]
    with pytest.raises(Exception, match="unable to open database file"):
        harvest_feeds(open_some, urls, options, stop=stop, max_workers=3)
    assert len(opened) == 2


def test_a_gone_feed_the_catalog_still_lists_takes_turns_again(
    tmp_path: Path, local_site: LocalSite
) -> None:
    """While following with rediscovery, a feed that answered 404 is gone; when its
    dataset site still lists it at the next look, it takes turns again and its items come."""
    import threading

    from openclubs.harvest.runner import HarvestOptions, harvest_feeds

    local_site.add("/later/feed", b"not yet", status=404, content_type="text/plain")
    url = local_site.url("/later/feed")
    other = serve(local_site, "/now/feed", [club(n, 10 + n) for n in range(2)])
    store_path = tmp_path / "gone.sqlite3"
    setup = open_store(str(store_path))
    setup.migrate()
    setup.close()
    looks = threading.Event()

    def find() -> list[str]:
        looks.set()
        return [url, other]

    options = HarvestOptions(**{**vars_of(FAST), "follow": True, "end_poll_wait": 0.02})
    stop = threading.Event()
    found: list[Any] = []
    thread = threading.Thread(
        target=lambda: found.extend(
            harvest_feeds(
                lambda: open_store(str(store_path)),
                [url, other],
                options,
                stop=stop,
                max_workers=2,
                rediscover=find,
                rediscover_every=0.05,
            )
        )
    )
    thread.start()
    reader = open_store(str(store_path))
    try:
        deadline = time.monotonic() + 10
        while not reader.harvest_query("SELECT 1 FROM harvest_feeds WHERE status = 'gone'"):
            assert time.monotonic() < deadline, "the feed never went"
            time.sleep(0.02)
        serve(local_site, "/later/feed", [club(70, 10)])
        while "https://clubs.example.org/clubs/club-00070" not in current(reader):
            assert thread.is_alive() and time.monotonic() < deadline, "never taken again"
            time.sleep(0.02)
    finally:
        reader.close()
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and looks.is_set()
    assert {r.url: r.error for r in found} == {url: None, other: None}
    assert all(r.status in ("caught-up", "stopped") for r in found), found


def test_stopping_does_not_wait_for_a_slow_look_at_the_catalogs(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """SIGTERM (the `stop` event) while the catalogs are being read again from a slow
    server: the harvest returns after a short grace, not when the catalog answers."""
    import threading

    from openclubs.harvest import runner
    from openclubs.harvest.runner import HarvestOptions, harvest_feeds

    monkeypatch.setattr(runner, "DISCOVERY_GRACE", 0.05, raising=False)
    db = str(tmp_path / "slow.sqlite3")
    setup = open_store(db)
    setup.migrate()
    setup.close()
    looking, answer = threading.Event(), threading.Event()

    def slow_catalog() -> list[str]:
        looking.set()
        answer.wait(30)  # a catalog server that takes its time
        return []

    with LiveFeed([club(n, 10 + n) for n in range(2)]) as feed:
        options = HarvestOptions(**{**vars_of(FAST), "follow": True})
        stop = threading.Event()
        found: list[Any] = []
        thread = threading.Thread(
            target=lambda: found.extend(
                harvest_feeds(
                    lambda: open_store(db),
                    [feed.url],
                    options,
                    stop=stop,
                    rediscover=slow_catalog,
                    rediscover_every=0.01,
                )
            )
        )
        thread.start()
        try:
            assert looking.wait(10)
            stop.set()
            thread.join(10)
            assert not thread.is_alive(), "the harvest waited for the catalog"
        finally:
            answer.set()
            thread.join(10)
    assert [(r.url, r.error) for r in found] == [(feed.url, None)]
