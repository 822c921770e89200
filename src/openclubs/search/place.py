"""Where a search is centred: a UK postcode (full, or an outward code such as "SE10"), or a
point typed as "lat,lng" (what the /find page's "use my position" button fills in).

Every failure says which of three things happened, because each asks something different of
the person searching: `not_a_place` (the text is neither a postcode nor "lat,lng": fix the
typing), `not_found` (a well-formed postcode nobody can place: check it, or try the district)
and `unavailable` (the postcode service could not be asked: try again later).

Full postcodes go through openclubs.normalise.geocode (postcodes.io's bulk lookup, or a
local CSV); outward codes through postcodes.io's /outcodes endpoint, or the mean position of
the CSV's postcodes in that district.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from openclubs.ingest.fetch import USER_AGENT
from openclubs.model.postcodes import canonical_postcode, check_postcode, compact, is_outward_code
from openclubs.normalise.geocode import (
    POSTCODES_IO,
    CsvGeocoder,
    Geocoder,
    GeoResult,
    PostcodesIoGeocoder,
)

PlaceProblem = Literal["not_a_place", "not_found", "unavailable"]
_POINT = re.compile(r"^\s*([+-]?\d{1,2}(?:\.\d+)?)\s*,\s*([+-]?\d{1,3}(?:\.\d+)?)\s*$")


@dataclass(frozen=True, slots=True)
class Near:
    latitude: float
    longitude: float
    label: str  # "SE10 0BW", "SE10 (postcode district)", "51.4955, 0.0185"
    kind: Literal["postcode", "district", "point"]


class PlaceError(ValueError):
    """A place that cannot be used; `problem` says which kind of failure it is."""

    def __init__(self, problem: PlaceProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


class OutcodeSource:
    """Where a postcode district is: postcodes.io's GET /outcodes/{outcode}, remembered."""

    def __init__(
        self,
        base_url: str = POSTCODES_IO,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.3,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.timeout = timeout
        self.retries = max(1, retries)
        self.backoff = backoff
        self._known: dict[str, GeoResult] = {}

    def lookup(self, outcode: str) -> GeoResult:
        code = compact(outcode)
        if code in self._known:
            return self._known[code]
        problem = ""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        with httpx.Client(
            transport=self.transport, timeout=self.timeout, headers=headers
        ) as client:
            for attempt in range(self.retries):
                try:
                    response = client.get(f"{self.base_url}/outcodes/{code}")
                except httpx.HTTPError as err:
                    problem = f"could not connect ({type(err).__name__})"
                else:
                    if response.status_code == 404:
                        return self._remember(code, GeoResult(None, None, "not_found"))
                    if response.status_code == 200:
                        return self._read(code, response)
                    problem = f"HTTP {response.status_code}"
                if attempt + 1 < self.retries:
                    time.sleep(self.backoff * 2**attempt)
        return GeoResult(None, None, "unavailable", f"postcodes.io did not answer: {problem}")

    def _read(self, code: str, response: httpx.Response) -> GeoResult:
        try:
            found = response.json().get("result")
            lat, lon = float(found["latitude"]), float(found["longitude"])
        except (ValueError, TypeError, KeyError, AttributeError):
            return self._remember(code, GeoResult(None, None, "not_found", "no position given"))
        return self._remember(code, GeoResult(lat, lon, "found", "postcodes.io"))

    def _remember(self, code: str, result: GeoResult) -> GeoResult:
        self._known[code] = result
        return result


class CsvOutcodes:
    """Districts from a local postcode CSV: the mean position of its postcodes."""

    def __init__(self, geocoder: CsvGeocoder) -> None:
        sums: dict[str, tuple[float, float, int]] = {}
        for postcode, place in geocoder.places.items():
            if place is None:
                continue
            outward = postcode.split()[0]
            lat, lon, n = sums.get(outward, (0.0, 0.0, 0))
            sums[outward] = (lat + place[0], lon + place[1], n + 1)
        self.centres = {k: (lat / n, lon / n) for k, (lat, lon, n) in sums.items()}
        self.name = geocoder.path.name

    def lookup(self, outcode: str) -> GeoResult:
        centre = self.centres.get(compact(outcode))
        if centre is None:
            return GeoResult(None, None, "not_found", f"{self.name} has no postcode in it")
        return GeoResult(centre[0], centre[1], "found", self.name)


class Locator:
    """Turns what a person typed into a `Near`, or a `PlaceError`."""

    def __init__(
        self, geocoder: Geocoder | None, outcodes: OutcodeSource | CsvOutcodes | None
    ) -> None:
        self.geocoder = geocoder
        self.outcodes = outcodes

    def locate(self, text: str) -> Near:
        typed = " ".join(text.split())
        point = _POINT.match(typed)
        if point is not None:
            lat, lon = float(point.group(1)), float(point.group(2))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise PlaceError(
                    "not_a_place", f"{typed!r}: a latitude is -90 to 90, a longitude -180 to 180"
                )
            return Near(lat, lon, f"{lat:.5g}, {lon:.5g}", "point")
        canonical = canonical_postcode(typed)
        if canonical is not None:
            return self._postcode(canonical)
        if is_outward_code(typed):
            return self._district(compact(typed))
        check = check_postcode(typed)
        hint = f" Did you mean {check.did_you_mean}?" if check.did_you_mean else ""
        reason = check.reason if typed else "it is empty"
        raise PlaceError(
            "not_a_place",
            f"{typed!r} is not a UK postcode ({reason}), a postcode district such as SE10, "
            f"or a position such as 51.4955,0.0185.{hint}",
        )

    def _postcode(self, postcode: str) -> Near:
        if self.geocoder is None:
            raise PlaceError("unavailable", "postcode search is switched off on this server")
        result = self.geocoder.lookup([postcode]).get(postcode)
        if result is None or result.status == "unavailable":
            detail = result.detail if result is not None else "no answer"
            raise PlaceError(
                "unavailable",
                f"the postcode service is unavailable, so {postcode} cannot be placed just now "
                f"({detail}); please try again later",
            )
        if result.status != "found" or result.latitude is None or result.longitude is None:
            raise PlaceError(
                "not_found",
                f"{postcode} is a well-formed postcode, but it was not found (it may be new or "
                f"no longer used); check it, or search by its district {postcode.split()[0]}",
            )
        return Near(result.latitude, result.longitude, postcode, "postcode")

    def _district(self, outcode: str) -> Near:
        if self.outcodes is None:
            raise PlaceError("unavailable", "postcode search is switched off on this server")
        result = self.outcodes.lookup(outcode)
        if result.status == "unavailable":
            raise PlaceError(
                "unavailable",
                f"the postcode service is unavailable, so {outcode} cannot be placed just now "
                f"({result.detail}); please try again later",
            )
        if result.latitude is None or result.longitude is None:
            raise PlaceError(
                "not_found", f"{outcode} looks like a postcode district, but it was not found"
            )
        return Near(result.latitude, result.longitude, f"{outcode} (postcode district)", "district")


def make_locator(spec: str, *, transport: httpx.BaseTransport | None = None) -> Locator:
    """'postcodes.io' (the public service), an http(s):// address of a postcodes.io-compatible
    service, a CSV file of postcode, latitude, longitude, or 'none' (positions only). A search
    waits a few seconds at most for the service, never the import's long back-off."""
    choice = spec.strip()
    if choice.lower() == "none":
        return Locator(None, None)
    if choice.lower() == "postcodes.io" or choice.lower().startswith(("http://", "https://")):
        base = POSTCODES_IO if choice.lower() == "postcodes.io" else choice
        geocoder = PostcodesIoGeocoder(
            base, transport=transport, retries=2, backoff=0.3, timeout=8.0
        )
        return Locator(geocoder, OutcodeSource(base, transport=transport))
    csv_geocoder = CsvGeocoder(Path(choice).expanduser())
    return Locator(csv_geocoder, CsvOutcodes(csv_geocoder))
