"""What the index keeps of one club record: pure functions, the same for both backends.

A record is read defensively (published data is often incomplete or oddly shaped): anything
that cannot be understood is left out of the index rather than guessed. In particular a
missing `genderRestriction` is "Unknown" (never "NoRestriction"), a missing `ageRange` is an
unknown age range (an age filter never matches it), and the points indexed are the club's
Places' `geo` (where it meets), never an organisation address (where its secretary lives).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import orjson

from openclubs.store.export import number, places
from openclubs.vocab import ConceptScheme, accessibility_support, activity_list, normalise_label

GENDERS = ("FemaleOnly", "MaleOnly", "NoRestriction")
UNKNOWN_GENDER = "Unknown"
NO_UPPER_AGE = 999.0  # an ageRange with only a minValue ("from 5") is open-ended
_WORD = re.compile(r"[^\w]+|_")
_DESCRIPTION_CHARS = 280


@dataclass(frozen=True, slots=True)
class Entry:
    """One club as the index holds it."""

    key: str
    name_sort: str
    gender: str
    age_min: float | None
    age_max: float | None
    updated_at: str
    summary: dict[str, Any]
    activities: tuple[str, ...]  # Activity List concept ids
    points: tuple[tuple[float, float], ...]  # (latitude, longitude) of each place
    features: tuple[tuple[str, str], ...]  # (kind, value): access / amenity / member
    words: str

    def club_row(self, club: int) -> tuple[Any, ...]:
        """The search_clubs columns both backends keep, in table order, for club number
        `club` (PostgreSQL adds the words as a tsvector; SQLite keeps them in FTS5)."""
        summary = orjson.dumps(self.summary).decode()
        return (
            club,
            self.key,
            self.name_sort,
            self.gender,
            self.age_min,
            self.age_max,
            self.updated_at,
            summary,
        )


def words_of(text: str) -> str:
    """Text as the index compares it: lower case, accents dropped, words split on anything
    that is not a letter or digit. Both backends are given these words (FTS5's unicode61 and
    PostgreSQL's `simple` configuration then split them identically)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORD.sub(" ", plain).split())


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def gender_of(value: Any) -> str:
    """'https://openactive.io/FemaleOnly', 'oa:FemaleOnly' or 'FemaleOnly' → 'FemaleOnly';
    anything missing or unrecognised → 'Unknown'."""
    if not isinstance(value, str):
        return UNKNOWN_GENDER
    tail = re.split(r"[/#:]", value.strip())[-1]
    return next((g for g in GENDERS if g.lower() == tail.lower()), UNKNOWN_GENDER)


def age_range_of(value: Any) -> tuple[float | None, float | None]:
    """(min, max) of an ageRange; (None, None) when there is none (unknown). A range with
    only one bound is open at the other end."""
    if not isinstance(value, dict):
        return None, None
    low, high = number(value.get("minValue")), number(value.get("maxValue"))
    if low is None and high is None:
        return None, None
    return (low if low is not None else 0.0), (high if high is not None else NO_UPPER_AGE)


def _concept_ref(item: Any) -> list[str]:
    """The ids and labels a Concept reference offers, best first."""
    if isinstance(item, str):
        return [item]
    if not isinstance(item, dict):
        return []
    refs = [item.get("@id"), item.get("id"), item.get("prefLabel")]
    return [r for r in refs if isinstance(r, str) and r.strip()]


def resolve(scheme: ConceptScheme, item: Any) -> tuple[str, str] | None:
    """(concept id, preferred label) of a Concept reference, by id first, then by label."""
    for ref in _concept_ref(item):
        concept = scheme.find(ref.strip())
        if concept is not None:
            return concept.id, concept.pref_label
    return None


def point_of(place: dict[str, Any]) -> tuple[float, float] | None:
    geo = place.get("geo")
    if not isinstance(geo, dict):
        return None
    lat, lon = number(geo.get("latitude")), number(geo.get("longitude"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None  # "null island": a placeholder, not a place
    return lat, lon


def amenity_name(feature: Any) -> str | None:
    """The name of an amenity a place has (`value` true); None for absent ones."""
    if not isinstance(feature, dict) or feature.get("value") not in (True, "true", "True"):
        return None
    name = _text(feature.get("name"))
    kind = _text(feature.get("@type") or feature.get("type"))
    if not name and kind and kind != "LocationFeatureSpecification":
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", kind)
    return name or None


def member_keys(value: Any) -> list[str]:
    """Keys to match a governing body by: its name and its id, normalised."""
    keys: list[str] = []
    for item in _list(value):
        texts: list[Any] = [item] if isinstance(item, str) else []
        if isinstance(item, dict):
            texts = [item.get(k) for k in ("name", "@id", "id", "url", "legalName")]
        for text in texts:
            if isinstance(text, str) and normalise_label(text):
                keys.append(normalise_label(text))
    return keys


def entry_of(key: str, record: dict[str, Any], updated_at: str) -> Entry:
    """The index entry of one current club."""
    activities_scheme = activity_list()
    access_scheme = accessibility_support()
    name = _text(record.get("name")) or "Unnamed club"
    activity_ids: dict[str, str] = {}
    labels: list[str] = []
    for item in _list(record.get("activity")):
        found = resolve(activities_scheme, item)
        if found is not None:
            activity_ids.setdefault(found[0], found[1])
            if found[1] not in labels:
                labels.append(found[1])
        else:
            label = next((r for r in _concept_ref(item) if "://" not in r), "")
            if label and label not in labels:
                labels.append(label)  # shown, though no Activity List search can find it
    points: list[tuple[float, float]] = []
    shown_places: list[dict[str, Any]] = []
    features: dict[tuple[str, str], None] = {}
    amenities: list[str] = []
    access_items = list(_list(record.get("accessibilitySupport")))
    for place in places(record):
        point = point_of(place)
        if point is not None and point not in points:
            points.append(point)
        address = place.get("address")
        locality = postcode = ""
        if isinstance(address, dict):
            locality = _text(address.get("addressLocality"))
            postcode = _text(address.get("postalCode"))
        shown_places.append(
            {
                "name": _text(place.get("name")),
                "locality": locality,
                "postcode": postcode,
                "latitude": None if point is None else point[0],
                "longitude": None if point is None else point[1],
            }
        )
        for feature in _list(place.get("amenityFeature")):
            amenity = amenity_name(feature)
            if amenity is not None:
                features[("amenity", normalise_label(amenity))] = None
                if amenity not in amenities:
                    amenities.append(amenity)
        access_items.extend(_list(place.get("accessibilitySupport")))
    access_labels: list[str] = []
    for item in access_items:
        found = resolve(access_scheme, item)
        if found is not None:
            features[("access", found[0])] = None
            if found[1] not in access_labels:
                access_labels.append(found[1])
    for member in member_keys(record.get("memberOf")):
        features[("member", member)] = None
    alternate = [_text(a) for a in _list(record.get("alternateName")) if _text(a)]
    description = _text(record.get("description"))
    gender = gender_of(record.get("genderRestriction"))
    age_min, age_max = age_range_of(record.get("ageRange"))
    summary: dict[str, Any] = {
        "id": record.get("@id"),
        "name": name,
        "alternateName": alternate,
        "description": description[:_DESCRIPTION_CHARS]
        + ("…" if len(description) > _DESCRIPTION_CHARS else ""),
        "activities": labels,
        "places": shown_places,
        "url": _text(record.get("url")),
        "email": [_text(e) for e in _list(record.get("email")) if _text(e)],
        "telephone": [_text(t) for t in _list(record.get("telephone")) if _text(t)],
        "genderRestriction": gender,
        "ageRange": None if age_min is None else [age_min, age_max],
        "accessibilitySupport": access_labels,
        "amenities": amenities,
    }
    words = words_of(" ".join([name, *alternate, description]))
    return Entry(
        key=key,
        name_sort=name.casefold(),
        gender=gender,
        age_min=age_min,
        age_max=age_max,
        updated_at=updated_at,
        summary=summary,
        activities=tuple(activity_ids),
        points=tuple(points),
        features=tuple(features),
        words=words,
    )
