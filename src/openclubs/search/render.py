"""A search result as the API's JSON and as the CLI's table: one shape for every client."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from openclubs.search.engine import Result, SearchResult
from openclubs.search.entries import NO_UPPER_AGE
from openclubs.search.place import Near
from openclubs.search.sqlite_index import EARTH_RADIUS_KM


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def nearest_place(result: Result, near: Near | None) -> dict[str, Any] | None:
    """The place a result is nearest by (the first place with a position when there is no
    centre; the first place of all when none has one)."""
    places: list[dict[str, Any]] = result.summary.get("places") or []
    placed = [p for p in places if p.get("latitude") is not None]
    if not placed:
        return places[0] if places else None
    if near is None:
        return placed[0]
    return min(
        placed,
        key=lambda p: haversine_km(near.latitude, near.longitude, p["latitude"], p["longitude"]),
    )


def age_text(age_range: Any) -> str:
    if not isinstance(age_range, list) or len(age_range) != 2:
        return "not stated"
    low, high = age_range
    if high is None or high >= NO_UPPER_AGE:
        return f"{low:g} and over" if low > 0 else "all ages"
    return f"{low:g} to {high:g}"


GENDER_TEXT = {
    "FemaleOnly": "women and girls only",
    "MaleOnly": "men and boys only",
    "NoRestriction": "everyone",
    "Unknown": "not stated",
}


def _age_range(age_range: Any) -> list[float | None] | None:
    """[min, max] in years, max null when the club gives none ("5 and over"): the index's
    open-ended stand-in (entries.NO_UPPER_AGE) is not an age a data user should see."""
    if not isinstance(age_range, list) or len(age_range) != 2:
        return None
    low, high = age_range
    return [low, None if high is None or high >= NO_UPPER_AGE else high]


def item_json(result: Result, near: Near | None, base: str) -> dict[str, Any]:
    summary = result.summary
    place = nearest_place(result, near)
    item: dict[str, Any] = {
        "key": result.key,
        "id": summary.get("id"),
        "name": summary.get("name"),
        "page": f"{base}/clubs/{quote(result.key, safe='')}",
        "distanceKm": None if result.distance_km is None else round(result.distance_km, 3),
        "beyondRadius": result.beyond_radius,
        "activities": summary.get("activities", []),
        "place": place,
        "places": summary.get("places", []),
        "url": summary.get("url") or None,
        "email": summary.get("email", []),
        "telephone": summary.get("telephone", []),
        "description": summary.get("description", ""),
        "alternateName": summary.get("alternateName", []),
        "genderRestriction": summary.get("genderRestriction"),
        "ageRange": _age_range(summary.get("ageRange")),
        "accessibilitySupport": summary.get("accessibilitySupport", []),
        "amenities": summary.get("amenities", []),
        "updated": result.updated_at,
    }
    return item


def result_json(found: SearchResult, base: str) -> dict[str, Any]:
    query = found.query
    return {
        "ok": True,
        "query": query.describe(),
        "total": found.total,
        "totalExact": found.total_exact,
        "countedWithinKm": found.counted_within_km,
        "offset": query.offset,
        "limit": query.limit,
        "nearestAnyway": found.nearest_anyway,
        "items": [item_json(r, query.near, base) for r in found.results],
        "facets": {
            "activity": [
                {"label": f.label, "id": f.value, "count": f.count} for f in found.activity_facets
            ],
            "distance": [
                {"label": f.label, "withinKm": float(f.value), "count": f.count}
                for f in found.distance_facets
            ],
        },
    }


def result_table(found: SearchResult) -> str:
    """A plain-text table for a terminal: distance, name, activities, where, contact."""
    query = found.query
    lines: list[str] = []
    if found.nearest_anyway:
        lines.append(
            f"No club within {query.radius_km:g} km of {query.near.label if query.near else ''}"
            f"; the nearest {len(found.results)} beyond it:"
        )
    elif not found.total:
        return "No clubs match.\n"
    else:
        total = f"{found.total}" if found.total_exact else f"{found.total}+"
        shown = f"{query.offset + 1}-{query.offset + len(found.results)} of {total}"
        where = ""
        if not found.total_exact and found.counted_within_km is not None:
            where = f"; counted within {found.counted_within_km:g} km, more beyond"
        lines.append(f"{total} clubs (showing {shown}{where})")
    rows = [("KM", "CLUB", "ACTIVITIES", "WHERE", "CONTACT", "UPDATED")]
    for result in found.results:
        summary = result.summary
        place = nearest_place(result, query.near) or {}
        where = ", ".join(x for x in (place.get("locality"), place.get("postcode")) if x)
        contact = (
            summary.get("url")
            or next(iter(summary.get("email") or []), "")
            or next(iter(summary.get("telephone") or []), "")
        )
        distance = "" if result.distance_km is None else f"{result.distance_km:.1f}"
        rows.append(
            (
                distance,
                str(summary.get("name", "")),
                ", ".join(summary.get("activities", [])),
                where or str(place.get("name") or ""),
                str(contact),
                result.updated_at[:10],
            )
        )
    widths = [min(max(len(r[i]) for r in rows), 40) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            (cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…").ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    if found.activity_facets and not found.nearest_anyway:
        facets = ", ".join(f"{f.label} ({f.count})" for f in found.activity_facets[:10])
        lines.append(f"By activity: {facets}")
    return "\n".join(lines) + "\n"
