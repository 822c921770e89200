"""The /build form's club record: from form fields to Club Specification JSON-LD, and back
(a pasted snippet fills the form, so a club can edit what it published).

`static/webtools/build.js` builds the same record in the browser as the user types; the two
follow the same rules, field by field and key by key, so the page's live snippet and the one
rendered here without JavaScript are the same text (a browser test compares them). Change
one, change the other.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from openclubs.ingest.html import json_ld_blocks, looks_like_html
from openclubs.ingest.jsontext import parse_json
from openclubs.model.postcodes import canonical_postcode
from openclubs.validate.records import find_records
from openclubs.validate.report import Issue
from openclubs.vocab import activity_list, normalise_label

CONTEXT = "https://openactive.io/"
GENDERS = {
    "https://openactive.io/NoRestriction": "Everyone (no restriction)",
    "https://openactive.io/MaleOnly": "Men and boys only",
    "https://openactive.io/FemaleOnly": "Women and girls only",
}
# OpenActive's amenity types (LocationFeatureSpecification subclasses) and their names.
AMENITIES = {
    "ChangingFacilities": "Changing Facilities",
    "Showers": "Showers",
    "Toilets": "Toilets",
    "Lockers": "Lockers",
    "Towels": "Towels",
    "Parking": "Parking",
    "Creche": "Creche",
    "BabyChanging": "Baby Changing",
}
POSTCODE_COUNTRIES = frozenset({"", "GB", "JE", "GG", "IM"})
MAX_PLACES = 20  # locations one form holds: a bound on what a post makes the server build
PLACE_FIELDS = ("name", "street", "locality", "region", "postcode", "country", "lat", "lon")
ADDRESS_KEYS = {
    "street": "streetAddress",
    "locality": "addressLocality",
    "region": "addressRegion",
    "postcode": "postalCode",
}
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")
_WHOLE = re.compile(r"[0-9]+\Z")


@dataclass(slots=True)
class PlaceFields:
    name: str = ""
    street: str = ""
    locality: str = ""
    region: str = ""
    postcode: str = ""
    country: str = "GB"
    lat: str = ""
    lon: str = ""
    amenities: list[str] = field(default_factory=list)
    note: str = ""  # what the postcode look-up said


@dataclass(slots=True)
class ClubFields:
    """The form's fields, as text (what the user typed)."""

    id: str = ""
    name: str = ""
    description: str = ""
    url: str = ""
    same_as: str = ""
    email: str = ""
    telephone: str = ""
    activities: list[str] = field(default_factory=list)
    places: list[PlaceFields] = field(default_factory=lambda: [PlaceFields()])
    age_min: str = ""
    age_max: str = ""
    gender: str = ""
    member_of: str = ""

    def to_json(self) -> dict[str, Any]:
        """The fields as the /webtools/fill endpoint returns them to the page's script."""
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "id",
                "name",
                "description",
                "url",
                "same_as",
                "email",
                "telephone",
                "age_min",
                "age_max",
                "gender",
                "member_of",
            )
        }
        out["activities"] = list(self.activities)
        out["places"] = [
            {**{k: getattr(p, k) for k in PLACE_FIELDS}, "amenities": list(p.amenities)}
            for p in self.places
        ]
        return out


def fields_from_form(get: Any, getlist: Any) -> ClubFields:
    """ClubFields from a posted form (`get(name)` one value, `getlist(name)` all of them)."""
    count = get("locations", "1")
    places = []
    for i in range(min(int(count) if count.isdigit() else 1, MAX_PLACES)):
        values = {k: get(f"loc-{i}-{k}", "") for k in PLACE_FIELDS}
        amenities = [a for a in getlist(f"loc-{i}-amenity") if a in AMENITIES]
        places.append(PlaceFields(**values, amenities=amenities))
    return ClubFields(
        id=get("id", ""),
        name=get("name", ""),
        description=get("description", ""),
        url=get("url", ""),
        same_as=get("same_as", ""),
        email=get("email", ""),
        telephone=get("telephone", ""),
        activities=[a for a in getlist("activity") if a.strip()],
        places=places or [PlaceFields()],
        age_min=get("age_min", ""),
        age_max=get("age_max", ""),
        gender=get("gender", ""),
        member_of=get("member_of", ""),
    )


@cache
def activity_index() -> dict[str, list[str]]:
    """normalised label -> [id, prefLabel] for every label, alternative label and synonym
    of the Activity List (the page's script resolves activities with it)."""
    scheme = activity_list()
    labels: set[str] = set(scheme.synonyms)
    for concept in scheme:
        labels.update((concept.pref_label, *concept.alt_labels, *concept.hidden_labels))
    index: dict[str, list[str]] = {}
    for label in sorted(labels):
        found = scheme.by_label(label)
        if found:
            index[normalise_label(label)] = [found[0].id, found[0].pref_label]
    return index


@cache
def activity_options() -> list[tuple[str, str]]:
    """(value, label) for the activity <datalist>: every preferred label, and each synonym
    or alternative label with the activity it means."""
    scheme = activity_list()
    options = [(c.pref_label, "") for c in scheme]
    for concept in scheme:
        options += [(alt, f"{alt} → {concept.pref_label}") for alt in concept.alt_labels]
    for synonym, meant in scheme.synonyms.items():
        options.append((synonym, f"{synonym} → {meant}"))
    return sorted(set(options), key=lambda o: (o[0].casefold(), o[1]))


def _number(text: str) -> int | float | None:
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


def build_record(f: ClubFields) -> dict[str, Any]:
    """The Club Specification record the fields describe (empty fields left out)."""
    record: dict[str, Any] = {"@context": CONTEXT, "@type": "Organization"}
    ident = f.id.strip() or f.url.strip()
    if ident:
        record["@id"] = ident
    for key, value in (("name", f.name), ("description", f.description), ("url", f.url)):
        if value.strip():
            record[key] = value.strip()
    links = [line.strip() for line in f.same_as.splitlines() if line.strip()]
    if links:
        record["sameAs"] = links
    for key, value in (("email", f.email), ("telephone", f.telephone)):
        if value.strip():
            record[key] = value.strip()
    activities: list[dict[str, str]] = []
    seen: set[str] = set()
    index = activity_index()
    for text in f.activities:
        text = text.strip()
        found = index.get(normalise_label(text)) if text else None
        key = found[0] if found else normalise_label(text)
        if not text or key in seen:
            continue
        seen.add(key)
        if found:
            activities.append(
                {
                    "@type": "Concept",
                    "@id": found[0],
                    "prefLabel": found[1],
                    "inScheme": found[0].partition("#")[0],
                }
            )
        else:
            activities.append({"@type": "Concept", "prefLabel": text})
    if activities:
        record["activity"] = activities
    places = [p for p in (_place(p) for p in f.places) if p is not None]
    if places:
        record["location"] = places[0] if len(places) == 1 else places
    if f.gender in GENDERS:
        record["genderRestriction"] = f.gender
    ages = {k: v.strip() for k, v in (("minValue", f.age_min), ("maxValue", f.age_max))}
    if any(_WHOLE.match(v) for v in ages.values()):
        age: dict[str, Any] = {"@type": "QuantitativeValue"}
        age.update({k: int(v) for k, v in ages.items() if _WHOLE.match(v)})
        record["ageRange"] = age
    if f.member_of.strip():
        record["memberOf"] = f.member_of.strip()
    return record


def _place(p: PlaceFields) -> dict[str, Any] | None:
    place: dict[str, Any] = {"@type": "Place"}
    if p.name.strip():
        place["name"] = p.name.strip()
    country = p.country.strip().upper()
    if any(getattr(p, k).strip() for k in ADDRESS_KEYS):
        address: dict[str, Any] = {"@type": "PostalAddress"}
        for key, prop in ADDRESS_KEYS.items():
            value = getattr(p, key).strip()
            if key == "postcode" and country in POSTCODE_COUNTRIES:
                value = canonical_postcode(value) or value
            if value:
                address[prop] = value
        if country:
            address["addressCountry"] = country
        place["address"] = address
    lat, lon = _number(p.lat), _number(p.lon)
    if lat is not None and lon is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon}
    features = [
        {"@type": kind, "name": label, "value": True}
        for kind, label in AMENITIES.items()
        if kind in p.amenities
    ]
    if features:
        place["amenityFeature"] = features
    return place if len(place) > 1 else None


def kept_places(f: ClubFields) -> list[int]:
    """The form positions of the locations that make it into the record (a blank location
    is left out), so `location[k]` in the record is form location `kept_places(f)[k]`."""
    return [n for n, p in enumerate(f.places) if _place(p) is not None]


def snippet_json(record: dict[str, Any]) -> str:
    """The record as indented JSON, safe inside a <script> element (`</` and `<!--` can only
    occur inside strings, where `<\\/` and `<\\u0021--` mean the same)."""
    text = json.dumps(record, indent=2, ensure_ascii=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


def snippet(record: dict[str, Any]) -> str:
    """What the club pastes into its web page's <head>."""
    return f'<script type="application/ld+json">\n{snippet_json(record)}\n</script>'


# -- back: a pasted snippet (or page, or JSON) to the form's fields ------------------------------


def fields_from_text(text: str) -> tuple[ClubFields | None, list[Issue]]:
    """The first club record in pasted text (a snippet, a whole page or JSON; broken JSON
    is repaired where it can be), as form fields; with the syntax issues found."""
    blocks = [b.text for b in json_ld_blocks(text)] if looks_like_html(text) else [text]
    issues: list[Issue] = []
    for block in blocks:
        parsed = parse_json(block)
        issues.extend(parsed.issues)
        if not parsed.ok:
            continue
        for found in find_records(parsed.value):
            if isinstance(found.record, dict):
                return fields_from_record(found.record), issues
    return None, issues


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), "")
    return value.strip() if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _coordinate(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return ""
    return str(value).strip()


def fields_from_record(record: dict[str, Any]) -> ClubFields:
    """Form fields for a club record; what the form cannot hold is left out."""
    f = ClubFields(places=[])
    f.id = _text(record.get("@id") or record.get("id"))
    if f.id == _text(record.get("url")):
        f.id = ""  # the form's default: the website is the id
    for key in ("name", "description", "url", "email", "telephone"):
        setattr(f, key, _text(record.get(key)))
    f.same_as = "\n".join(s.strip() for s in _list(record.get("sameAs")) if isinstance(s, str))
    scheme = activity_list()
    for activity in _list(record.get("activity")):
        label = ""
        if isinstance(activity, dict):
            ref = activity.get("@id") or activity.get("id")
            concept = scheme.get(ref) if isinstance(ref, str) else None
            label = concept.pref_label if concept else _text(activity.get("prefLabel"))
        elif isinstance(activity, str):
            label = activity.strip()
        if label:
            f.activities.append(label)
    for place in _list(record.get("location")):
        if isinstance(place, str):
            f.places.append(PlaceFields(name=place.strip()))
        elif isinstance(place, dict):
            f.places.append(_place_fields(place))
    f.places = f.places or [PlaceFields()]
    gender = record.get("genderRestriction")
    f.gender = gender if isinstance(gender, str) and gender in GENDERS else ""
    age = record.get("ageRange")
    if isinstance(age, dict):
        for key, attr in (("minValue", "age_min"), ("maxValue", "age_max")):
            value = age.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                setattr(f, attr, str(int(value)))
    member = record.get("memberOf")
    if isinstance(member, dict):
        member = member.get("@id") or member.get("id") or member.get("name")
    f.member_of = _text(member)
    return f


def _place_fields(node: dict[str, Any]) -> PlaceFields:
    p = PlaceFields(name=_text(node.get("name")))
    address = node.get("address")
    if node.get("@type") == "PostalAddress":
        address, p.name = node, ""
    if isinstance(address, str):
        p.street = address.strip()
        p.country = ""
    elif isinstance(address, dict):
        for key, prop in ADDRESS_KEYS.items():
            setattr(p, key, _text(address.get(prop)))
        country = address.get("addressCountry")
        if isinstance(country, dict):
            country = country.get("name")
        p.country = _text(country).upper()
    geo = node.get("geo")
    if isinstance(geo, dict):
        p.lat, p.lon = _coordinate(geo.get("latitude")), _coordinate(geo.get("longitude"))
    for feature in _list(node.get("amenityFeature")):
        if isinstance(feature, dict) and feature.get("value") is True:
            kind = feature.get("@type") or feature.get("type")
            if isinstance(kind, str) and kind in AMENITIES:
                p.amenities.append(kind)
    return p
