"""The publishing web app: the RPDE club feed, the dataset site, a data catalog and a page
per club (whose address is the club's `@id` when it was imported with this server's
--base-url).

Each store (SQLite or PostgreSQL) holds one connection, so the handlers are `async` and run
on the event loop one at a time; every page is one indexed range query. For concurrency,
`openclubs serve --workers N` runs N processes, each with its own store connection
(openclubs.publish.worker)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from openclubs.publish.downloads import DOWNLOADS, register_downloads
from openclubs.publish.find import register_find
from openclubs.publish.rpde import (
    CACHE_FULL,
    CACHE_LAST,
    RequestError,
    build_page_bytes,
    error_body,
    parse_position,
)
from openclubs.publish.settings import Settings
from openclubs.publish.site import (
    CLUB_SPEC,
    FEED_PATH,
    catalog_jsonld,
    club_view,
    dataset_jsonld,
    render,
    script_json,
)
from openclubs.publish.write_api import register_write_api
from openclubs.store.base import Store
from openclubs.version import __version__
from openclubs.webtools import register_webtools

JSONLD = "application/ld+json"
AFTER_TIMESTAMP = "The `modified` of the last item read (from `next`); integer."
AFTER_ID = "The `id` of the last item read (from `next`)."


def _json(body: Any, status: int = 200, media_type: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type)


def create_app(store: Store, settings: Settings) -> FastAPI:
    app = FastAPI(
        title=settings.dataset_name,
        description="OpenActive club data: an RPDE feed, a dataset site and club pages.",
        version=__version__,
    )
    base, home = settings.base, settings.base + "/"

    @app.exception_handler(RequestError)
    async def request_error(request: Request, error: RequestError) -> Response:
        return _json(error.body(), error.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        response = _json(error_body(error.status_code, str(error.detail)), error.status_code)
        response.headers.update(error.headers or {})
        return response

    @app.get(FEED_PATH, response_class=Response, summary="The RPDE 1.0 feed of clubs")
    async def feed(
        request: Request,
        after_timestamp: Annotated[
            str | None, Query(alias="afterTimestamp", description=AFTER_TIMESTAMP)
        ] = None,
        after_id: Annotated[str | None, Query(alias="afterId", description=AFTER_ID)] = None,
    ) -> Response:
        params = {"afterTimestamp": after_timestamp, "afterId": after_id}
        after, key = parse_position({k: v for k, v in params.items() if v is not None})
        query = request.scope.get("query_string", b"").decode("latin-1")
        own_url = base + FEED_PATH + (f"?{query}" if query else "")
        rows = store.page_raw(after, key, settings.page_size)
        body, last = build_page_bytes(
            rows, own_url, base + FEED_PATH, settings.feed_kind, settings.license
        )
        response = Response(body, media_type="application/json")
        response.headers["Cache-Control"] = CACHE_LAST if last else CACHE_FULL
        return response

    @app.get("/", response_class=HTMLResponse, summary="The dataset site")
    async def dataset_site() -> HTMLResponse:
        counts = store.counts()
        dataset = dataset_jsonld(settings, store.last_modified(), counts.get("updated", 0))
        html = render(
            "dataset.html",
            jsonld=script_json(dataset),
            dataset=dataset,
            counts=counts,
            catalog_url=base + "/catalog.jsonld",
            spec=CLUB_SPEC,
            downloads=[(f"{base}/downloads/{file}", file) for file, _ in DOWNLOADS.values()],
            find_url=base + "/find",
            updated_words=_in_words(dataset.get("dateModified")),
        )
        return HTMLResponse(html)

    @app.get("/catalog.jsonld", response_class=Response, summary="A DataCatalog of this site")
    async def catalog() -> Response:
        return _json(catalog_jsonld(settings), media_type=JSONLD)

    @app.get("/clubs/{key}.json", response_class=Response, summary="A club's JSON-LD")
    async def club_json(key: str) -> Response:
        club = store.get(key)
        if club is None:
            return _json(error_body(404, f"There is no club {key!r}."), 404)
        if club.state != "updated" or club.data is None:
            return _json(error_body(410, f"The club {key!r} has been removed."), 410)
        return _json(club.data, media_type=JSONLD)

    @app.get("/clubs/{key}", response_class=HTMLResponse, summary="A club's page")
    async def club_page(key: str) -> HTMLResponse:
        club = store.get(key)
        if club is None:
            return _error_page(404, "Club not found", f"There is no club {key!r} here.", home)
        if club.state != "updated" or club.data is None:
            message = "This club has been removed from the dataset."
            return _error_page(410, "Club removed", message, home)
        html = render(
            "club.html",
            jsonld=script_json(club.data),
            club=club_view(club.data),
            updated=club.updated_at,
            json_url=f"{base}/clubs/{quote(club.key, safe='')}.json",
            home=home,
        )
        return HTMLResponse(html)

    register_write_api(app, store, settings)
    register_downloads(app, store)
    register_find(app, store, settings)
    register_webtools(app, store, settings)
    return app


def _in_words(stamp: Any) -> str | None:
    """ "23 November 2026 at 22:57 UTC" for an ISO 8601 UTC time stamp."""
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


def _error_page(status: int, title: str, message: str, home: str) -> HTMLResponse:
    html = render("error.html", title=title, message=message, home=home)
    return HTMLResponse(html, status_code=status)
