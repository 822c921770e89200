"""Geocoding: postcodes.io against a fake server on 127.0.0.1, and the offline CSV provider."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from openclubs.ingest.fetch import USER_AGENT
from openclubs.normalise.geocode import (
    CsvGeocoder,
    GeocoderSetupError,
    GeoResult,
    PostcodesIoGeocoder,
    make_geocoder,
)

Reply = tuple[int, str, bytes, dict[str, str]]
KNOWN = {"SE10 0BW": (51.48, -0.0098), "SK17 6SH": (53.25, -1.91)}


class FakePostcodesIo:
    """POST /postcodes answered like postcodes.io from KNOWN (or by `script`, one reply a
    request); records each JSON body and User-Agent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.agents: list[str] = []
        self.script: list[Reply] = []
        self.known: dict[str, tuple[float, float] | None] = dict(KNOWN)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.bodies.append(body)
                fake.agents.append(self.headers.get("User-Agent", ""))
                status, ctype, data, headers = (
                    fake.script.pop(0) if fake.script else fake.answer(body)
                )
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, body: dict[str, Any]) -> Reply:
        assert self.path_ok(body)
        result = []
        for query in body["postcodes"]:
            found: dict[str, Any] | None = None
            if query in self.known:
                place = self.known[query]
                lat, lon = place if place else (None, None)
                found = {"postcode": query, "latitude": lat, "longitude": lon, "quality": 1}
            result.append({"query": query, "result": found})
        return 200, "application/json", json.dumps({"status": 200, "result": result}).encode(), {}

    @staticmethod
    def path_ok(body: dict[str, Any]) -> bool:
        return isinstance(body.get("postcodes"), list) and len(body["postcodes"]) <= 100

    @property
    def sent(self) -> list[str]:
        return [pc for body in self.bodies for pc in body["postcodes"]]


@pytest.fixture
def fake() -> Iterator[FakePostcodesIo]:
    site = FakePostcodesIo()
    thread = threading.Thread(target=site.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def make(
    fake: FakePostcodesIo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., PostcodesIoGeocoder]:
    monkeypatch.setenv("OPENCLUBS_CACHE_DIR", str(tmp_path / "cache"))

    def build(**options: Any) -> PostcodesIoGeocoder:
        return PostcodesIoGeocoder(fake.url, backoff=0.01, timeout=5, **options)

    return build


def test_bulk_lookup_found_not_found_and_invalid(
    fake: FakePostcodesIo, make: Callable[..., PostcodesIoGeocoder], tmp_path: Path
) -> None:
    fake.known["JE2 3AB"] = None  # known but without a location
    geocoder = make()
    assert geocoder.cache_path == tmp_path / "cache" / "geocode" / "postcodes-io.sqlite3"
    got = geocoder.lookup(["se100bw", "SE10 0BW", "SW1A 9ZZ", "JE2 3AB", "SE1O 0BW", "hello"])
    assert got["SE10 0BW"] == GeoResult(51.48, -0.0098, "found", "postcodes.io")
    assert got["SW1A 9ZZ"].status == "not_found"
    assert got["JE2 3AB"].status == "not_found" and "no location" in got["JE2 3AB"].detail
    assert got["SE1O 0BW"].status == "invalid" and "did you mean SE10 0BW" in got["SE1O 0BW"].detail
    assert got["hello"].status == "invalid" and "not a postcode" in got["hello"].detail
    assert fake.sent == ["SE10 0BW", "SW1A 9ZZ", "JE2 3AB"]  # deduplicated; invalid never sent
    assert fake.agents == [USER_AGENT]


def test_batches_of_at_most_100(
    fake: FakePostcodesIo, make: Callable[..., PostcodesIoGeocoder]
) -> None:
    postcodes = [f"SE{1 + i // 10} {i % 10}AB" for i in range(250)]
    got = make().lookup(postcodes)
    assert [len(body["postcodes"]) for body in fake.bodies] == [100, 100, 50]
    assert len(got) == 250 and {r.status for r in got.values()} == {"not_found"}


def test_retries_503_then_succeeds(
    fake: FakePostcodesIo, make: Callable[..., PostcodesIoGeocoder]
) -> None:
    fake.script = [(503, "text/plain", b"busy", {"Retry-After": "0"})]
    got = make().lookup(["SK17 6SH"])
    assert got["SK17 6SH"].status == "found"
    assert len(fake.bodies) == 2


def test_permanent_503_is_unavailable_and_not_cached(
    fake: FakePostcodesIo, make: Callable[..., PostcodesIoGeocoder]
) -> None:
    fake.script = [(503, "text/plain", b"down", {})] * 3
    got = make().lookup(["SK17 6SH"])
    assert got["SK17 6SH"] == GeoResult(
        None, None, "unavailable", "postcodes.io did not answer: HTTP 503 after 3 tries"
    )
    assert len(fake.bodies) == 3
    assert make().lookup(["SK17 6SH"])["SK17 6SH"].status == "found"  # asked again
    assert len(fake.bodies) == 4


def test_html_page_is_unavailable(
    fake: FakePostcodesIo, make: Callable[..., PostcodesIoGeocoder]
) -> None:
    fake.script = [(200, "text/html", b"<html><body>Gateway trouble</body></html>", {})]
    got = make().lookup(["SE10 0BW"])["SE10 0BW"]
    assert got.status == "unavailable"
    assert "not JSON" in got.detail and "text/html" in got.detail


def test_connection_refused_is_unavailable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    geocoder = PostcodesIoGeocoder(
        f"http://127.0.0.1:{port}", retries=2, backoff=0.01, cache_path=tmp_path / "c.sqlite3"
    )
    got = geocoder.lookup(["SE10 0BW"])["SE10 0BW"]
    assert got.status == "unavailable"
    assert got.detail.startswith("postcodes.io did not answer: could not connect")
    assert got.detail.endswith("after 2 tries")


def test_cache_answers_second_run(
    fake: FakePostcodesIo, make: Callable[..., PostcodesIoGeocoder]
) -> None:
    first = make().lookup(["SE10 0BW", "SW1A 9ZZ"])
    assert len(fake.bodies) == 1
    second = make().lookup(["se10 0bw", "SW1A 9ZZ"])  # a fresh geocoder: the file persists
    assert second == first and second["SW1A 9ZZ"].status == "not_found"
    assert len(fake.bodies) == 1
    make(not_found_ttl=0).lookup(["SE10 0BW", "SW1A 9ZZ"])  # not_found expires, found stays
    assert fake.bodies[-1] == {"postcodes": ["SW1A 9ZZ"]}


def test_damaged_cache_is_ignored(fake: FakePostcodesIo, tmp_path: Path) -> None:
    cache = tmp_path / "broken.sqlite3"
    cache.write_text("this is not a database")
    geocoder = PostcodesIoGeocoder(fake.url, backoff=0.01, cache_path=cache)
    assert geocoder.lookup(["SE10 0BW"])["SE10 0BW"].status == "found"


def test_csv_plain_headers(tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_text(
        "Postcode,Latitude,Longitude\nse10 0bw,51.48,-0.0098\nSK17 6SH,,\nnonsense,1,2\n",
        encoding="utf-8",
    )
    got = CsvGeocoder(path).lookup(["SE10 0BW", "SK17 6SH", "M1 1AA", "??"])
    assert got["SE10 0BW"] == GeoResult(51.48, -0.0098, "found", "places.csv")
    assert got["SK17 6SH"].status == "not_found" and "no location" in got["SK17 6SH"].detail
    assert got["M1 1AA"].status == "not_found" and "does not list" in got["M1 1AA"].detail
    assert got["??"].status == "invalid"


def test_csv_ons_headers(tmp_path: Path) -> None:
    path = tmp_path / "onspd.csv"
    path.write_text(
        "pcd,pcd2,pcds,dointr,lat,long\n"
        "SE100BW,SE10  0BW,SE10 0BW,199901,51.480000,-0.009800\n"
        "GY1 1AA,GY1  1AA,GY1 1AA,199901,99.999999,0.000000\n",
        encoding="utf-8",
    )
    got = make_geocoder(str(path))
    assert isinstance(got, CsvGeocoder)
    answers = got.lookup(["SE10 0BW", "GY1 1AA"])
    assert answers["SE10 0BW"].status == "found" and answers["SE10 0BW"].latitude == 51.48
    assert answers["GY1 1AA"].status == "not_found"


def test_csv_setup_errors(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("name,town\nA,B\n", encoding="utf-8")
    with pytest.raises(GeocoderSetupError, match="needs postcode, latitude and longitude"):
        CsvGeocoder(path)
    with pytest.raises(GeocoderSetupError, match="cannot be read"):
        CsvGeocoder(tmp_path / "absent.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81postcode")
    with pytest.raises(GeocoderSetupError):
        CsvGeocoder(binary)


def test_make_geocoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCLUBS_CACHE_DIR", str(tmp_path))
    assert isinstance(make_geocoder("postcodes.io"), PostcodesIoGeocoder)
    assert make_geocoder("none") is None
    with pytest.raises(GeocoderSetupError, match="no such file"):
        make_geocoder(str(tmp_path / "missing.csv"))
