"""From one SourceRow to one Club Specification 0.2 record, recording every change made and
every value left out (with the reason)."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

from openclubs.ingest.rows import SourceRow
from openclubs.model.countries import UK_POSTCODE_COUNTRIES, country_code
from openclubs.model.postcodes import check_postcode
from openclubs.model.regions import is_region
from openclubs.normalise.activities import infer_activities, map_activity
from openclubs.normalise.contact import clean_email, clean_telephone, clean_url, social_url
from openclubs.normalise.text import clean_text, join_wrapped, title_case_name
from openclubs.vocab import Concept

OA_CONTEXT = "https://openactive.io/"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
GENDER_WORDS = {
    "mixed": "NoRestriction",
    "all": "NoRestriction",
    "any": "NoRestriction",
    "none": "NoRestriction",
    "norestriction": "NoRestriction",
    "open": "NoRestriction",
    "male": "MaleOnly",
    "men": "MaleOnly",
    "boys": "MaleOnly",
    "maleonly": "MaleOnly",
    "female": "FemaleOnly",
    "women": "FemaleOnly",
    "ladies": "FemaleOnly",
    "girls": "FemaleOnly",
    "femaleonly": "FemaleOnly",
}
_AGE_SPAN = re.compile(r"^\s*(\d{1,2})\s*(?:-|–|to)\s*(\d{1,2})\s*$")
_AGE_UNDER = re.compile(r"^\s*u(?:nder)?\s*-?\s*(\d{1,2})s?\s*$", re.I)
_AGE_OVER = re.compile(r"^\s*(\d{1,2})\s*(?:\+|and over|plus)\s*$", re.I)
_SPLIT = re.compile(r"\s*[,;/|]\s*|\s+and\s+")
_CARE_OF = re.compile(r"^\s*(?:c/o|c\\o|care of)\b", re.I)
_SLUG = re.compile(r"[^a-z0-9]+")
_WEB_ID = re.compile(r"^https?://\S+$")
_NOT_LETTER = re.compile(r"[^a-z]")
_PLACEHOLDER = re.compile(r"^(?:n/?a|none|nil|tbc|unknown|-+|\.+|[a-z]{1,2})$", re.I)


class Change:
    """One thing the importer did to a value (or left out), and why. (Plain classes here
    rather than dataclasses: compiled, they are made several times quicker, and an import
    makes about five changes a row.)"""

    def __init__(self, field: str, before: Any, after: Any, reason: str) -> None:
        self.field = field
        self.before = before
        self.after = after
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Change) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.field, self.reason))

    def __repr__(self) -> str:
        return f"Change({self.field!r}, {self.before!r}, {self.after!r}, {self.reason!r})"


class Built:
    """A record built from a row, with its changes; `to_geocode` are places still to
    geocode, with their postcodes."""

    def __init__(self, record: dict[str, Any], row: SourceRow) -> None:
        self.record = record
        self.row = row
        self.changes: list[Change] = []
        self.to_geocode: list[tuple[dict[str, Any], str]] = []

    def note(self, field_: str, before: Any, after: Any, reason: str) -> None:
        self.changes.append(Change(field_, before, after, reason))


def club_key(name: str, where: str) -> str:
    """The deterministic part of an @id: a readable slug and a short hash of what identifies
    the club in a list without ids: its name, and the postcode district, town and county of
    its first place (two "Barrow Cricket Club"s or two "Rainham Cricket Club"s stay apart). The same
    list imported again gives the same ids; a club whose district or town changes gets a new
    one."""
    slug = _dashed(name)[:60] or "club"
    digest = hashlib.sha1(f"{slug}|{_squashed(where)}".encode()).hexdigest()[:8]
    return f"{slug}-{digest}"


@lru_cache(maxsize=16)  # a club's name is slugged twice in a row: for its @id and its address
def _dashed(text: str) -> str:
    """Lower-case letters and digits, with a "-" for each run of anything else between
    them."""
    return "-".join(_runs(text.casefold()))


@lru_cache(maxsize=65536)  # district|town|county: repeated throughout a register
def _squashed(text: str) -> str:
    """Only the lower-case letters and digits."""
    return "".join(_runs(text.casefold()))


def _runs(folded: str) -> list[str]:
    """The runs of letters a-z and digits of a case-folded text. Most names are plain ASCII
    words and numbers between spaces: splitting them is several times quicker than the
    regular expression."""
    if folded.isascii():
        words = folded.split()
        if all(word.isalnum() for word in words):
            return words
    return [run for run in _SLUG.split(folded) if run]


def build_record(row: SourceRow, base_url: str = DEFAULT_BASE_URL) -> Built | str:
    """The record for `row`, or the reason the row cannot be a club at all."""
    f = row.fields
    if f.get("_problem"):
        return str(f["_problem"])
    raw_name = f.get("name")
    if isinstance(raw_name, str) and f.get("name_cut_at"):
        raw_name = join_wrapped(raw_name, int(f["name_cut_at"]))
    name = clean_text(str(raw_name)) if raw_name is not None else None
    if not name:
        return "no club name"
    built = Built({"@context": OA_CONTEXT, "@type": "SportsClub"}, row)
    record = built.record
    for note in f.get("_notes", []):
        built.note("row", None, None, str(note))
    pretty = title_case_name(name)
    if pretty != f["name"]:
        reason = "white space tidied" if pretty == name else "capitals made readable"
        if raw_name != f["name"]:
            reason = "a name the register had cut at 40 characters joined up; " + reason
        built.note("name", f["name"], pretty, reason)
    record["@id"] = ""  # placeholder keeps @id near the top; set below
    record["name"] = pretty
    for key, prop in (("legal_name", "legalName"), ("description", "description")):
        _text(built, f.get(key), prop)
    _alternate_names(built, f.get("alternate_name"))
    _url(built, f.get("url"))
    _same_as(built, f)
    _contact(built, f.get("email"), f.get("telephone"))
    _activities(built, f.get("activity"), pretty)
    _suitability(built, f)
    member_of = clean_text(str(f["member_of"])) if f.get("member_of") is not None else None
    if member_of:
        record["memberOf"] = member_of
    if f.get("logo"):
        logo, problem = clean_url(str(f["logo"]))
        if logo:
            record["logo"] = {"@type": "ImageObject", "url": logo}
        else:
            built.note("logo", f["logo"], None, f"left out: {problem}")
    places = _places(built, row, pretty)
    if places:
        record["location"] = places if len(places) > 1 else places[0]
    record["@id"] = _identifier(built, row, base_url, places)
    return built


def _identifier(built: Built, row: SourceRow, base_url: str, places: list[dict[str, Any]]) -> str:
    source = row.source_id
    if source and _WEB_ID.match(source):
        return source
    base = base_url.rstrip("/")
    if source:
        return f"{base}/clubs/{_dashed(source) or 'club'}"
    where = ""
    for place in places:  # the first place with an address: its postcode district and town
        address = place.get("address", {})
        district = str(address.get("postalCode", "")).partition(" ")[0]
        where = "|".join(
            (district, address.get("addressLocality", ""), address.get("addressRegion", ""))
        ).strip("|")
        if where:
            break
    return f"{base}/clubs/{club_key(built.record['name'], where)}"


def _text(built: Built, value: Any, prop: str) -> None:
    if value is None:
        return
    text = clean_text(str(value))
    if text:
        built.record[prop] = text
        if text != value:
            built.note(prop, value, text, "white space tidied")


def _alternate_names(built: Built, value: Any) -> None:
    if value is None:
        return
    names = [n for n in (clean_text(str(v)) for v in _listed(value)) if n]
    if names:
        built.record["alternateName"] = names


def _listed(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [v for v in _SPLIT.split(value) if v.strip()]
    return [value]


def _url(built: Built, value: Any) -> None:
    if value is None or value in (0, "0"):
        return
    url, problem = clean_url(str(value))
    if url is None:
        built.note("url", value, None, f"left out: {problem}")
        return
    built.record["url"] = url
    if url != value:
        built.note("url", value, url, "scheme added" if "://" not in str(value) else "tidied")


def _same_as(built: Built, f: dict[str, Any]) -> None:
    links: list[str] = []
    raw = f.get("same_as")
    for value in _listed(raw) if raw is not None else []:
        url, problem = clean_url(str(value))
        if url:
            links.append(url)
        else:
            built.note("sameAs", value, None, f"left out: {problem}")
    for kind in ("facebook", "twitter", "instagram"):
        value = f.get(kind)
        if value is None or value in (0, "0"):
            continue
        url = social_url(kind, str(value))
        if url:
            links.append(url)
            built.note("sameAs", value, url, f"{kind} column made a profile URL")
        else:
            built.note("sameAs", value, None, f"left out: not a {kind} profile or handle")
    own = built.record.get("url")
    unique = list(dict.fromkeys(u for u in links if u != own))
    if unique:
        built.record["sameAs"] = unique


def _contact(built: Built, email: Any, telephone: Any) -> None:
    if email is not None:
        cleaned, problem = clean_email(str(email))
        if cleaned:
            built.record["email"] = cleaned
            if cleaned != email:
                built.note("email", email, cleaned, "tidied")
        else:
            built.note("email", email, None, f"left out: {problem}")
    if telephone is not None:
        text = str(telephone)
        if isinstance(telephone, (int, float)) and not text.startswith("0"):
            text = "0" + text.removesuffix(".0")  # a spreadsheet ate the leading zero
        cleaned, problem = clean_telephone(text)
        if cleaned:
            built.record["telephone"] = cleaned
            if cleaned != telephone:
                built.note("telephone", telephone, cleaned, "formatted (GB numbering)")
        else:
            built.note("telephone", telephone, None, f"left out: {problem}")


def _activities(built: Built, value: Any, name: str) -> None:
    found: list[tuple[Concept, str]] = []
    if value is not None:
        mapped = _map_activities(value) if isinstance(value, str) else _map_each(_listed(value))
        for text, concept, how, suggestions in mapped:
            if concept is not None:
                found.append((concept, how))
            else:
                hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
                built.note(
                    "activity", text, None, f"left out: not in the OpenActive Activity List{hint}"
                )
    else:
        found = infer_activities(name)
    concepts = list({c.id: (c, how) for c, how in found}.values())
    if concepts:
        built.record["activity"] = [c.reference() for c, _ in concepts]
        for concept, how in concepts:
            built.note("activity", value, concept.pref_label, how)


Mapped = tuple[tuple[Any, Concept | None, str, tuple[str, ...]], ...]


@lru_cache(maxsize=4096)  # a sport column holds a few dozen distinct values
def _map_activities(value: str) -> Mapped:
    return _map_each(_listed(value))


def _map_each(values: list[Any]) -> Mapped:
    """(value as given, concept or None, how, suggestions) for each activity value."""
    out = []
    for text in values:
        if isinstance(text, dict):
            text = text.get("prefLabel") or text.get("@id") or ""
        out.append((text, *map_activity(str(text))))
    return tuple(out)


def _suitability(built: Built, f: dict[str, Any]) -> None:
    gender = f.get("gender")
    if gender is not None:
        key = _NOT_LETTER.sub("", str(gender).casefold().rpartition("/")[2])
        meant = GENDER_WORDS.get(key)
        if meant:
            built.record["genderRestriction"] = f"https://openactive.io/{meant}"
        else:
            built.note("genderRestriction", gender, None, "left out: not male, female or mixed")
    low, high = _number(f.get("age_min")), _number(f.get("age_max"))
    age = f.get("age")
    if age is not None and low is None and high is None:
        text = str(age)
        if m := _AGE_SPAN.match(text):
            low, high = int(m.group(1)), int(m.group(2))
        elif m := _AGE_UNDER.match(text):
            high = int(m.group(1)) - 1
        elif m := _AGE_OVER.match(text):
            low = int(m.group(1))
        else:
            built.note("ageRange", age, None, "left out: not an age range such as 8-16, U18 or 18+")
    if low is not None or high is not None:
        value: dict[str, Any] = {"@type": "QuantitativeValue"}
        if low is not None:
            value["minValue"] = low
        if high is not None:
            value["maxValue"] = high
        built.record["ageRange"] = value


def _number(value: Any) -> int | None:
    try:
        return int(float(value)) if value is not None and str(value).strip() else None
    except ValueError:
        return None


def _places(built: Built, row: SourceRow, club_name: str) -> list[dict[str, Any]]:
    f = row.fields
    raw_places = f.get("locations")
    if not isinstance(raw_places, list):
        flat: dict[str, Any] = {
            k: f[k]
            for k in (
                "street_address",
                "address_lines",
                "locality",
                "region",
                "postcode",
                "country",
                "latitude",
                "longitude",
                "amenities",
                "images",
            )
            if k in f
        }
        if "location_name" in f:
            flat["name"] = f["location_name"]
        raw_places = [flat] if flat else []
    places = []
    for index, raw in enumerate(raw_places):
        label = "location" if len(raw_places) == 1 else f"location[{index}]"
        place = _place(built, raw, club_name, label)
        if place is not None:
            places.append(place)
    return places


def _place(built: Built, raw: dict[str, Any], club_name: str, label: str) -> dict[str, Any] | None:
    lines = _address_lines(raw.get("address_lines", []), club_name)
    if lines and _CARE_OF.match(lines[0]):
        built.note(
            label,
            ", ".join(lines),
            None,
            "left out: a care-of (C/O) address is a contact's address, not where the club meets",
        )
        return None
    address: dict[str, Any] = {"@type": "PostalAddress"}
    street = clean_text(str(raw["street_address"])) if raw.get("street_address") else None
    locality = clean_text(str(raw["locality"])) if raw.get("locality") else None
    region = clean_text(str(raw["region"])) if raw.get("region") else None
    if lines and not street:
        if region is None and len(lines) >= 2 and _is_region(lines[-1]):
            region = lines.pop()
        if locality is None and len(lines) >= 2:
            locality = lines.pop()
        street = ", ".join(lines)
        built.note(
            f"{label}.address",
            raw.get("address_lines"),
            None,
            "address lines split into street, town and county",
        )
    for key, value in (
        ("streetAddress", street),
        ("addressLocality", locality),
        ("addressRegion", region),
    ):
        if value:
            address[key] = title_case_name(value) if value.isupper() else value
    country = _country(built, raw.get("country"), label)
    _postcode(built, raw.get("postcode"), address, country, label)
    if "addressCountry" not in address and country:
        address["addressCountry"] = country
    place: dict[str, Any] = {"@type": "Place"}
    if raw.get("id"):
        place["@id"] = str(raw["id"])
    name = clean_text(str(raw["name"])) if raw.get("name") else None
    place["name"] = title_case_name(name) if name else club_name
    for key in ("description", "url", "telephone"):
        if raw.get(key):
            place[key] = clean_text(str(raw[key]))
    if len(address) > 1:
        place["address"] = address
    geo = _geo(built, raw.get("latitude"), raw.get("longitude"), label)
    if geo:
        place["geo"] = geo
    elif isinstance(address.get("postalCode"), str):
        built.to_geocode.append((place, address["postalCode"]))
    images = [u for u in (clean_url(str(v))[0] for v in raw.get("images") or []) if u]
    if images:
        place["image"] = [{"@type": "ImageObject", "url": u} for u in images]
    amenities = [a for a in (clean_text(str(v)) for v in raw.get("amenities") or []) if a]
    if amenities:
        place["amenityFeature"] = [
            {"@type": "LocationFeatureSpecification", "name": a, "value": True} for a in amenities
        ]
    if len(place) <= 2 and place["name"] == club_name:
        return None  # nothing known about where the club meets
    return place


def _address_lines(values: list[Any], club_name: str) -> list[str]:
    """Free-form address lines, tidied: blanks and placeholders ("n/a") dropped, a first line
    that only repeats the club's name dropped, and a last line "Kendal,  Cumbria" split."""
    lines: list[str] = []
    for value in values:
        if value is not None:
            line = _tidy_line(value if isinstance(value, str) else str(value))
            if line:
                lines.append(line)
    if lines and _squashed(lines[0]) == _dashed(club_name).replace("-", ""):
        lines = lines[1:]
    if lines and "," in lines[-1]:
        lines[-1:] = [p.strip() for p in lines[-1].split(",") if p.strip()]
    return lines


@lru_cache(maxsize=65536)  # streets, towns and counties recur throughout a register
def _tidy_line(value: str) -> str | None:
    """The line cleaned; None when nothing or only a placeholder is left."""
    line = clean_text(value)
    if not line or _PLACEHOLDER.match(line):
        return None
    return line


@lru_cache(maxsize=4096)
def _is_region(text: str) -> bool:
    return is_region(text)


def _country(built: Built, value: Any, label: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("name")
    code = country_code(str(value))
    if code is None:
        built.note(f"{label}.address.addressCountry", value, None, "left out: not a country")
    elif code != value:
        built.note(f"{label}.address.addressCountry", value, code, "ISO 3166-1 alpha-2 code")
    return code


def _postcode(
    built: Built, value: Any, address: dict[str, Any], country: str | None, label: str
) -> None:
    if value is None or not str(value).strip():
        return
    text = str(value)
    where = f"{label}.address.postalCode"
    if country is not None and country not in UK_POSTCODE_COUNTRIES:
        address["postalCode"] = clean_text(text)
        return
    verdict = check_postcode(text)
    if verdict.canonical is None:
        hint = f' (did you mean "{verdict.did_you_mean}"?)' if verdict.did_you_mean else ""
        built.note(where, value, None, f"left out: not a UK postcode: {verdict.reason}{hint}")
        return
    address["postalCode"] = verdict.canonical
    if verdict.canonical != text:
        built.note(where, value, verdict.canonical, "formatted as a UK postcode")
    if country is None:
        address["addressCountry"] = "GB"
        built.note(f"{label}.address.addressCountry", None, "GB", "a UK postcode: country GB")


def _geo(built: Built, lat: Any, lng: Any, label: str) -> dict[str, Any] | None:
    if lat is None and lng is None:
        return None
    try:
        latitude, longitude = float(str(lat)), float(str(lng))
    except ValueError:
        built.note(f"{label}.geo", [lat, lng], None, "left out: not numbers")
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or latitude == longitude == 0:
        built.note(f"{label}.geo", [lat, lng], None, "left out: not a position on Earth")
        return None
    return {"@type": "GeoCoordinates", "latitude": latitude, "longitude": longitude}
