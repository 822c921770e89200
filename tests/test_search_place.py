"""Where a search is centred: postcodes in any case and spacing, postcode districts
(postcodes.io's /outcodes, served here by a fake on 127.0.0.1 and by `local_site`), points,
and failures that say which of "not a postcode", "not found" and "unavailable" happened."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from openclubs.search.place import Locator, OutcodeSource, PlaceError, make_locator
from tests.conftest import LocalSite

POSTCODES = {"SE10 0BW": (51.4955, 0.018473), "TN4 1LX": (51.1323, 0.23043)}
OUTCODES = {"SE10": (51.4823, 0.0085), "TN4": (51.1452, 0.2473)}


class FakePostcodesIo:
    """postcodes.io's bulk POST /postcodes and GET /outcodes/{code}, from the tables above;
    `down` makes every request a 503."""

    def __init__(self) -> None:
        self.down = False
        self.paths: list[str] = []
        self.hold: threading.Event | None = None  # when given, answers wait until it is set
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def reply(self, status: int, body: Any) -> None:
                if fake.hold is not None:
                    fake.hold.wait(30)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                fake.paths.append(self.path)
                asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if fake.down:
                    return self.reply(503, {"status": 503, "error": "maintenance"})
                result = []
                for code in asked["postcodes"]:
                    where = POSTCODES.get(code)
                    found = where and {
                        "postcode": code,
                        "latitude": where[0],
                        "longitude": where[1],
                    }
                    result.append({"query": code, "result": found or None})
                self.reply(200, {"status": 200, "result": result})

            def do_GET(self) -> None:
                fake.paths.append(self.path)
                if fake.down:
                    return self.reply(503, {"status": 503, "error": "maintenance"})
                code = self.path.rpartition("/")[2]
                where = OUTCODES.get(code)
                if where is None:
                    return self.reply(404, {"status": 404, "error": "Outcode not found"})
                body = {"outcode": code, "latitude": where[0], "longitude": where[1]}
                self.reply(200, {"status": 200, "result": body})

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def running_postcodes_io() -> Iterator[FakePostcodesIo]:
    fake = FakePostcodesIo()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


@pytest.fixture
def postcodes_io(vocab_cache: Path) -> Iterator[FakePostcodesIo]:
    """A fake postcodes.io (the geocoder's answer cache lives under the test's cache dir)."""
    with running_postcodes_io() as fake:
        yield fake


def test_postcodes_in_any_case_and_spacing(postcodes_io: FakePostcodesIo) -> None:
    locator = make_locator(postcodes_io.url)
    for typed in ("SE10 0BW", "se100bw", "  se10   0bw ", "Se10 0Bw"):
        near = locator.locate(typed)
        assert (near.label, near.kind) == ("SE10 0BW", "postcode")
        assert (near.latitude, near.longitude) == POSTCODES["SE10 0BW"]
    district = locator.locate("se10")
    assert (district.label, district.kind) == ("SE10 (postcode district)", "district")
    assert (district.latitude, district.longitude) == OUTCODES["SE10"]
    assert "/outcodes/SE10" in postcodes_io.paths


def test_the_three_failures_are_told_apart(postcodes_io: FakePostcodesIo) -> None:
    locator = make_locator(postcodes_io.url)
    problems = {}
    for typed in ("SE10 9ZZ", "ZE9", "not a place", "SE1O 0BW", ""):
        with pytest.raises(PlaceError) as raised:
            locator.locate(typed)
        problems[typed] = (raised.value.problem, raised.value.message)
    assert problems["SE10 9ZZ"][0] == "not_found"
    assert "SE10 9ZZ is a well-formed postcode, but it was not found" in problems["SE10 9ZZ"][1]
    assert problems["ZE9"][0] == "not_found"
    assert problems["not a place"][0] == "not_a_place"
    assert "Did you mean SE10 0BW?" in problems["SE1O 0BW"][1]  # a letter O for a zero
    assert problems[""][0] == "not_a_place"
    postcodes_io.down = True
    for typed in ("TN4 1LX", "TN4"):
        with pytest.raises(PlaceError) as raised:
            locator.locate(typed)
        assert raised.value.problem == "unavailable"
        assert "try again later" in raised.value.message


def test_a_service_that_cannot_be_reached_is_unavailable(vocab_cache: Path) -> None:
    locator = make_locator("http://127.0.0.1:9")  # the discard port: nothing listens
    with pytest.raises(PlaceError) as raised:
        locator.locate("SE10 0BW")
    assert raised.value.problem == "unavailable"


def test_outcodes_from_postcodes_io_on_local_site(local_site: LocalSite) -> None:
    body = {"status": 200, "result": {"outcode": "SE10", "latitude": 51.48, "longitude": 0.01}}
    local_site.add("/outcodes/SE10", json.dumps(body))
    local_site.add("/outcodes/XX1", json.dumps({"status": 404}), status=404)
    local_site.add("/outcodes/AB1", "<html>busy</html>", status=502, content_type="text/html")
    source = OutcodeSource(local_site.url(""), retries=1)
    found = source.lookup("se10")
    assert (found.status, found.latitude, found.longitude) == ("found", 51.48, 0.01)
    assert source.lookup("XX1").status == "not_found"
    assert source.lookup("AB1").status == "unavailable"
    source.lookup("SE10")
    assert local_site.requests.count("/outcodes/SE10") == 1  # remembered


def test_points_and_a_local_csv(tmp_path: Path) -> None:
    csv_file = tmp_path / "postcodes.csv"
    csv_file.write_text("pcds,lat,long\nSE10 0BW,51.4955,0.0185\nSE10 0AA,51.4855,0.0085\n")
    locator = make_locator(str(csv_file))
    assert locator.locate("se10 0bw").latitude == 51.4955
    district = locator.locate("SE10")
    assert (round(district.latitude, 4), round(district.longitude, 4)) == (51.4905, 0.0135)
    point = Locator(None, None).locate(" 51.5 , -0.12 ")
    assert (point.latitude, point.longitude, point.kind) == (51.5, -0.12, "point")
    with pytest.raises(PlaceError) as raised:
        Locator(None, None).locate("95,0")
    assert raised.value.problem == "not_a_place"
