"""The publishing web app: the RPDE feed walked end to end against every RPDE 1.0 rule, a
consumer resuming from its saved `next`, the dataset site and catalog, club pages, escaping,
settings and the serve command; and the official feed validator on a real server."""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from fastapi.testclient import TestClient

from openclubs.cli.serve import serve_command
from openclubs.publish.app import create_app
from openclubs.publish.demo import demo_records
from openclubs.publish.rpde import (
    INT64_MAX,
    RequestError,
    build_page,
    parse_position,
)
from openclubs.publish.settings import Settings, SettingsError, load_settings, table
from openclubs.store.export import EXPORTERS
from openclubs.store.sqlite import SQLiteStore, StoredClub
from openclubs.validate import check_record

from .helpers import ROOT, serve_app

BASE = "http://testserver"
FEED = BASE + "/feeds/organizations"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
CRICKET = {
    "@type": "Concept",
    "@id": "https://openactive.io/activity-list#77e3f8fa-c8b3-4e4e-bf1a-ff4b914bb6ec",
    "prefLabel": "Cricket",
    "inScheme": "https://openactive.io/activity-list",
}
CLUBS = 1200
DELETED = range(7, CLUBS, 97)  # 13 tombstones spread through the feed


def club(n: int, base: str = BASE, name: str | None = None, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "@context": "https://openactive.io/",
        "@type": "SportsClub",
        "@id": f"{base}/clubs/club-{n:04d}",
        "name": name or f"Test Club {n}",
        "url": f"https://club{n}.example.org/",
        "activity": [CRICKET],
        "location": {
            "@type": "Place",
            "name": f"Ground {n}",
            "address": {
                "@type": "PostalAddress",
                "streetAddress": f"{n} High Street",
                "addressLocality": "York",
                "postalCode": "YO1 7HH",
                "addressCountry": "GB",
            },
            "geo": {"@type": "GeoCoordinates", "latitude": 53.96, "longitude": -1.08},
        },
    }
    record.update(extra)
    return record


def fill(store: SQLiteStore, base: str = BASE) -> None:
    """1,200 clubs written in four imports, then some deleted (tombstones)."""
    for start in range(0, CLUBS, 300):
        batch: list[tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]] = [
            (club(n, base), {"row": n}, []) for n in range(start, start + 300)
        ]
        store.upsert(batch, "test")
    for n in DELETED:
        assert store.delete(f"club-{n:04d}")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "clubs.sqlite3")
    db.migrate()
    fill(db)
    yield db
    db.close()


@pytest.fixture
def client(store: SQLiteStore) -> TestClient:
    settings = Settings(base_url=BASE, discussion_url="https://github.com/example/clubs/issues")
    return TestClient(create_app(store, settings))


# -- walking the feed --------------------------------------------------------------------------


def check_page(client: TestClient, url: str, after: tuple[int, str] | None) -> dict[str, Any]:
    """Fetch one page and check every RPDE rule that one page can break."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "set-cookie" not in response.headers
    page: dict[str, Any] = response.json()
    assert set(page) == {"next", "items", "license"}  # no JSON-LD keys outside data
    assert page["license"] == LICENSE
    items = page["items"]
    expected_cache = "public, max-age=3600" if items else "public, max-age=8"
    assert response.headers["cache-control"] == expected_cache
    position = after
    for item in items:
        assert item["kind"] == "Organization"
        assert isinstance(item["id"], str)
        assert type(item["modified"]) is int  # an integer, never a string
        assert (item["modified"], item["id"]) > position if position else True
        position = (item["modified"], item["id"])
        if item["state"] == "deleted":
            assert set(item) == {"state", "kind", "id", "modified"}
        else:
            assert item["state"] == "updated"
            assert set(item) == {"state", "kind", "id", "modified", "data"}
            assert item["data"]["@id"] == f"{BASE}/clubs/{item['id']}"
    following = urlsplit(page["next"])
    assert following.scheme == "http" and following.netloc == "testserver"  # absolute
    assert following.path == "/feeds/organizations"
    if items:
        query = parse_qs(following.query)
        assert query == {
            "afterTimestamp": [str(items[-1]["modified"])],
            "afterId": [items[-1]["id"]],
        }
        assert page["next"] != url
    else:
        assert page["next"] == url  # the last page: its own URL, verbatim
    return page


def walk(client: TestClient, url: str = FEED) -> tuple[list[dict[str, Any]], str, int]:
    """Follow `next` to the last page: (items, the last page's URL, pages read)."""
    items: list[dict[str, Any]] = []
    after: tuple[int, str] | None = None
    pages = 0
    while True:
        page = check_page(client, url, after)
        pages += 1
        items.extend(page["items"])
        if not page["items"]:
            again = client.get(page["next"])
            assert again.json() == page  # fetching the last page's `next` gives it again
            return items, url, pages
        after = (page["items"][-1]["modified"], page["items"][-1]["id"])
        url = page["next"]


def test_walk_the_whole_feed(client: TestClient, store: SQLiteStore) -> None:
    items, _, pages = walk(client)
    assert pages == 4  # 500 + 500 + 200, then the empty last page
    assert len(items) == CLUBS
    ids = [item["id"] for item in items]
    assert len(set(ids)) == CLUBS  # every record once
    deleted = {item["id"] for item in items if item["state"] == "deleted"}
    assert deleted == {f"club-{n:04d}" for n in DELETED}
    tail = [(item["id"], item["state"]) for item in items[-len(DELETED) :]]
    assert tail == [(f"club-{n:04d}", "deleted") for n in DELETED]  # moved to the end
    for item in items:
        stored = store.get(item["id"])
        assert stored is not None and stored.modified == item["modified"]
        assert stored.data == item.get("data")
    # the first page is the beginning of time whatever afterId says alone
    assert client.get(FEED + "?afterId=zzz").json()["items"][0] == items[0]


@pytest.mark.parametrize(
    "query",
    [
        "afterTimestamp=99999999999&afterId=club-0001",  # now + 1 year, in seconds
        f"afterTimestamp={int(time.time() * 1000) + 31_536_000_000}&afterId=club-0001",  # in ms
        "afterTimestamp=" + "9" * 40 + "&afterId=x",  # beyond 64 bits
        "afterTimestamp=%2299999999999%22&afterId=x",  # a string-encoded integer
        "afterId=odd%2Fid%26x%3D1&afterTimestamp=99999999999",  # other order and encodings
        "afterTimestamp=99999999999",  # no afterId
    ],
)
def test_future_positions_are_an_empty_last_page(client: TestClient, query: str) -> None:
    url = f"{FEED}?{query}"
    page = check_page(client, url, None)
    assert page["items"] == [] and page["next"] == url


def test_positions_before_the_first_item(client: TestClient) -> None:
    first = client.get(FEED).json()
    for query in ("afterTimestamp=0&afterId=", "afterTimestamp=-5&afterId=a", "afterTimestamp=-1"):
        assert client.get(f"{FEED}?{query}").json()["items"] == first["items"]


@pytest.mark.parametrize("value", ["abc", "1.5", "", "1e9", "0x10", "١٢٣"])
def test_a_bad_position_is_a_400(client: TestClient, value: str) -> None:
    response = client.get(FEED, params={"afterTimestamp": value, "afterId": "x"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["ok"] is False and body["status"] == 400
    assert "afterTimestamp" in body["error"]
    assert body["errors"][0]["parameter"] == "afterTimestamp"


def test_a_consumer_resuming_from_its_saved_next_sees_exactly_the_changes(
    client: TestClient, store: SQLiteStore
) -> None:
    items, saved_next, _ = walk(client)
    copy = {i["id"]: i for i in items}
    # changes after the consumer reached the end: updates, deletions, a new club, a no-op
    store.upsert([(club(3, name="Renamed Club 3"), None, [])], "test")
    store.delete("club-0004")
    store.upsert([(club(500, description="Now with a description."), None, [])], "test")
    store.upsert([(club(1300), None, [])], "test")
    store.delete(f"{BASE}/clubs/club-1100")
    store.upsert([(club(10), {"row": 10}, [])], "test")  # unchanged: must not reappear
    changes, _, _ = walk(client, saved_next)
    assert [(i["id"], i["state"]) for i in changes] == [
        ("club-0003", "updated"),
        ("club-0004", "deleted"),
        ("club-0500", "updated"),
        ("club-1300", "updated"),
        ("club-1100", "deleted"),
    ]
    assert changes[0]["data"]["name"] == "Renamed Club 3"
    copy.update({i["id"]: i for i in changes})
    for key, item in copy.items():  # the consumer's copy equals the store, deletes included
        stored = store.get(key)
        assert stored is not None
        assert (stored.state, stored.modified, stored.data) == (
            item["state"],
            item["modified"],
            item.get("data"),
        )


def test_next_url_encodes_the_id_and_comes_from_the_last_item() -> None:
    entries = [
        StoredClub("a", "x/a", "updated", 5, {"name": "A"}, None, None, [], ""),
        StoredClub("a&b=3 /é", "x/b", "deleted", 9, None, None, None, [], ""),
    ]
    page = build_page(entries, "ignored", FEED, "SportsClub", LICENSE)
    assert page["next"] == FEED + "?afterTimestamp=9&afterId=a%26b%3D3%20%2F%C3%A9"
    assert parse_qs(urlsplit(page["next"]).query)["afterId"] == ["a&b=3 /é"]
    assert page["items"][1] == {"state": "deleted", "kind": "SportsClub", "id": "a&b=3 /é",
                                "modified": 9}  # fmt: skip
    assert build_page([], FEED + "?x=1", FEED, "K", LICENSE)["next"] == FEED + "?x=1"


def test_parse_position() -> None:
    assert parse_position({}) == (None, None)
    assert parse_position({"afterId": "a"}) == (None, None)
    assert parse_position({"afterTimestamp": "12", "afterId": "a"}) == (12, "a")
    assert parse_position({"afterTimestamp": ' "0012" '}) == (12, "")
    assert parse_position({"afterTimestamp": "9" * 5000}) == (INT64_MAX, "")
    with pytest.raises(RequestError) as error:
        parse_position({"afterTimestamp": "12a"})
    assert error.value.body() == {
        "ok": False,
        "error": error.value.error,
        "errors": [{"parameter": "afterTimestamp", "value": "12a", "message": "not an integer"}],
        "status": 400,
    }


def test_unknown_routes_use_the_error_shape(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error": "Not Found", "errors": [], "status": 404}


# -- dataset site, catalog, club pages ---------------------------------------------------------


class Page(HTMLParser):
    """Script blocks (type, in <head>?, text) and start tags of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[tuple[str | None, bool, str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._head = False
        self._script: list[Any] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "head":
            self._head = True
        elif tag == "script":
            self._script = [dict(attrs).get("type"), self._head, ""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._head = False
        elif tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], self._script[1], self._script[2]))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script[2] += data

    def first_jsonld(self) -> Any:
        kind, in_head, text = self.scripts[0]
        assert kind == "application/ld+json" and in_head
        return json.loads(text)


def test_dataset_site(client: TestClient, store: SQLiteStore) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    dataset = Page(response.text).first_jsonld()
    assert dataset["@context"] == ["https://schema.org/", "https://openactive.io/"]
    assert dataset["@type"] == "Dataset"
    assert dataset["@id"] == dataset["url"] == BASE + "/"
    assert dataset["license"] == LICENSE
    assert dataset["publisher"]["@type"] == "Organization" and dataset["publisher"]["name"]
    assert dataset["dateModified"] == store.last_modified()
    assert dataset["discussionUrl"] == "https://github.com/example/clubs/issues"
    assert dataset["documentation"].startswith("https://")
    assert dataset["name"] and dataset["description"] and dataset["keywords"]
    assert dataset["inLanguage"] == ["en-GB"]
    [download] = dataset["distribution"]
    assert download == {
        "@type": "DataDownload",
        "name": "Organization",
        "additionalType": "https://schema.org/Organization",
        "encodingFormat": "application/vnd.openactive.rpde+json; version=1",
        "contentUrl": FEED,
        "totalItems": CLUBS - len(DELETED),  # current clubs, not tombstones
    }
    assert client.get(download["contentUrl"]).status_code == 200


def test_catalog(client: TestClient) -> None:
    response = client.get("/catalog.jsonld")
    assert response.headers["content-type"] == "application/ld+json"
    catalog = response.json()
    assert catalog["@type"] == "DataCatalog" and catalog["@id"] == BASE + "/catalog.jsonld"
    site = Page(client.get("/").text).first_jsonld()
    assert catalog["dataset"] == [site["@id"]]  # exactly equal, as catalog CI compares


def test_club_page_and_json(client: TestClient, store: SQLiteStore) -> None:
    stored = store.get("club-0042")
    assert stored is not None and stored.data is not None
    page = client.get(stored.data["@id"])  # the @id dereferences
    assert page.status_code == 200
    html = Page(page.text)
    assert html.first_jsonld() == stored.data
    assert "Test Club 42" in page.text and "Cricket" in page.text and "YO1 7HH" in page.text
    assert ("a", {"href": "https://club42.example.org/", "rel": "nofollow"}) in html.tags
    assert stored.updated_at in page.text
    record = client.get(stored.data["@id"] + ".json")
    assert record.headers["content-type"] == "application/ld+json"
    assert record.json() == stored.data


def test_unknown_and_deleted_clubs(client: TestClient) -> None:
    assert client.get("/clubs/no-such-club").status_code == 404
    missing = client.get("/clubs/no-such-club.json")
    assert missing.status_code == 404 and missing.json()["ok"] is False
    assert missing.json()["status"] == 404
    gone = client.get("/clubs/club-0007")
    assert gone.status_code == 410 and "removed" in gone.text
    gone_json = client.get("/clubs/club-0007.json")
    assert gone_json.status_code == 410 and gone_json.json()["status"] == 410


def test_hostile_values_are_escaped(client: TestClient, store: SQLiteStore) -> None:
    hostile = club(
        2000,
        name="<script>alert(1)</script>",
        description="</script><script>alert(2)</script><!--",
        url="javascript:alert(3)",
        sameAs=['https://x.example.org/"onmouseover="alert(4)'],
    )
    store.upsert([(hostile, None, [])], "test")
    response = client.get("/clubs/club-2000")
    assert response.status_code == 200
    html = Page(response.text)
    assert [tag for tag, _ in html.tags].count("script") == 1  # only the JSON-LD block
    assert html.first_jsonld() == hostile  # `<\/` still means `</` to a JSON parser
    _, _, block = html.scripts[0]
    assert "</script" not in block and "<!--" not in block and "<\\/script>" in block
    outside = response.text.replace(block, "")
    assert "<script>alert(1)" not in outside and "alert(2)</script>" not in outside
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in outside
    hrefs = [attrs.get("href") or "" for tag, attrs in html.tags if tag == "a"]
    assert not any(h.startswith("javascript:") for h in hrefs)
    assert not any("onmouseover" in attrs for _, attrs in html.tags)
    site = client.get("/").text  # and the dataset site after it
    assert "alert(1)" not in site


# -- settings, the serve command, demo data ----------------------------------------------------


def test_settings_precedence_and_unknown_names(tmp_path: Path) -> None:
    config = tmp_path / "openclubs.toml"
    config.write_text('port = 9000\npage-size = 100\nfeed_kind = "SportsClub"\n')
    env = {"OPENCLUBS_PAGE_SIZE": "200", "OPENCLUBS_WRITE_TOKEN": "", "OPENCLUBS_OTHER": "x"}
    settings = load_settings({"feed_kind": "Club", "host": None}, config, env)
    assert (settings.port, settings.page_size, settings.feed_kind) == (9000, 200, "Club")
    assert settings.write_token is None and settings.host == "127.0.0.1"
    assert settings.base == "http://127.0.0.1:9000"
    assert Settings(base_url="https://clubs.example.org/").base == "https://clubs.example.org"
    as_json = tmp_path / "settings.json"
    as_json.write_text(json.dumps({"license": "https://example.org/l", "colour": "red"}))
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        load_settings(config_file=as_json, environ={})
    with pytest.raises(SettingsError, match="must be an integer"):
        load_settings(environ={"OPENCLUBS_PORT": "eighty"})
    with pytest.raises(SettingsError, match="out of range"):
        load_settings({"page_size": 0}, environ={})
    names = [name for name, _, _ in table()]
    assert names[:5] == ["db", "host", "port", "base_url", "page_size"]
    assert "write_token" in names and all(text for _, _, text in table())


def test_serve_help_lists_every_setting() -> None:
    result = CliRunner().invoke(serve_command, ["--help"])
    assert result.exit_code == 0
    for name, _, _ in table():
        assert "--" + name.replace("_", "-") in result.output
    assert "--config" in result.output and "--demo" in result.output
    assert "OPENCLUBS_BASE_URL" in result.output


def test_serve_rejects_an_unknown_setting_in_its_config(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('colour = "red"\n')
    result = CliRunner().invoke(serve_command, ["--config", str(config)])
    assert result.exit_code == 2 and "unknown setting 'colour'" in result.output


def test_serve_demo_loads_the_demo_clubs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}

    def fake_run(app: Any, host: str, port: int) -> None:
        client = TestClient(app)
        served["feed"] = client.get("/feeds/organizations").json()
        served["club"] = client.get(urlsplit(served["feed"]["items"][0]["data"]["@id"]).path)
        served["where"] = (host, port)

    monkeypatch.setattr(uvicorn, "run", fake_run)  # serve calls uvicorn.run
    db = tmp_path / "demo.sqlite3"
    args = ["--db", str(db), "--port", "8123", "--demo"]
    result = CliRunner().invoke(serve_command, args, env={"OPENCLUBS_HOST": "127.0.0.2"})
    assert result.exit_code == 0, result.output
    assert served["where"] == ("127.0.0.2", 8123)
    items = served["feed"]["items"]
    assert len(items) == len(demo_records(BASE)) >= 5
    for item in items:
        assert item["data"]["@id"] == f"http://127.0.0.2:8123/clubs/{item['id']}"
    assert served["club"].status_code == 200
    again = CliRunner().invoke(serve_command, args)  # not empty any more: nothing loaded
    assert "loaded" not in again.output


def test_demo_records_are_valid_and_varied() -> None:
    records = [record for _, record in demo_records("https://clubs.example.org/")]
    assert 5 <= len(records) <= 8
    for record in records:
        failures = [i for i in check_record(record) if i.severity == "failure"]
        assert failures == [], record["@id"]
        assert record["@id"].startswith("https://clubs.example.org/clubs/")
    postcodes = {r["location"]["address"]["postalCode"][:2] for r in records if
                 isinstance(r["location"], dict)}  # fmt: skip
    assert len(postcodes) >= 5  # across the UK


# -- the official OpenActive feed validator on a real server ------------------------------------

PEERS = ROOT / "build" / "shared" / "peers"


@pytest.mark.peers
@pytest.mark.parametrize("page_size", [500, 200])
def test_official_rpde_validator_walks_the_served_feed(tmp_path: Path, page_size: int) -> None:
    if shutil.which("node") is None or not (PEERS / "node" / "node_modules").is_dir():
        pytest.skip("node or the official validators (build/shared/peers/node) are missing")
    store = SQLiteStore(tmp_path / "served.sqlite3")
    store.migrate()

    def make_app(base: str) -> Any:
        fill(store, base)  # ids are this server's /clubs/ addresses
        return create_app(store, Settings(base_url=base, page_size=page_size))

    try:
        with serve_app(make_app) as base:
            feed = f"{base}/feeds/organizations"
            run = subprocess.run(
                ["node", str(PEERS / "rpde.js"), feed, "--summary"],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
    finally:
        store.close()
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    summary, messages = lines[-1], lines[:-1]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "failure" not in summary["summary"], json.dumps(messages, indent=1)
    # The walk: the pages with items, our natural last page, then the validator's own probe
    # (afterTimestamp = now + 1 year) and, from it, that page's `next` again.
    pages = summary["pages"]
    with_items = -(-CLUBS // page_size)
    assert pages[0] == feed and len(pages) == with_items + 2
    natural_last, probe = pages[-2], pages[-1]
    assert int(parse_qs(urlsplit(probe).query)["afterTimestamp"][0]) > 10**9  # far future
    expected = {
        # The validator's HTTP rules run before it has read the page, when it cannot yet
        # know that a page is the last one; only its own probe is fetched as "the last
        # page". So our real last page, rightly sent with max-age=8 as the OpenActive
        # scaling guidance asks, is judged as a middle page that wants max-age=3600.
        ("warning", "HttpCacheHeaderRule", natural_last),
        # A notice that item data can be checked with the data model validator (the
        # envelope validator does not look inside `data`).
        ("suggestion", "ItemDataPromptRule", feed),
    }
    # A recommendation, not a rule ("actual default limit should be based on query
    # performance"): a page with fewer than 500 items, when the page after it is not the
    # last page. With the default 500 only the tail page is short, and the last page
    # follows it, so this appears only with a smaller page size.
    if page_size < 500:
        expected |= {("warning", "MinimumItemsRule", url) for url in pages[: with_items - 1]}
    found = {(m["severity"], m["rule"], m["url"]) for m in messages}
    assert found == expected, json.dumps(messages, indent=1)


def test_raw_pages_equal_decoded_pages(store: SQLiteStore) -> None:
    """The feed serialises stored JSON directly; it must give the page `build_page` gives."""
    from openclubs.publish.rpde import build_page_bytes

    for after in ((None, None), (300, "club-0300"), (10**9, "x")):
        entries = store.page(after[0], after[1], 500)
        rows = store.page_raw(after[0], after[1], 500)
        own = FEED + "?afterTimestamp=1"
        decoded = build_page(entries, own, FEED, "Organization", LICENSE)
        raw, last = build_page_bytes(rows, own, FEED, "Organization", LICENSE)
        assert json.loads(raw) == decoded
        assert last == (not decoded["items"])


def test_serve_with_two_workers_serves_the_feed_and_pages(tmp_path: Path) -> None:
    """`--workers 2`: uvicorn starts two worker processes, each building its app and store
    from the parent's settings; both answer with the same feed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = tmp_path / "workers.sqlite3"
    command = [sys.executable, "-m", "openclubs", "serve", "--demo", "--db", str(db)]
    command += ["--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        feed: dict[str, Any] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                feed = httpx.get(base + "/feeds/organizations", timeout=5).json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert len(feed["items"]) == 8, "the demo clubs"
        pages = [httpx.get(base + "/feeds/organizations", timeout=5).content for _ in range(6)]
        assert len(set(pages)) == 1  # every worker serves the same page
        club = feed["items"][0]["data"]["@id"]
        assert club.startswith(base + "/clubs/") and httpx.get(club, timeout=5).status_code == 200
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    assert b"Traceback" not in err, err.decode()


# -- downloads --------------------------------------------------------------------------------


def test_downloads_stream_the_same_files_as_export(client: TestClient, store: SQLiteStore) -> None:
    """The dataset site links three downloads; each is the `openclubs export` file of the
    store, streamed in chunks (1,187 clubs: several 64 KB chunks)."""
    page = client.get("/").text
    current = CLUBS - len(DELETED)
    for fmt, name in (
        ("jsonld", "clubs.jsonl"),
        ("csv", "clubs.csv"),
        ("geojson", "clubs.geojson"),
    ):
        assert f'href="{BASE}/downloads/{name}"' in page
        response = client.get(f"/downloads/{name}")
        assert response.status_code == 200
        assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
        out = io.BytesIO()
        EXPORTERS[fmt](store.iter_clubs(), out)
        assert response.content == out.getvalue()
    lines = client.get("/downloads/clubs.jsonl").content.splitlines()
    assert len(lines) == current and json.loads(lines[0])["@id"] == f"{BASE}/clubs/club-0000"
    rows = list(csv.reader(io.StringIO(client.get("/downloads/clubs.csv").text)))
    assert rows[0][:2] == ["id", "name"] and len(rows) == current + 1
    features = client.get("/downloads/clubs.geojson").json()["features"]
    assert len(features) == current and features[0]["geometry"]["coordinates"] == [-1.08, 53.96]
    assert "Test Club 7" not in client.get("/downloads/clubs.csv").text.splitlines()[8]  # deleted
    missing = client.get("/downloads/clubs.xml")
    assert missing.status_code == 404 and "clubs.csv" in missing.json()["error"]


def test_a_failing_export_ends_the_download_instead_of_hanging(store: SQLiteStore) -> None:
    from openclubs.publish.downloads import stream_export

    class Failing:
        """A store whose reads fail after 600 clubs (a database that went away)."""

        def iter_clubs(self) -> Iterator[StoredClub]:
            for number, stored in enumerate(store.iter_clubs()):
                if number == 600:
                    raise sqlite3.OperationalError("the database went away")
                yield stored

    chunks = stream_export(Failing(), "csv")  # type: ignore[arg-type]
    received = b""
    with pytest.raises(sqlite3.OperationalError, match="went away"):
        for chunk in chunks:
            received += chunk
    assert received.startswith(b"id,name,") and received.count(b"\n") < 600
