"""The one query model behind `GET /api/clubs`, `openclubs search` and the /find page.

`parse_query` turns request parameters (every value a string, as a form or a URL gives
them) into a checked `SearchQuery`, or raises `QueryError` listing every bad parameter at
once, each with a message a person can act on (an unknown activity comes with suggestions
from the Activity List; a bad place says whether it is not a postcode, not found, or the
postcode service is unavailable).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from openclubs.search.entries import GENDERS, UNKNOWN_GENDER, words_of
from openclubs.search.place import Locator, Near, PlaceError
from openclubs.vocab import Concept, accessibility_support, activity_list, normalise_label

Sort = Literal["distance", "relevance", "name"]
SORTS: tuple[Sort, ...] = ("distance", "relevance", "name")
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 1000.0
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
GENDER_CHOICES = (*GENDERS, UNKNOWN_GENDER)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A checked search. Empty fields do not filter."""

    activity: Concept | None = None
    activity_ids: frozenset[str] = frozenset()  # the concept and everything narrower
    near: Near | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    age: float | None = None
    genders: tuple[str, ...] = ()
    accessibility: tuple[Concept, ...] = ()
    amenities: tuple[str, ...] = ()  # normalised amenity names
    member_of: str | None = None  # normalised name or id of a governing body
    text: str = ""
    words: tuple[str, ...] = ()
    sort: Sort = "name"
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    echo: dict[str, Any] = field(default_factory=dict, compare=False)

    def features(self) -> list[tuple[str, str]]:
        """The (kind, value) rows of the index's features table a club must all have, in the
        kinds `Entry.features` writes (access / amenity / member)."""
        wanted = [("access", c.id) for c in self.accessibility]
        wanted += [("amenity", a) for a in self.amenities]
        if self.member_of:
            wanted.append(("member", self.member_of))
        return wanted

    def describe(self) -> dict[str, Any]:
        """The query as understood, for the API's answer (so a client sees what matched)."""
        out: dict[str, Any] = {}
        if self.activity is not None:
            out["activity"] = {
                "id": self.activity.id,
                "label": self.activity.pref_label,
                "includes": len(self.activity_ids),
            }
        if self.near is not None:
            out["near"] = {
                "label": self.near.label,
                "kind": self.near.kind,
                "latitude": round(self.near.latitude, 6),
                "longitude": round(self.near.longitude, 6),
            }
            out["radiusKm"] = self.radius_km
        if self.age is not None:
            out["age"] = self.age
        if self.genders:
            out["gender"] = list(self.genders)
        if self.accessibility:
            out["accessibility"] = [c.pref_label for c in self.accessibility]
        if self.amenities:
            out["amenity"] = list(self.echo.get("amenity", self.amenities))
        if self.member_of:
            out["memberOf"] = self.echo.get("memberOf", self.member_of)
        if self.text:
            out["q"] = self.text
        out.update(sort=self.sort, limit=self.limit, offset=self.offset)
        return out


class QueryError(ValueError):
    """Bad parameters: `errors` has one entry per problem ({parameter, value, message,
    and for activities `suggestions`}); `status` is 400, or 503 when only the postcode
    service failed."""

    def __init__(self, errors: Sequence[dict[str, Any]], status: int = 400) -> None:
        self.errors = list(errors)
        self.status = status
        first = self.errors[0]["message"] if self.errors else "bad query"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        self.message = f"{first}{more}"
        super().__init__(self.message)


Params = Mapping[str, Sequence[str]]


def _values(params: Params, name: str) -> list[str]:
    """Every non-empty value of a parameter; commas separate values too."""
    out: list[str] = []
    for raw in params.get(name, ()):
        out.extend(part.strip() for part in raw.split(",") if part.strip())
    return out


def _one(params: Params, name: str) -> str:
    values = [v.strip() for v in params.get(name, ()) if v.strip()]
    return values[-1] if values else ""


def activity_suggestions(text: str, limit: int = 5) -> list[dict[str, str]]:
    return [
        {"id": s.concept.id, "label": s.concept.pref_label, "matched": s.matched}
        for s in activity_list().suggest(text, limit)
    ]


def find_activity(text: str) -> Concept | None:
    """An Activity List concept by id, bare UUID, preferred label, other label or synonym."""
    scheme = activity_list()
    typed = text.strip()
    return scheme.find(typed) or scheme.get(f"{scheme.id}#{typed.lower()}")


def parse_query(params: Params, locator: Locator | None) -> SearchQuery:
    """A checked `SearchQuery` from request parameters (see the API's documentation for
    their meaning); raises QueryError listing every problem."""
    errors: list[dict[str, Any]] = []
    unavailable = False

    def bad(parameter: str, value: str, message: str, **extra: Any) -> None:
        errors.append({"parameter": parameter, "value": value, "message": message, **extra})

    activity: Concept | None = None
    activity_ids: frozenset[str] = frozenset()
    if text := _one(params, "activity"):
        activity = find_activity(text)
        if activity is None:
            suggestions = activity_suggestions(text)
            hint = ", ".join(s["label"] for s in suggestions)
            bad(
                "activity",
                text,
                f"{text!r} is not an activity in the OpenActive Activity List"
                + (f"; did you mean: {hint}?" if hint else ""),
                suggestions=suggestions,
            )
        else:
            activity_ids = frozenset({activity.id} | activity_list().narrower_ids(activity.id))

    near: Near | None = None
    if place := _one(params, "near"):
        if locator is None:
            bad("near", place, "searching by place is not available here")
        else:
            try:
                near = locator.locate(place)
            except PlaceError as error:
                unavailable = unavailable or error.problem == "unavailable"
                bad("near", place, error.message, problem=error.problem)

    radius = DEFAULT_RADIUS_KM
    if text := _one(params, "radius"):
        number = _float(text)
        if number is None or not (0 < number <= MAX_RADIUS_KM):
            bad(
                "radius", text, f"radius is a distance in km, above 0 and at most {MAX_RADIUS_KM:g}"
            )
        else:
            radius = number

    age: float | None = None
    if text := _one(params, "age"):
        number = _float(text)
        if number is None or not (0 <= number <= 120):
            bad("age", text, "age is a number of years, 0 to 120")
        else:
            age = number

    genders: list[str] = []
    for text in _values(params, "gender"):
        match = next((g for g in GENDER_CHOICES if normalise_label(g) == normalise_label(text)), "")
        if not match:
            bad("gender", text, f"gender is one of {', '.join(GENDER_CHOICES)}")
        elif match not in genders:
            genders.append(match)

    access: list[Concept] = []
    for text in _values(params, "accessibility"):
        concept = accessibility_support().find(text)
        if concept is None:
            known = ", ".join(c.pref_label for c in accessibility_support())
            bad("accessibility", text, f"accessibility is one of: {known}")
        elif concept not in access:
            access.append(concept)

    amenity_texts = _values(params, "amenity")
    amenities = tuple(dict.fromkeys(normalise_label(a) for a in amenity_texts))
    member_text = _one(params, "memberOf")
    text_query = " ".join(_one(params, "q").split())
    words = tuple(dict.fromkeys(words_of(text_query).split()))
    if text_query and not words:
        bad("q", text_query, "the text to search for has no letters or digits")

    sort_text = _one(params, "sort")
    sort: Sort = "relevance" if words and near is None else "distance" if near else "name"
    if sort_text:
        chosen = next((s for s in SORTS if s == sort_text.lower()), None)
        if chosen is None:
            bad("sort", sort_text, f"sort is one of {', '.join(SORTS)}")
        elif chosen == "distance" and near is None:
            bad("sort", sort_text, "sorting by distance needs a place (near)")
        elif chosen == "relevance" and not words:
            bad("sort", sort_text, "sorting by relevance needs text to search for (q)")
        else:
            sort = chosen

    limit = _int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, bad)
    offset = _int(params, "offset", 0, 0, 10**6, bad)
    if errors:
        only_service = unavailable and all(e.get("problem") == "unavailable" for e in errors)
        raise QueryError(errors, 503 if only_service else 400)
    return SearchQuery(
        activity=activity,
        activity_ids=activity_ids,
        near=near,
        radius_km=radius,
        age=age,
        genders=tuple(genders),
        accessibility=tuple(access),
        amenities=amenities,
        member_of=normalise_label(member_text) if member_text else None,
        text=text_query,
        words=words,
        sort=sort,
        limit=limit,
        offset=offset,
        echo={"amenity": amenity_texts, "memberOf": member_text},
    )


def _float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _int(params: Params, name: str, default: int, low: int, high: int, bad: Any) -> int:
    text = _one(params, name)
    if not text:
        return default
    try:
        number = int(text)
    except ValueError:
        number = low - 1
    if not (low <= number <= high):
        bad(name, text, f"{name} is a whole number from {low} to {high}")
        return default
    return number
