"""Finding clubs on the web: `GET /api/clubs` (search), `GET /api/activities` (activity
autocomplete) and the /find page, all on the one query model of openclubs.search.

The /find page is a plain GET form whose results are rendered on the server, so the list
works without JavaScript; /static/find.js then adds activity suggestions, a "use my
position" button and a Leaflet map (served from the npm install in web/node_modules, and
left out when it is not installed). Everything shown is escaped by Jinja2, and the map's
data reaches the script as JSON in a non-executable script element.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from openclubs.publish.rpde import error_body
from openclubs.publish.settings import Settings
from openclubs.publish.site import render
from openclubs.search.engine import Search, SearchResult
from openclubs.search.entries import GENDERS
from openclubs.search.place import Locator, make_locator
from openclubs.search.query import (
    DEFAULT_LIMIT,
    DEFAULT_RADIUS_KM,
    MAX_LIMIT,
    QueryError,
    SearchQuery,
    parse_query,
)
from openclubs.search.render import (
    GENDER_TEXT,
    age_text,
    item_json,
    nearest_place,
    result_json,
)
from openclubs.store.base import Store
from openclubs.vocab import accessibility_support, activity_list, normalise_label

STATIC = Path(__file__).resolve().parent / "static"
REPO_WEB = Path(__file__).resolve().parents[3] / "web"
LEAFLET_PATH = "/static/vendor/leaflet"
RADII_KM = (1, 2, 5, 10, 25, 50, 100)
AMENITIES = ("Changing Facilities", "Showers", "Toilets", "Parking", "Lockers", "Bike Shed")
QUERY_PARAMETERS = (
    "activity",
    "q",
    "near",
    "radius",
    "age",
    "gender",
    "accessibility",
    "amenity",
    "memberOf",
    "sort",
    "limit",
    "offset",
)
# The parameters with a field (id "f-NAME") on the form, which an error summary links to;
# asking for any of them is what makes the page search.
FIELDS = frozenset(QUERY_PARAMETERS) - {"sort", "limit", "offset"}


# The project's one JSON error shape (openclubs.publish.rpde.error_body), as OpenAPI shows it.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "error", "errors", "status"],
    "properties": {
        "ok": {"const": False},
        "error": {"type": "string", "description": "The first problem, in words."},
        "status": {"type": "integer", "description": "The HTTP status again."},
        "errors": {
            "type": "array",
            "description": "One entry per bad parameter.",
            "items": {
                "type": "object",
                "required": ["parameter", "value", "message"],
                "properties": {
                    "parameter": {"type": "string"},
                    "value": {"type": "string", "description": "The value as it was sent."},
                    "message": {"type": "string", "description": "What is wrong, and what to do."},
                    "problem": {
                        "enum": ["not_a_place", "not_found", "unavailable"],
                        "description": "For `near`: not a postcode, a postcode nobody can "
                        "place, or the postcode service could not be asked.",
                    },
                    "suggestions": {
                        "type": "array",
                        "description": "For an unknown `activity`: close Activity List concepts.",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "label": {"type": "string"},
                                "matched": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}


CLUBS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The clubs found: `items` (a page, nearest or most relevant first), "
        "`total` (with `totalExact` false it is a lower bound: counting stops after 200 "
        "clubs, and for a place search `countedWithinKm` says the circle counted), "
        "`nearestAnyway`, `facets` (`activity`, `distance`), `query` (the search as "
        "understood) and `next` (the next page's URL, or null).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    400: _error_response("Bad parameters, every one listed in `errors`."),
    503: _error_response("The postcode service could not be asked; try again later."),
    "default": _error_response("Any other error, in the same shape."),
}
ACTIVITIES_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`items`: {id, label, matched} for each concept, best first; "
        "`matched` is the label or synonym that matched what was typed.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    400: _error_response("A bad `limit`."),
    "default": _error_response("Any other error, in the same shape."),
}


def leaflet_dir(settings: Settings) -> Path | None:
    """web/node_modules/leaflet/dist under the `web_dir` setting or the repository's web/;
    None when Leaflet is not installed (the page then shows the list alone)."""
    web = Path(settings.web_dir).expanduser() if settings.web_dir else REPO_WEB
    folder = web / "node_modules" / "leaflet" / "dist"
    return folder if (folder / "leaflet.js").is_file() else None


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def activity_options(text: str, limit: int = 10) -> list[dict[str, str]]:
    """Autocomplete: labels that start with what was typed first (preferred labels before
    other labels and synonyms), then words inside labels, then similar spellings."""
    key = normalise_label(text)
    if not key:
        return []
    scheme = activity_list()
    ranked: dict[str, tuple[int, str, str]] = {}  # concept id -> (rank, label, matched)

    def offer(concept_id: str, rank: int, matched: str) -> None:
        concept = scheme.concepts[concept_id]
        best = ranked.get(concept_id)
        if best is None or rank < best[0]:
            ranked[concept_id] = (rank, concept.pref_label, matched)

    lowered = text.strip().casefold()
    for concept in scheme:
        labels = [(concept.pref_label, 0), *((alt, 1) for alt in concept.alt_labels)]
        for label, rank in labels:
            if normalise_label(label).startswith(key):
                offer(concept.id, rank, label)
            elif any(w.startswith(lowered) for w in label.casefold().split()[1:]):
                offer(concept.id, 2 + rank, label)
    for synonym in scheme.synonyms:
        meant = scheme.find(synonym)
        if meant is not None and normalise_label(synonym).startswith(key):
            offer(meant.id, 1, synonym)
    if len(ranked) < limit:
        for suggestion in scheme.suggest(text, limit):
            offer(suggestion.concept.id, 4, suggestion.matched)
    ordered = sorted(ranked.items(), key=lambda kv: (kv[1][0], kv[1][1].casefold()))
    return [
        {"id": cid, "label": label, "matched": matched}
        for cid, (_, label, matched) in ordered[:limit]
    ]


def register_find(app: FastAPI, store: Store, settings: Settings) -> None:
    """The search API and the /find page on `app`."""
    search = Search(store)
    locator: Locator = make_locator(settings.postcode_lookup)
    base = settings.base
    leaflet = leaflet_dir(settings)
    if leaflet is not None:
        app.mount(LEAFLET_PATH, StaticFiles(directory=leaflet), name="leaflet")
    app.mount("/static/find", StaticFiles(directory=STATIC), name="find-static")

    @app.get(
        "/api/clubs", response_class=Response, summary="Search clubs", responses=CLUBS_RESPONSES
    )
    async def api_clubs(
        activity: Annotated[
            str | None,
            Query(
                description="An Activity List id, label or synonym; matches that activity and "
                "every narrower one (Martial Arts finds Judo). Unknown: 400 with suggestions."
            ),
        ] = None,
        q: Annotated[
            str | None,
            Query(description="Words in a club's name, other names or description."),
        ] = None,
        near: Annotated[
            str | None,
            Query(
                description="A UK postcode in any case and spacing ('se10 0bw'), a postcode "
                "district ('SE10') or 'latitude,longitude'. 400 when it is not a postcode or "
                "not found (`errors[].problem` says which), 503 when the postcode service is "
                "unavailable."
            ),
        ] = None,
        radius: Annotated[
            str | None, Query(description="Kilometres from `near` (default 10, at most 1000).")
        ] = None,
        age: Annotated[
            str | None,
            Query(
                description="An age in years: clubs whose ageRange includes it (clubs that "
                "do not state an age range are left out)."
            ),
        ] = None,
        gender: Annotated[
            list[str] | None,
            Query(
                description="genderRestriction: FemaleOnly, MaleOnly, NoRestriction or "
                "Unknown (clubs that do not say); repeat or separate with commas."
            ),
        ] = None,
        accessibility: Annotated[
            list[str] | None,
            Query(description="Accessibility Support concepts (id or label), all required."),
        ] = None,
        amenity: Annotated[
            list[str] | None,
            Query(description="Amenities a club's place has (Showers, Parking), all required."),
        ] = None,
        member_of: Annotated[
            str | None,
            Query(
                alias="memberOf",
                description="A governing body's name or id: clubs that say they are a member "
                "of it (case and spacing ignored).",
            ),
        ] = None,
        sort: Annotated[
            str | None,
            Query(
                description="distance (default with `near`), relevance (default with `q` "
                "alone) or name."
            ),
        ] = None,
        limit: Annotated[
            str | None, Query(description="Results per page, 1-100 (default 20).")
        ] = None,
        offset: Annotated[
            str | None,
            Query(description="Results to skip, for paging (default 0); `next` has it set."),
        ] = None,
    ) -> Response:
        """Search clubs by activity, place and suitability. Results carry their distance
        (to the nearest of a club's places); when nothing is within the radius, the nearest
        clubs beyond it come back marked `beyondRadius` with `nearestAnyway` true. Facets
        count the results by activity and by distance band."""
        given = {
            "activity": activity,
            "q": q,
            "near": near,
            "radius": radius,
            "age": age,
            "gender": gender,
            "accessibility": accessibility,
            "amenity": amenity,
            "memberOf": member_of,
            "sort": sort,
            "limit": limit,
            "offset": offset,
        }
        params = _params(given)
        try:
            # in a worker thread: a postcode look-up waits on the network, and must not
            # hold up every other request the server is answering meanwhile
            query = await run_in_threadpool(parse_query, params, locator)
        except QueryError as error:
            return _json(error_body(error.status, error.message, error.errors), error.status)
        found = search.search(query)
        body = result_json(found, base)
        following = query.offset + query.limit
        body["next"] = (
            f"{base}/api/clubs?{_encode(params, offset=following)}"
            if following < found.total or (not found.total_exact and found.results)
            else None
        )
        return _json(body)

    @app.get(
        "/api/activities",
        response_class=Response,
        summary="Activity autocomplete",
        responses=ACTIVITIES_RESPONSES,
    )
    async def api_activities(
        q: Annotated[str, Query(description="What has been typed so far.")] = "",
        limit: Annotated[str, Query(description="At most this many (1-50).")] = "10",
    ) -> Response:
        """Activity List concepts for what has been typed: labels starting with it first,
        then labels containing it, then similar spellings; openclubs' synonyms included."""
        if not limit.isdigit() or not 1 <= int(limit) <= 50:
            problem = {"parameter": "limit", "value": limit, "message": "limit is 1 to 50"}
            return _json(error_body(400, "limit is 1 to 50", [problem]), 400)
        return _json({"ok": True, "q": q, "items": activity_options(q, int(limit))})

    @app.get("/find", response_class=HTMLResponse, summary="Find a club (web page)")
    async def find_page(request: Request) -> HTMLResponse:
        raw = request.query_params
        params: dict[str, list[str]] = {
            name: raw.getlist(name) for name in QUERY_PARAMETERS if raw.getlist(name)
        }
        page = _page_number(raw.get("page", ""))
        size = _page_size(raw.get("limit", ""))
        params["limit"] = [str(size)]
        params["offset"] = [str((page - 1) * size)]
        asked = any(raw.get(n, "").strip() for n in FIELDS)
        found: SearchResult | None = None
        errors: list[dict[str, Any]] = []
        status = 200
        if asked:
            try:
                query = await run_in_threadpool(parse_query, params, locator)
                found = search.search(query)
            except QueryError as error:
                errors, status = error.errors, error.status
        html = render(
            "find.html",
            form=_form(raw),
            errors={e["parameter"]: e for e in errors},
            error_list=errors,
            found=found,
            results=_results(found, base) if found else [],
            markers=_data_json(_markers(found) if found else []),
            pages=_pages(found, raw, page) if found else {},
            facet_links=_facet_links(found, raw) if found else {},
            count_text=_count_text(found) if found else "",
            fields=FIELDS,
            suggestion_links=_suggestion_links(errors, raw),
            radii=RADII_KM,
            genders=[(g, GENDER_TEXT[g]) for g in GENDERS],
            access_options=[c.pref_label for c in accessibility_support()],
            amenity_options=AMENITIES,
            leaflet=LEAFLET_PATH if leaflet is not None else None,
            static="/static/find",
            tiles=settings.map_tiles,
        )
        return HTMLResponse(html, status_code=status)


def _data_json(data: Any) -> Markup:
    """JSON for a <script type="application/json"> block, with <, > and & written as
    \\u escapes: the block can then never end early or open a comment, whatever the data."""
    text = orjson.dumps(data).decode()
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return Markup(text)


def _params(given: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in given.items():
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        out[name] = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    return out


def _encode(params: dict[str, list[str]], **override: Any) -> str:
    pairs = [(k, v) for k, values in params.items() if k not in override for v in values]
    pairs += [(k, str(v)) for k, v in override.items()]
    return urlencode(pairs)


def _page_size(text: str) -> int:
    """Clubs a page of /find shows: `limit` when it is a whole number from 1 to 100 (the
    API's bounds), else the default."""
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_LIMIT else DEFAULT_LIMIT


def _page_number(text: str) -> int:
    try:
        return max(1, min(int(text), 10_000))
    except ValueError:
        return 1


def _form(raw: Any) -> dict[str, Any]:
    return {
        "activity": raw.get("activity", ""),
        "q": raw.get("q", ""),
        "near": raw.get("near", ""),
        "radius": raw.get("radius", "") or f"{DEFAULT_RADIUS_KM:g}",
        "age": raw.get("age", ""),
        "gender": raw.getlist("gender"),
        "accessibility": raw.getlist("accessibility"),
        "amenity": raw.getlist("amenity"),
        "memberOf": raw.get("memberOf", ""),
    }


def _results(found: SearchResult, base: str) -> list[dict[str, Any]]:
    out = []
    for result in found.results:
        item = item_json(result, found.query.near, base)
        item["page"] = f"/clubs/{quote(result.key, safe='')}"
        item["age_text"] = age_text(item["ageRange"])
        item["gender_text"] = GENDER_TEXT.get(item["genderRestriction"] or "", "not stated")
        item["contacts"] = _contacts(item)
        out.append(item)
    return out


def _contacts(item: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, href, text) for each way to get in touch; only http(s) links are linked."""
    out: list[tuple[str, str, str]] = []
    url = item.get("url") or ""
    if url.lower().startswith(("http://", "https://")):
        out.append(("Website", url, url))
    for email in item.get("email", []):
        if "@" in email and " " not in email and ":" not in email:
            out.append(("Email", "mailto:" + email, email))
    for phone in item.get("telephone", []):
        digits = "".join(c for c in phone if c.isdigit() or c == "+")
        if len(digits) >= 6:
            out.append(("Telephone", "tel:" + digits, phone))
    return out


def _markers(found: SearchResult) -> list[dict[str, Any]]:
    markers = []
    query: SearchQuery = found.query
    for number, result in enumerate(found.results, start=1):
        place = nearest_place(result, query.near)
        if place and place.get("latitude") is not None:
            markers.append(
                {
                    "n": number,
                    "name": result.summary.get("name", ""),
                    "page": f"/clubs/{quote(result.key, safe='')}",
                    "lat": place["latitude"],
                    "lng": place["longitude"],
                    "km": None if result.distance_km is None else round(result.distance_km, 1),
                }
            )
    if query.near is not None:
        markers.append(
            {
                "centre": True,
                "lat": query.near.latitude,
                "lng": query.near.longitude,
                "km": query.radius_km,
                "name": query.near.label,
            }
        )
    return markers


def _count_text(found: SearchResult) -> str:
    """ "1 club found", "at least 200 clubs found": the page's title and results heading, so
    that a screen reader announces the outcome when focus moves to it after a search."""
    if found.nearest_anyway:
        return f"No clubs within {found.query.radius_km:g} km; the {found.total} nearest are shown"
    plural = "" if found.total == 1 else "s"
    lower = "" if found.total_exact else "At least "
    return f"{lower}{found.total} club{plural} found"


def _narrowed(raw: Any, name: str, value: str) -> str:
    """A /find link with every filter of this search kept and `name` set to `value`, from
    the first page (a narrower search has fewer pages)."""
    skip = {name, "offset"}
    keep = [(k, v) for k, v in raw.multi_items() if k in QUERY_PARAMETERS and k not in skip]
    return "/find?" + urlencode([*keep, (name, value)])


def _facet_links(found: SearchResult, raw: Any) -> dict[str, dict[str, str]]:
    """For each facet, the link that narrows this search to it: the activity or the
    distance changes, and the age, gender, accessibility and other filters stay."""
    return {
        "activity": {f.value: _narrowed(raw, "activity", f.label) for f in found.activity_facets},
        "distance": {f.value: _narrowed(raw, "radius", f.value) for f in found.distance_facets},
    }


def _suggestion_links(errors: list[dict[str, Any]], raw: Any) -> dict[str, str]:
    """For an unknown activity's suggestions, the same search with the suggestion instead."""
    return {
        s["id"]: _narrowed(raw, "activity", s["label"])
        for error in errors
        for s in error.get("suggestions", ())
    }


def _pages(found: SearchResult, raw: Any, page: int) -> dict[str, str | None]:
    keep = [(k, v) for k, v in raw.multi_items() if k in QUERY_PARAMETERS and k != "offset"]
    last = max(1, -(-found.total // found.query.limit))
    more = not found.total_exact  # a lower bound: there are more pages than counted

    def link(number: int) -> str:
        return "/find?" + urlencode([*keep, ("page", str(number))])

    return {
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < last or more else None,
        "label": f"Page {page} of {last}" if found.total_exact else f"Page {page} of {last}+",
    }
