"""What a harvested RPDE item gives: a club record (club kinds), an organiser contribution
(opportunity kinds: the organiser, and the activities and places of that one item), or nothing.

Club items are kept as published (the publisher's JSON-LD is the record); only what the store
needs is added: an absolute `@id` (the item's own `@id`/`id` URL, else one made from the feed URL
and the item id) and a `@context`. Organiser records are built from the organiser object of
the items, plus every activity and place gathered from all its items (see `organiser_record`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from openclubs.model.kinds import OPPORTUNITY_TYPES

CLUB_TYPES = frozenset(
    {"Organization", "SportsClub", "SportsOrganization", "Club", "Organizer", "SportsTeam"}
)
CONTEXT = "https://openactive.io/"
ACTIVITY_LIST = "https://openactive.io/activity-list"
_ORGANISER_FIELDS = (
    "name",
    "legalName",
    "description",
    "url",
    "email",
    "telephone",
    "logo",
    "sameAs",
)

Facet = tuple[str, str, dict[str, Any]]  # ("activity" | "place", key, value)


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one opportunity item gives its organiser."""

    organiser_id: str
    organiser: dict[str, Any]
    facets: list[Facet]


def type_of(value: dict[str, Any]) -> str | None:
    kind = value.get("@type", value.get("type"))
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str)), None)
    return kind if isinstance(kind, str) else None


def classify(item: dict[str, Any]) -> str:
    """ "club", "opportunity" or "other", from the item's `kind` and its data's `@type`."""
    data = item.get("data")
    kind = item.get("kind")
    if isinstance(kind, str) and kind in CLUB_TYPES:  # the usual case, decided at once
        return "club"
    names = {str(item.get("kind", ""))}
    if isinstance(data, dict):
        names.add(type_of(data) or "")
    names.update(n.split("/")[-1] for n in list(names))
    if names & CLUB_TYPES:
        return "club"
    if names & OPPORTUNITY_TYPES or {n.lower() for n in names} & OPPORTUNITY_TYPES:
        return "opportunity"
    return "other"


def item_url(feed_url: str, item_id: str) -> str:
    return f"{feed_url.split('#', 1)[0]}#item={quote(item_id, safe='')}"


def _absolute(value: Any) -> str | None:
    if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def club_records(feed_url: str, item_id: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The club records of a club item: the data itself, or each organisation inside a
    Modelling 2.1 `Organizer` wrapper."""
    if type_of(data) == "Organizer" and isinstance(data.get("organizer"), dict | list):
        inner = data["organizer"]
        entries = [e for e in listed(inner) if isinstance(e, dict)]
        records = []
        for index, entry in enumerate(entries):
            record = dict(entry)
            record.setdefault("@context", data.get("@context", CONTEXT))
            suffix = f"&organizer={index}" if index else ""
            records.append(_with_id(record, feed_url, item_id, suffix))
        return records
    record = dict(data)
    record.setdefault("@context", CONTEXT)
    return [_with_id(record, feed_url, item_id, "")]


def _with_id(record: dict[str, Any], feed_url: str, item_id: str, suffix: str) -> dict[str, Any]:
    """The record with an absolute `@id`: its own, else its `id`, else one made from the feed
    and item (made only when needed: most records have their own)."""
    if not _absolute(record.get("@id")):
        record["@id"] = _absolute(record.get("id")) or item_url(feed_url, item_id) + suffix
    return record


def contribution(
    feed_url: str, data: dict[str, Any], publisher: dict[str, Any] | None
) -> Contribution | None:
    """The organiser an opportunity names (its `organizer`, else its `superEvent`'s, else the
    dataset's publisher when the feed was found through a dataset site), with the activities
    and places of this item. None when there is no organiser to name."""
    organiser = _first_dict(data.get("organizer"))
    if organiser is None and isinstance(data.get("superEvent"), dict):
        organiser = _first_dict(data["superEvent"].get("organizer"))
    if organiser is None:
        organiser = publisher
    if organiser is None or not isinstance(organiser.get("name"), str):
        return None
    organiser_id = (
        _absolute(organiser.get("@id"))
        or _absolute(organiser.get("id"))
        or _absolute(organiser.get("url"))
        or f"{feed_url.split('#', 1)[0]}#organizer={quote(organiser['name'].strip(), safe='')}"
    )
    base = {k: organiser[k] for k in _ORGANISER_FIELDS if organiser.get(k) not in (None, "", [])}
    facets: list[Facet] = []
    sources = [data]
    if isinstance(data.get("superEvent"), dict):
        sources.append(data["superEvent"])
    for source in sources:
        for activity in listed(source.get("activity")):
            found = _activity(activity)
            if found is not None:
                facets.append(("activity", *found))
        for place in listed(source.get("location")):
            found = _place(place)
            if found is not None:
                facets.append(("place", *found))
    unique = {(f, k): (f, k, v) for f, k, v in facets}
    return Contribution(organiser_id, base, list(unique.values()))


def _first_dict(value: Any) -> dict[str, Any] | None:
    for entry in listed(value):
        if isinstance(entry, dict):
            return entry
    return None


def listed(value: Any) -> list[Any]:
    """A JSON-LD value that may be one thing or a list, as a list (absent: empty)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _activity(value: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(value, str) and value.strip():
        label = " ".join(value.split())
        return f"label:{label.casefold()}", {"@type": "Concept", "prefLabel": label}
    if not isinstance(value, dict):
        return None
    concept_id = _absolute(value.get("@id")) or _absolute(value.get("id"))
    pref = value.get("prefLabel")
    concept: dict[str, Any] = {"@type": "Concept"}
    if concept_id:
        # the Activity List's old addresses (http, "/#") name the same concepts
        fragment = concept_id.partition("#")[2]
        if "openactive.io/activity-list" in concept_id and fragment:
            concept_id = f"{ACTIVITY_LIST}#{fragment}"
            concept["inScheme"] = ACTIVITY_LIST
        concept["@id"] = concept_id
    if isinstance(pref, str) and pref.strip():
        concept["prefLabel"] = " ".join(pref.split())
    if len(concept) == 1:
        return None
    key = f"id:{concept_id}" if concept_id else f"label:{concept['prefLabel'].casefold()}"
    return key, concept


def _place(value: Any) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(value, dict):
        return None
    place: dict[str, Any] = {"@type": "Place"}
    place_id = _absolute(value.get("@id")) or _absolute(value.get("id"))
    if place_id:
        place["@id"] = place_id
    for name in ("name", "identifier", "address", "url", "telephone"):
        if value.get(name) not in (None, "", [], {}):
            place[name] = value[name]
    geo = value.get("geo")
    if isinstance(geo, dict):
        lat, lon = geo.get("latitude"), geo.get("longitude")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            place["geo"] = {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon}
    if len(place) == 1:
        return None
    name = str(place.get("name", "")).casefold().strip()
    key = f"id:{place_id}" if place_id else f"{place.get('identifier', '')}|{name}"
    return key, place


def organiser_record(
    organiser_id: str, base: dict[str, Any], facets: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """The club record of an organiser: its own properties and every activity and place of
    its items (in a stable order, so an unchanged organiser keeps its hash)."""
    record: dict[str, Any] = {"@context": CONTEXT, "@type": "Organization", "@id": organiser_id}
    record.update(base)
    activities = [v for f, v in facets if f == "activity"]
    places = [v for f, v in facets if f == "place"]
    if activities:
        record["activity"] = activities
    if places:
        record["location"] = places
    return record
