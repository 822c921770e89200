"""UK postcodes to latitude/longitude: online (postcodes.io bulk API) or from a local CSV.

Every answer says which of these happened: found, ``invalid`` (not a postcode at all, never
sent anywhere), ``not_found`` (a well-formed postcode the source does not know or cannot place)
and ``unavailable`` (the service could not be asked; try again later). Network faults never
raise: they become ``unavailable`` answers.
"""

from __future__ import annotations

import csv
import random
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

from openclubs.ingest.fetch import USER_AGENT
from openclubs.model.postcodes import canonical_postcode, check_postcode
from openclubs.vocab.store import cache_dir

Status = Literal["found", "not_found", "invalid", "unavailable"]
POSTCODES_IO = "https://api.postcodes.io"
DAY = 86400.0
MAX_WAIT = 60.0  # the longest Retry-After honoured, in seconds


@dataclass(frozen=True, slots=True)
class GeoResult:
    latitude: float | None
    longitude: float | None
    status: Status
    detail: str = ""


class Geocoder(Protocol):
    def lookup(self, postcodes: Sequence[str]) -> dict[str, GeoResult]:
        """Answers keyed by canonical postcode ('SE10 0BW'); invalid ones by the text given."""
        ...


class GeocoderSetupError(ValueError):
    """A geocoder cannot be set up (a missing or unusable file); the message says why."""


def _split(postcodes: Iterable[str]) -> tuple[dict[str, GeoResult], list[str]]:
    """Invalid answers for what is not a postcode, and the distinct canonical postcodes."""
    invalid: dict[str, GeoResult] = {}
    wanted: dict[str, None] = {}
    for text in postcodes:
        check = check_postcode(text)
        if check.canonical is not None:
            wanted[check.canonical] = None
            continue
        hint = f" (did you mean {check.did_you_mean}?)" if check.did_you_mean else ""
        detail = f"{text!r} is not a postcode: {check.reason}{hint}"
        invalid[text] = GeoResult(None, None, "invalid", detail)
    return invalid, list(wanted)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class PostcodesIoGeocoder:
    """The postcodes.io bulk lookup (POST /postcodes, up to 100 a request), with a cache."""

    def __init__(
        self,
        base_url: str = POSTCODES_IO,
        *,
        transport: httpx.BaseTransport | None = None,
        batch_size: int = 100,
        retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 20.0,
        cache_path: Path | None = None,
        found_ttl: float = 365 * DAY,
        not_found_ttl: float = 30 * DAY,
    ) -> None:
        self.endpoint = base_url.rstrip("/") + "/postcodes"
        self.transport = transport
        self.batch_size = max(1, min(batch_size, 100))
        self.retries = max(1, retries)
        self.backoff = backoff
        self.timeout = timeout
        self.cache_path = cache_path or cache_dir() / "geocode" / "postcodes-io.sqlite3"
        self.ttl = {"found": found_ttl, "not_found": not_found_ttl}

    def lookup(self, postcodes: Sequence[str]) -> dict[str, GeoResult]:
        results, wanted = _split(postcodes)
        cached = self._cached(wanted)
        results.update(cached)
        missing = [pc for pc in wanted if pc not in cached]
        if not missing:
            return results
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        limits = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        with httpx.Client(transport=self.transport, timeout=limits, headers=headers) as client:
            for start in range(0, len(missing), self.batch_size):
                answers = self._post(client, missing[start : start + self.batch_size])
                self._remember(answers)
                results.update(answers)
        return results

    def _post(self, client: httpx.Client, batch: list[str]) -> dict[str, GeoResult]:
        problem = ""
        for attempt in range(self.retries):
            wait = self.backoff * 2**attempt + random.uniform(0, self.backoff)
            try:
                response = client.post(self.endpoint, json={"postcodes": batch})
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g} seconds"
            except httpx.TransportError as err:
                problem = f"could not connect ({err or type(err).__name__})"
            except httpx.HTTPError as err:
                problem = f"the request failed ({type(err).__name__}: {err})"
            else:
                code = response.status_code
                if code == 429 or code >= 500:
                    problem = f"HTTP {code}"
                    wait = _retry_after(response.headers.get("Retry-After", ""), wait)
                elif code != 200:
                    return _unavailable(batch, f"postcodes.io refused the request: HTTP {code}")
                else:
                    return _read(batch, response)
            if attempt + 1 < self.retries:
                time.sleep(wait)
        tries = "try" if self.retries == 1 else "tries"
        detail = f"postcodes.io did not answer: {problem} after {self.retries} {tries}"
        return _unavailable(batch, detail)

    def _connect(self) -> sqlite3.Connection:
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.cache_path, timeout=10)
        db.execute(
            "CREATE TABLE IF NOT EXISTS answers (postcode TEXT PRIMARY KEY, status TEXT NOT NULL,"
            " latitude REAL, longitude REAL, detail TEXT NOT NULL, saved REAL NOT NULL)"
        )
        return db

    def _cached(self, postcodes: list[str]) -> dict[str, GeoResult]:
        found: dict[str, GeoResult] = {}
        if not postcodes:
            return found
        now = time.time()
        try:
            with closing(self._connect()) as db:
                for start in range(0, len(postcodes), 500):
                    chunk = postcodes[start : start + 500]
                    rows = db.execute(
                        "SELECT postcode, status, latitude, longitude, detail, saved FROM answers"
                        f" WHERE postcode IN ({','.join('?' * len(chunk))})",
                        chunk,
                    )
                    for postcode, status, lat, lon, detail, saved in rows:
                        if status in self.ttl and now - saved < self.ttl[status]:
                            found[postcode] = GeoResult(lat, lon, status, detail)
        except (OSError, sqlite3.Error):
            return {}  # an unusable cache only costs a lookup
        return found

    def _remember(self, answers: dict[str, GeoResult]) -> None:
        now = time.time()
        rows = [
            (pc, r.status, r.latitude, r.longitude, r.detail, now)
            for pc, r in answers.items()
            if r.status in self.ttl  # never 'unavailable'
        ]
        if not rows:
            return
        try:
            with closing(self._connect()) as db, db:
                db.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)", rows)
        except (OSError, sqlite3.Error):
            pass


def _retry_after(value: str, default: float) -> float:
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return min(max(when.timestamp() - time.time(), 0.0), MAX_WAIT)


def _unavailable(batch: Iterable[str], detail: str) -> dict[str, GeoResult]:
    return {pc: GeoResult(None, None, "unavailable", detail) for pc in batch}


def _read(batch: list[str], response: httpx.Response) -> dict[str, GeoResult]:
    try:
        doc = response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        return _unavailable(
            batch, f"postcodes.io answered with something that is not JSON ({kind})"
        )
    items = doc.get("result") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        return _unavailable(batch, "postcodes.io answered in an unexpected shape (no result list)")
    answers: dict[str, GeoResult] = {}
    for item in items:
        query = item.get("query") if isinstance(item, dict) else None
        key = canonical_postcode(query) if isinstance(query, str) else None
        if key is None or key not in batch:
            continue
        found = item.get("result")
        if not isinstance(found, dict):
            answers[key] = GeoResult(None, None, "not_found", "postcodes.io does not know it")
            continue
        lat, lon = _number(found.get("latitude")), _number(found.get("longitude"))
        if lat is None or lon is None:
            detail = "postcodes.io knows it but has no location for it"
            answers[key] = GeoResult(None, None, "not_found", detail)
        else:
            answers[key] = GeoResult(lat, lon, "found", "postcodes.io")
    missing = [pc for pc in batch if pc not in answers]
    answers.update(_unavailable(missing, "postcodes.io's answer did not mention it"))
    return answers


class CsvGeocoder:
    """An offline lookup from a CSV file with postcode, latitude and longitude columns (the ONS
    Postcode Directory's pcds/pcd, lat and long work too)."""

    POSTCODE = ("postcode", "pcds", "pcd", "pcd2")
    LATITUDE = ("latitude", "lat")
    LONGITUDE = ("longitude", "long", "lon", "lng")

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.places: dict[str, tuple[float, float] | None] = {}
        try:
            with self.path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                names = [name.strip().lower() for name in next(reader, [])]
                columns = [
                    _column(names, wanted)
                    for wanted in (self.POSTCODE, self.LATITUDE, self.LONGITUDE)
                ]
                if None in columns:
                    raise GeocoderSetupError(
                        f"{self.path}: needs postcode, latitude and longitude columns "
                        f"(or the ONS pcds, lat and long); its header is {','.join(names)!r}"
                    )
                pc, la, lo = (c for c in columns if c is not None)
                for row in reader:
                    if len(row) <= max(pc, la, lo):
                        continue
                    key = canonical_postcode(row[pc])
                    if key is not None and self.places.get(key) is None:
                        self.places[key] = _location(row[la], row[lo])
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            raise GeocoderSetupError(f"{self.path}: cannot be read ({err})") from None

    def lookup(self, postcodes: Sequence[str]) -> dict[str, GeoResult]:
        results, wanted = _split(postcodes)
        name = self.path.name
        for key in wanted:
            if key not in self.places:
                results[key] = GeoResult(None, None, "not_found", f"{name} does not list it")
            elif (place := self.places[key]) is None:
                results[key] = GeoResult(None, None, "not_found", f"{name} gives no location")
            else:
                results[key] = GeoResult(place[0], place[1], "found", name)
        return results


def _column(names: list[str], wanted: tuple[str, ...]) -> int | None:
    return next((names.index(w) for w in wanted if w in names), None)


def _location(lat_text: str, lon_text: str) -> tuple[float, float] | None:
    """None when blank, unreadable or the ONS 'no location' 99.999999/0.000000."""
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def make_geocoder(spec: str) -> Geocoder | None:
    """'postcodes.io' → the online service, 'none' → no geocoding, else a CSV file's path."""
    choice = spec.strip()
    if choice.lower() == "postcodes.io":
        return PostcodesIoGeocoder()
    if choice.lower() == "none":
        return None
    path = Path(choice).expanduser()
    if not path.is_file():
        raise GeocoderSetupError(
            f"{spec}: no such file; give 'postcodes.io', 'none' or the path of a CSV file "
            "with postcode, latitude and longitude columns"
        )
    return CsvGeocoder(path)
