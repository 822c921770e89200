"""Where the vocabularies come from: the snapshot shipped in the package, or a newer copy in
the user's cache written by ``openclubs activities refresh`` (the cached copy wins)."""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

import orjson

from openclubs.vocab.concepts import ConceptScheme
from openclubs.vocab.synonyms import ACTIVITY_SYNONYMS

ACTIVITY_LIST_FILE = "activity-list.jsonld"
ACCESSIBILITY_FILE = "accessibility-support.jsonld"
FACILITY_ATTRIBUTE_FILE = "facility-attribute-list.jsonld"
PLACE_TYPES_FILE = "place-types.jsonld"
ACTIVITY_LIST_URL = "https://openactive.io/activity-list/activity-list.jsonld"
SNAPSHOT_DATE = "2026-11-22"
ATTRIBUTION = (
    "The OpenActive Activity List, Accessibility Support list, Facility Attribute List and "
    "Place Type list are published by OpenActive (https://openactive.io/) under the Creative "
    "Commons Attribution 4.0 licence (https://creativecommons.org/licenses/by/4.0/). openclubs "
    f"ships unmodified snapshots taken on {SNAPSHOT_DATE}; its own activity synonyms (such as "
    '"Soccer" for Football) are additions, not part of the official list.'
)


def cache_dir() -> Path:
    """The user cache: $OPENCLUBS_CACHE_DIR, else $XDG_CACHE_HOME/openclubs, else ~/.cache."""
    explicit = os.environ.get("OPENCLUBS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openclubs"


def cached_vocab_path(filename: str) -> Path:
    return cache_dir() / "vocab" / filename


def bundled_text(filename: str) -> bytes:
    return resources.files("openclubs.vocab").joinpath("data", filename).read_bytes()


def _load(filename: str, synonyms: dict[str, str] | None = None) -> ConceptScheme:
    cached = cached_vocab_path(filename)
    if cached.is_file():
        try:
            doc = orjson.loads(cached.read_bytes())
            return ConceptScheme.from_jsonld(doc, f"cache {cached}", synonyms)
        except (OSError, ValueError):
            pass  # a damaged cache never hides the bundled snapshot
    doc = orjson.loads(bundled_text(filename))
    return ConceptScheme.from_jsonld(doc, f"bundled snapshot of {SNAPSHOT_DATE}", synonyms)


@cache
def activity_list() -> ConceptScheme:
    """The OpenActive Activity List (with openclubs' synonyms)."""
    return _load(ACTIVITY_LIST_FILE, ACTIVITY_SYNONYMS)


@cache
def accessibility_support() -> ConceptScheme:
    return _load(ACCESSIBILITY_FILE)


@cache
def facility_attributes() -> ConceptScheme:
    return _load(FACILITY_ATTRIBUTE_FILE)


@cache
def place_types() -> ConceptScheme:
    return _load(PLACE_TYPES_FILE)


def reset_caches() -> None:
    """Forget the loaded schemes, so that the next look-up reads the files again."""
    for loader in (activity_list, accessibility_support, facility_attributes, place_types):
        loader.cache_clear()
