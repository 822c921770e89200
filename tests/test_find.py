"""`GET /api/clubs`, `GET /api/activities`, the /find page without JavaScript, and
`openclubs search`, on the fixed dataset of tests.test_search."""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from openclubs.cli.main import cli
from openclubs.publish import find
from openclubs.publish.app import create_app
from openclubs.publish.settings import Settings
from openclubs.search.engine import Search
from openclubs.store.base import Store, open_store
from tests.helpers import serve_app
from tests.test_search import BASE, GYC, NEAR, load
from tests.test_search_place import FakePostcodesIo, running_postcodes_io

MARTIAL_ARTS_NEAR_SE10 = ["judo-1km", "girls-karate-2km", "karate-3km", "two-places", "script-6km"]


@pytest.fixture
def postcodes_io(vocab_cache: Path) -> Iterator[FakePostcodesIo]:
    with running_postcodes_io() as fake:
        yield fake


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "clubs.sqlite3")
    store = open_store(path)
    store.migrate()
    load(store)
    store.close()
    yield path


def client_for(store: Store, postcodes: str, **settings: Any) -> TestClient:
    chosen = Settings(base_url=BASE, postcode_lookup=postcodes, map_tiles="", **settings)
    return TestClient(create_app(store, chosen))


@pytest.fixture
def client(db: str, postcodes_io: FakePostcodesIo) -> Iterator[TestClient]:
    store = open_store(db)
    yield client_for(store, postcodes_io.url)
    store.close()


def test_api_search_by_activity_and_postcode(store: Store, postcodes_io: FakePostcodesIo) -> None:
    load(store)
    client = client_for(store, postcodes_io.url)
    response = client.get(
        "/api/clubs", params={"activity": "martial arts", "near": "se10 0bw", "radius": "10"}
    )
    assert response.status_code == 200
    body = response.json()
    assert [item["key"] for item in body["items"]] == MARTIAL_ARTS_NEAR_SE10
    assert [item["distanceKm"] for item in body["items"]] == [1.0, 2.0, 3.0, 4.0, 6.0]
    assert body["query"]["near"]["label"] == "SE10 0BW"
    assert body["query"]["activity"]["label"] == "Martial Arts"
    assert body["facets"]["activity"][0] == {
        "label": "Judo",
        "id": "https://openactive.io/activity-list#1653aaaf-cb1e-4611-b45e-95a32d4a7db5",
        "count": 3,
    }
    first = body["items"][0]
    assert first["page"] == f"{BASE}/clubs/judo-1km"
    assert first["place"]["name"] == "Riverside Dojo" and first["ageRange"] == [5.0, None]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["updated"])
    assert body["next"] is None
    assert (body["total"], body["totalExact"], body["countedWithinKm"]) == (5, True, 10.0)
    paged = client.get(
        "/api/clubs", params={"activity": "martial arts", "near": "SE10 0BW", "limit": "2"}
    ).json()
    assert [i["key"] for i in paged["items"]] == MARTIAL_ARTS_NEAR_SE10[:2]
    following = client.get(paged["next"].removeprefix(BASE)).json()
    assert [i["key"] for i in following["items"]] == MARTIAL_ARTS_NEAR_SE10[2:4]


def test_api_pages_on_past_a_capped_count(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """When counting stopped at the cap (`totalExact` false), `next` still leads on, and
    the pages it leads to are those of the uncapped search."""
    store = open_store(db)
    try:
        every = client_for(store, "none").get("/api/clubs", params={"q": "club", "limit": "100"})
        expected = [i["key"] for i in every.json()["items"]]
        assert len(expected) > 6
        monkeypatch.setattr(find, "Search", functools.partial(Search, total_cap=3))
        client = client_for(store, "none")
        page = client.get("/api/clubs", params={"q": "club", "limit": "3"}).json()
        seen = []
        while True:
            seen += [i["key"] for i in page["items"]]
            if page["next"] is None:
                break
            assert page["totalExact"] is False and page["total"] >= len(seen)
            page = client.get(page["next"].removeprefix(BASE)).json()
        assert seen == expected
    finally:
        store.close()


def test_api_errors_say_what_is_wrong(client: TestClient, postcodes_io: FakePostcodesIo) -> None:
    def error(status: int, **params: str) -> dict[str, Any]:
        response = client.get("/api/clubs", params=params)
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"ok", "error", "errors", "status"} and body["ok"] is False
        assert body["status"] == status
        return dict(body["errors"][0])

    unknown = error(400, activity="Karatay")
    assert unknown["parameter"] == "activity" and unknown["value"] == "Karatay"
    assert unknown["suggestions"][0]["label"] == "Karate"
    assert error(400, near="SW1A")["problem"] == "not_found"  # a district the service lacks
    assert error(400, near="SE10 9ZZ")["problem"] == "not_found"
    not_postcode = error(400, near="Greenwich")
    assert not_postcode["problem"] == "not_a_place"
    assert "is not a UK postcode" in not_postcode["message"]
    assert error(400, radius="ten")["parameter"] == "radius"
    assert error(400, age="-1")["parameter"] == "age"
    assert error(400, limit="0")["parameter"] == "limit"
    postcodes_io.down = True
    down = error(503, near="TN4 1LX")
    assert down["problem"] == "unavailable" and "try again later" in down["message"]


def test_a_slow_postcode_look_up_does_not_hold_up_other_requests(
    db: str, postcodes_io: FakePostcodesIo
) -> None:
    """While one search waits on the postcode service, the server answers others."""
    store = open_store(db)
    postcodes_io.hold = threading.Event()
    answers: dict[str, Any] = {}

    def search_by_postcode(base: str) -> None:
        answers["slow"] = httpx.get(f"{base}/api/clubs", params={"near": "TN4 1LX"}, timeout=30)

    try:
        chosen = {"postcode_lookup": postcodes_io.url, "map_tiles": ""}
        with serve_app(lambda base: create_app(store, Settings(base_url=base, **chosen))) as base:
            waiting = threading.Thread(target=search_by_postcode, args=(base,))
            waiting.start()
            for _ in range(200):  # until the search is waiting on the postcode service
                if postcodes_io.paths:
                    break
                time.sleep(0.01)
            assert postcodes_io.paths and "slow" not in answers
            other = httpx.get(f"{base}/api/activities", params={"q": "judo"}, timeout=5)
            assert other.status_code == 200 and other.json()["items"][0]["label"] == "Judo"
            assert "slow" not in answers  # answered while the first was still waiting
            postcodes_io.hold.set()
            waiting.join(30)
        assert answers["slow"].status_code == 200
        assert answers["slow"].json()["query"]["near"]["label"] == "TN4 1LX"
    finally:
        postcodes_io.hold.set()
        store.close()


def test_api_activity_autocomplete(client: TestClient) -> None:
    def labels(typed: str) -> list[tuple[str, str]]:
        body = client.get("/api/activities", params={"q": typed}).json()
        return [(item["label"], item["matched"]) for item in body["items"]]

    assert labels("socc")[0] == ("Football", "Soccer")
    assert labels("Mart")[0] == ("Martial Arts", "Martial Arts")
    assert labels("judo")[0] == ("Judo", "Judo")
    assert ("Karate", "Karate") in labels("karat")
    assert labels("") == []
    assert client.get("/api/activities", params={"q": "a", "limit": "x"}).status_code == 400


def test_openapi_describes_the_search(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    search = schema["paths"]["/api/clubs"]["get"]
    names = {p["name"] for p in search["parameters"]}
    assert names >= {
        "activity",
        "q",
        "near",
        "radius",
        "age",
        "gender",
        "accessibility",
        "amenity",
        "memberOf",
        "sort",
        "limit",
        "offset",
    }
    assert "get" in schema["paths"]["/api/activities"]
    assert "post" in schema["paths"]["/api/clubs"]  # the write API keeps its POST
    for path in ("/api/clubs", "/api/activities"):
        operation = schema["paths"][path]["get"]
        undescribed = [p["name"] for p in operation["parameters"] if not p.get("description")]
        assert undescribed == [], path
        # the errors it really sends, in the project's one shape; no 422 it never sends
        assert "422" not in operation["responses"] and "400" in operation["responses"]
        error = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert error["required"] == ["ok", "error", "errors", "status"]
    assert "503" in search["responses"]
    sent = client.get("/api/clubs", params={"near": "Greenwich", "activity": "Karatay"}).json()
    item = error["properties"]["errors"]["items"]
    for entry in sent["errors"]:
        assert set(entry) <= set(item["properties"]) and set(item["required"]) <= set(entry)
        assert entry.get("problem") in (None, *item["properties"]["problem"]["enum"])


def test_find_page_lists_results_without_javascript(client: TestClient) -> None:
    response = client.get("/find", params={"activity": "Martial Arts", "near": "SE10 0BW"})
    assert response.status_code == 200
    html = response.text
    listed = re.findall(r'<li class="result" data-key="([^"]+)">', html)
    assert listed == MARTIAL_ARTS_NEAR_SE10
    assert "5 clubs for Martial Arts within 10.0 km of SE10 0BW." in html
    assert '<a href="/clubs/judo-1km">Riverside Judo Club</a>' in html
    assert "1.0 km away (Riverside Dojo)" in html
    assert '<a href="mailto:sensei@girls-karate.example.org">' in html
    assert '>Judo (3<span class="visually-hidden"> clubs</span>)</a>' in html
    assert '>within 5 km (4<span class="visually-hidden"> clubs</span>)</a>' in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">\d{4}-\d\d-\d\d</time>', html)
    # escaped, everywhere it is shown: the list, the map's data, the place name
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Hall&lt;/b&gt;" in html
    markers = re.search(
        r'<script type="application/json" id="find-markers">(.*?)</script>', html, re.S
    )
    assert markers is not None
    data = json.loads(markers.group(1))
    assert [m["page"] for m in data if not m.get("centre")] == [
        f"/clubs/{k}" for k in MARTIAL_ARTS_NEAR_SE10
    ]
    assert "\\u003c/script\\u003e" in markers.group(1)
    # every input has a label
    for field in re.findall(r'<input id="([^"]+)"', html):
        assert f'<label for="{field}">' in html
    assert '<script src="/static/vendor/leaflet/leaflet.js">' in html


def test_find_page_errors_and_nearest_anyway(client: TestClient) -> None:
    wrong = client.get("/find", params={"activity": "Karatay", "near": "SE10 0BW"})
    assert wrong.status_code == 400
    assert 'role="alert"' in wrong.text and 'aria-invalid="true"' in wrong.text
    assert '<a href="/find?near=SE10+0BW&amp;activity=Karate">Karate</a>' in wrong.text
    assert "<title>Error: Find a club" in wrong.text
    far = client.get("/find", params={"activity": "Tennis", "near": "SE10 0BW", "radius": "5"})
    assert "These are the nearest clubs <strong>beyond</strong> that distance." in far.text
    assert "<strong>Beyond your distance:</strong> 12.0 km away" in far.text
    assert client.get("/find").status_code == 200  # the empty form
    assert client.get("/static/find/find.js").status_code == 200


def _links(html: str, label: str) -> list[dict[str, list[str]]]:
    """The query of each link in `html` whose text starts with `label`."""
    found = re.findall(r'<a href="/find\?([^"]*)">' + re.escape(label), html)
    return [parse_qs(unescape(query)) for query in found]


def test_facet_and_page_links_keep_every_other_filter(client: TestClient) -> None:
    """A facet narrows the search it is shown on: the age, gender, text and other filters
    stay, only the activity (or the distance) changes, and paging keeps everything."""
    asked = {
        "activity": "Martial Arts",
        "near": "SE10 0BW",
        "radius": "25",
        "age": "10",
        "gender": ["FemaleOnly", "Unknown"],
        "accessibility": "Learning impairment",
    }
    html = client.get("/find", params=asked).text
    assert re.findall(r'<li class="result" data-key="([^"]+)">', html) == ["girls-karate-2km"]
    (karate,) = _links(html, "Karate (1")
    assert karate == {
        "activity": ["Karate"],
        "near": ["SE10 0BW"],
        "radius": ["25"],
        "age": ["10"],
        "gender": ["FemaleOnly", "Unknown"],
        "accessibility": ["Learning impairment"],
    }
    (within_5,) = _links(html, "within 5 km (1")
    assert within_5 == {**karate, "activity": ["Martial Arts"], "radius": ["5"]}
    narrowed = client.get("/find?" + urlencode(karate, doseq=True)).text
    assert re.findall(r'<li class="result" data-key="([^"]+)">', narrowed) == ["girls-karate-2km"]
    # paging: 20 clubs with a place within 1000 km, 8 a page; every page keeps the search
    wide = {"near": "SE10 0BW", "radius": "1000", "sort": "name", "limit": "8"}
    first = client.get("/find", params=wide).text
    assert len(re.findall(r'<li class="result"', first)) == 8 and "Page 1 of " in first
    (following,) = re.findall(r'<a href="/find\?([^"]*)" rel="next">', first)
    assert parse_qs(unescape(following)) == {k: [v] for k, v in {**wide, "page": "2"}.items()}
    second = client.get("/find?" + unescape(following)).text
    assert '<ol class="results" start="9">' in second
    (previous,) = re.findall(r'<a href="/find\?([^"]*)" rel="prev">', second)
    assert parse_qs(unescape(previous)) == {k: [v] for k, v in {**wide, "page": "1"}.items()}


def test_find_page_tells_a_screen_reader_what_happened(client: TestClient) -> None:
    """The title and the results heading (which the script focuses after a search) say how
    many clubs were found; "nearest anyway" says so in its heading; the map is described;
    every error is linked to its field and the field to its message."""
    one = client.get("/find", params={"activity": "Judo", "near": "se100bw", "age": "10"}).text
    assert "<title>1 club found – Find a club" in one
    assert re.search(
        r'<h2 id="results-heading" tabindex="-1" data-searched>Results: 1 club found', one
    )
    assert 'aria-describedby="map-hint"' in one and "The same 1 club as the list above" in one
    assert '<a class="skip" href="#results">Skip to results</a>' in one
    headings = re.findall(r"<h([1-6])", one.split("<footer")[0])
    assert headings[0] == "1" and headings.count("1") == 1 and "2" in headings
    far = client.get("/find", params={"activity": "Tennis", "near": "SE10 0BW", "radius": "5"})
    assert ">Nearest clubs: none within 5.0 km</h2>" in far.text
    assert "<title>No clubs within 5 km; the 1 nearest are shown" in far.text
    wrong = client.get("/find", params={"near": "SE10 0BW", "radius": "0", "gender": "Both"})
    assert wrong.status_code == 400
    assert '<a href="#f-radius">' in wrong.text and '<a href="#f-gender">' in wrong.text
    assert 'aria-describedby="e-radius"' in wrong.text and 'id="e-radius"' in wrong.text
    assert '<fieldset id="f-gender" aria-describedby="e-gender">' in wrong.text
    no_field = client.get("/find", params={"near": "SE10 0BW", "sort": "sideways"}).text
    assert "sort is one of" in no_field and 'href="#f-sort"' not in no_field


def test_find_page_works_without_leaflet(db: str, tmp_path: Path) -> None:
    store = open_store(db)
    try:
        client = client_for(store, "none", web_dir=str(tmp_path / "no-web"))
        html = client.get("/find", params={"activity": "Judo", "near": NEAR}).text
        assert 'data-key="judo-1km"' in html
        assert "leaflet" not in html and 'id="map"' not in html
        assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 404
    finally:
        store.close()


def test_cli_search(db: str) -> None:
    runner = CliRunner()
    table = runner.invoke(
        cli,
        [
            "search",
            "martial arts",
            "--near",
            NEAR,
            "--radius",
            "10",
            "--db",
            db,
            "--postcodes",
            "none",
        ],
    )
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == "5 clubs (showing 1-5 of 5)"
    assert lines[2].split()[:4] == ["1.0", "Riverside", "Judo", "Club"]
    assert "By activity: Judo (3), Karate (2)" in table.output
    as_json = runner.invoke(
        cli,
        ["search", "soccer", "--near", NEAR, "--db", db, "--format", "json", "--postcodes", "none"],
    )
    assert [i["key"] for i in json.loads(as_json.output)["items"]] == ["soccer-5km", "football-8km"]
    words = runner.invoke(cli, ["search", "GYC", "--db", db, "--format", "json"])
    assert [i["key"] for i in json.loads(words.output)["items"]] == [GYC]
    again = runner.invoke(cli, ["search", "--activity", "judo", "--db", db, "--reindex"])
    assert again.exit_code == 0 and "indexed 21 clubs" in again.output
    assert "5 clubs (showing 1-5 of 5)" in again.output


def test_cli_errors_have_their_own_exit_codes(db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(cli, ["search", "--activity", "Karatay", "--db", db])
    assert unknown.exit_code == 2 and "did you mean: Karate" in unknown.output
    bad_place = runner.invoke(cli, ["search", "judo", "--near", "Greenwich", "--db", db])
    assert bad_place.exit_code == 2 and "is not a UK postcode" in bad_place.output
    down = runner.invoke(
        cli,
        ["search", "judo", "--near", "SE10 0BW", "--db", db, "--postcodes", "http://127.0.0.1:9"],
    )
    assert down.exit_code == 3 and "unavailable" in down.output
    missing = runner.invoke(cli, ["search", "judo", "--db", str(tmp_path / "none.sqlite3")])
    assert missing.exit_code == 2 and "no such store" in missing.output
    assert not (tmp_path / "none.sqlite3").exists()
