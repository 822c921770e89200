"""The dataset site's and catalog's JSON-LD, the club page's view of a record, and HTML
rendering (Jinja2, everything escaped)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from openclubs.publish.settings import Settings

FEED_PATH = "/feeds/organizations"
RPDE_FORMAT = "application/vnd.openactive.rpde+json; version=1"
CLUB_SPEC = "https://openactive-contrib.github.io/club-specification/0.2/"
KEYWORDS = ["Sports clubs", "Clubs", "Sport", "Physical activity", "OpenActive"]
_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+\Z")
_PHONE = re.compile(r"\+?[0-9 ()-]{6,}\Z")


def dataset_jsonld(
    settings: Settings, date_modified: str | None, total: int | None = None
) -> dict[str, Any]:
    """The Dataset the site describes (OpenActive Dataset API Discovery / DevDocs)."""
    site = settings.base + "/"
    publisher: dict[str, Any] = {"@type": "Organization", "name": settings.publisher_name}
    if settings.publisher_url:
        publisher["url"] = settings.publisher_url
    download: dict[str, Any] = {
        "@type": "DataDownload",
        "name": settings.feed_kind,
        "additionalType": settings.dataset_type,
        "encodingFormat": RPDE_FORMAT,
        "contentUrl": settings.base + FEED_PATH,
    }
    if total is not None:
        download["totalItems"] = total
    dataset: dict[str, Any] = {
        "@context": ["https://schema.org/", "https://openactive.io/"],
        "@type": "Dataset",
        "@id": site,
        "url": site,
        "name": settings.dataset_name,
        "description": settings.dataset_description,
        "keywords": KEYWORDS,
        "inLanguage": ["en-GB"],
        "license": settings.license,
        "publisher": publisher,
        "schemaVersion": CLUB_SPEC,
        "documentation": settings.documentation_url,
        "distribution": [download],
    }
    if date_modified:
        dataset["dateModified"] = date_modified
    if settings.discussion_url:
        dataset["discussionUrl"] = settings.discussion_url
    return dataset


def catalog_jsonld(settings: Settings) -> dict[str, Any]:
    """A schema.org DataCatalog listing this dataset site (its `dataset` entry equals the
    Dataset's @id exactly)."""
    publisher: dict[str, Any] = {"@type": "Organization", "name": settings.publisher_name}
    if settings.publisher_url:
        publisher["url"] = settings.publisher_url
    return {
        "@context": "https://schema.org/",
        "@type": "DataCatalog",
        "@id": settings.base + "/catalog.jsonld",
        "name": f"{settings.publisher_name}: data catalog",
        "license": settings.license,
        "publisher": publisher,
        "dataset": [settings.base + "/"],
    }


def script_json(data: Any) -> Markup:
    """JSON for a <script type="application/ld+json"> block: `</` written `<\\/` and `<!--`
    written `<\\u0021--` (both only occur inside JSON strings, where they mean the same)."""
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
    return Markup(text.replace("</", "<\\/").replace("<!--", "<\\u0021--"))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _web(value: Any) -> str | None:
    """A URL safe to link to (http or https only, never javascript: and the like)."""
    text = _text(value)
    return text if text.lower().startswith(("http://", "https://")) else None


def club_view(data: dict[str, Any]) -> dict[str, Any]:
    """What the club page shows, taken defensively from a JSON-LD record."""
    activities = [
        _text(a.get("prefLabel")) if isinstance(a, dict) else _text(a)
        for a in _list(data.get("activity"))
    ]
    places = []
    for place in _list(data.get("location")):
        if not isinstance(place, dict):
            continue
        address = place.get("address")
        lines = [_text(address)] if isinstance(address, str) else []
        if isinstance(address, dict):
            keys = ("streetAddress", "addressLocality", "addressRegion", "postalCode")
            lines = [_text(address.get(k)) for k in keys]
        geo, map_url = place.get("geo"), None
        if isinstance(geo, dict):
            lat, lon = geo.get("latitude"), geo.get("longitude")
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
                map_url = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
        places.append(
            {"name": _text(place.get("name")), "lines": [x for x in lines if x], "map": map_url}
        )
    contacts: list[tuple[str, str, str]] = []  # (label, href, text)
    if website := _web(data.get("url")):
        contacts.append(("Website", website, website))
    for link in _list(data.get("sameAs")):
        if href := _web(link):
            contacts.append(("Also at", href, href))
    for email in _list(data.get("email")):
        if _EMAIL.match(_text(email)):
            contacts.append(("Email", "mailto:" + _text(email), _text(email)))
    for phone in _list(data.get("telephone")):
        if _PHONE.match(_text(phone)):
            href = "tel:" + re.sub(r"[^0-9+]", "", _text(phone))
            contacts.append(("Telephone", href, _text(phone)))
    return {
        "name": _text(data.get("name")) or "Unnamed club",
        "description": _text(data.get("description")),
        "activities": [a for a in activities if a],
        "places": places,
        "contacts": contacts,
    }


@cache
def templates() -> Environment:
    folder = Path(__file__).resolve().parent / "templates"
    return Environment(loader=FileSystemLoader(folder), autoescape=True, undefined=StrictUndefined)


def render(name: str, **context: Any) -> str:
    return templates().get_template(name).render(**context)
