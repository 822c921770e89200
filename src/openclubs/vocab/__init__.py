"""The OpenActive vocabularies: the Activity List and its look-ups."""

from openclubs.vocab.concepts import (
    OA_ACTIVITY_LIST,
    Concept,
    ConceptScheme,
    Suggestion,
    normalise_label,
)
from openclubs.vocab.store import (
    ACTIVITY_LIST_URL,
    ATTRIBUTION,
    accessibility_support,
    activity_list,
    cache_dir,
    facility_attributes,
    place_types,
    reset_caches,
)

__all__ = [
    "ACTIVITY_LIST_URL",
    "ATTRIBUTION",
    "OA_ACTIVITY_LIST",
    "Concept",
    "ConceptScheme",
    "Suggestion",
    "accessibility_support",
    "activity_list",
    "cache_dir",
    "facility_attributes",
    "normalise_label",
    "place_types",
    "reset_caches",
]
