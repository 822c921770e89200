"""Streaming exports of the store: JSON Lines of JSON-LD, CSV, GeoJSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson

from openclubs.store.sqlite import StoredClub

CSV_COLUMNS = (
    "id",
    "name",
    "activities",
    "url",
    "email",
    "telephone",
    "same_as",
    "place",
    "street_address",
    "locality",
    "region",
    "postcode",
    "country",
    "latitude",
    "longitude",
    "updated_at",
)


def number(value: Any) -> float | None:
    """A JSON number, or a string holding one ("51.47"), as a float; None for anything else
    (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def places(record: dict[str, Any]) -> list[dict[str, Any]]:
    location = record.get("location")
    if isinstance(location, list):
        return [p for p in location if isinstance(p, dict)]
    return [location] if isinstance(location, dict) else []


def export_jsonld(clubs: Iterable[StoredClub], out: IO[bytes]) -> int:
    count = 0
    for club in clubs:
        out.write(orjson.dumps(club.data) + b"\n")
        count += 1
    return count


def _csv_rows(club: StoredClub) -> Iterator[list[Any]]:
    record = club.data or {}
    activities = "; ".join(
        a.get("prefLabel", "") for a in record.get("activity", []) if isinstance(a, dict)
    )
    same_as = record.get("sameAs")
    same = "; ".join(same_as) if isinstance(same_as, list) else same_as or ""
    head = [
        record.get("@id"),
        record.get("name"),
        activities,
        record.get("url"),
        record.get("email"),
        record.get("telephone"),
        same,
    ]
    for place in places(record) or [{}]:
        address: dict[str, Any] = place.get("address") or {}
        geo: dict[str, Any] = place.get("geo") or {}
        address = address if isinstance(address, dict) else {}
        geo = geo if isinstance(geo, dict) else {}
        yield [
            *head,
            place.get("name"),
            address.get("streetAddress"),
            address.get("addressLocality"),
            address.get("addressRegion"),
            address.get("postalCode"),
            address.get("addressCountry"),
            geo.get("latitude"),
            geo.get("longitude"),
            club.updated_at,
        ]


def export_csv(clubs: Iterable[StoredClub], out: IO[bytes]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for club in clubs:
        writer.writerows(_csv_rows(club))
        count += 1
    text.flush()
    text.detach()
    return count


def export_geojson(clubs: Iterable[StoredClub], out: IO[bytes]) -> int:
    out.write(b'{"type":"FeatureCollection","features":[\n')
    count = features = 0
    for club in clubs:
        record = club.data or {}
        for place in places(record):
            geo = place.get("geo")
            if not isinstance(geo, dict) or not isinstance(geo.get("latitude"), (int, float)):
                continue
            feature = {
                "type": "Feature",
                "id": record.get("@id"),
                "geometry": {
                    "type": "Point",
                    "coordinates": [geo.get("longitude"), geo.get("latitude")],
                },
                "properties": {
                    "name": record.get("name"),
                    "place": place.get("name"),
                    "url": record.get("url"),
                    "updated": club.updated_at,
                },
            }
            out.write((b",\n" if features else b"") + orjson.dumps(feature))
            features += 1
        count += 1
    out.write(b"\n]}\n")
    return count


EXPORTERS: dict[str, Callable[[Iterable[StoredClub], IO[bytes]], int]] = {
    "jsonld": export_jsonld,
    "csv": export_csv,
    "geojson": export_geojson,
}
