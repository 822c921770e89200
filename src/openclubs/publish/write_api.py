"""The token-protected write API: POST, PUT and DELETE /api/clubs.

Every record is validated before anything is written; one with failures is refused with the
validator's report (422), and a write is one store transaction, so nothing is half-written.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from openclubs.publish.rpde import error_body
from openclubs.publish.settings import Settings
from openclubs.store.base import Store
from openclubs.store.sqlite import club_key
from openclubs.validate.engine import check_record
from openclubs.webtools.limits import (
    SIGNIN_FAILURES,
    SIGNIN_WINDOW,
    WindowLimiter,
    client_key,
    in_minutes,
    retry_after_header,
)

API_PATH = "/api/clubs"


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def register_write_api(app: FastAPI, store: Store, settings: Settings) -> None:
    """Add the write API. Wrong bearer tokens are counted per address, as the moderators'
    sign-in counts them (`app.state.write_token_failures`): after SIGNIN_FAILURES in
    SIGNIN_WINDOW seconds the address gets 429 without its token being compared."""
    app.state.write_token_failures = WindowLimiter(SIGNIN_FAILURES, SIGNIN_WINDOW)

    def refused(request: Request) -> Response | None:
        if not settings.write_token:
            return _json(
                error_body(403, "The write API is off: the server has no write_token."), 403
            )
        failures: WindowLimiter = request.app.state.write_token_failures
        key = client_key(request)
        wait = failures.retry_after(key)
        if wait > 0:
            return locked(wait)
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        expected = settings.write_token.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected):
            if scheme.lower() == "bearer":  # a guess; no header at all is not one
                wait = failures.hit(key)
                if wait > 0:  # that was the last guess allowed, as /admin counts them
                    return locked(wait)
            return _json(
                error_body(401, "A valid 'Authorization: Bearer TOKEN' is required."),
                401,
                {"WWW-Authenticate": "Bearer"},
            )
        failures.clear(key)
        return None

    def locked(wait: float) -> Response:
        return _json(
            error_body(
                429, f"Too many wrong tokens from your address; try again in {in_minutes(wait)}."
            ),
            429,
            {"Retry-After": retry_after_header(wait)},
        )

    async def record_of(request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        try:
            record = orjson.loads(await request.body())
        except orjson.JSONDecodeError as err:
            return None, _json(error_body(400, f"The body is not JSON: {err}"), 400)
        if not isinstance(record, dict):
            return None, _json(
                error_body(400, "The body must be one club record (an object)."), 400
            )
        if not isinstance(record.get("@id"), str):
            return None, _json(error_body(422, 'The record needs an "@id" (its URL).'), 422)
        return record, None

    def write(record: dict[str, Any], method: str) -> Response | None:
        issues = [i.to_dict() for i in check_record(record)]
        failures = [i for i in issues if i["severity"] == "failure"]
        if failures:
            message = f"The record has {len(failures)} failures; nothing was written."
            return _json(error_body(422, message, failures), 422)
        provenance = {"api": method, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        store.upsert([(record, provenance, issues)], "api")
        return None

    @app.post(API_PATH, summary="Add a club (validated; token required)")
    async def create(request: Request) -> Response:
        record, problem = (None, refused(request))
        if problem is None:
            record, problem = await record_of(request)
        if problem is not None or record is None:
            return problem or _json(error_body(400, "No record."), 400)
        key = club_key(record["@id"])
        existing = store.get(key)
        if existing is not None and existing.state == "updated":
            return _json(error_body(409, f"Club {key!r} exists: use PUT {API_PATH}/{key}."), 409)
        problem = write(record, "POST")
        if problem is not None:
            return problem
        location = f"{settings.base}/clubs/{quote(key, safe='')}"
        return _json({"ok": True, "key": key, "@id": record["@id"]}, 201, {"Location": location})

    @app.put(API_PATH + "/{key}", summary="Replace a club (validated; token required)")
    async def replace(key: str, request: Request) -> Response:
        record, problem = (None, refused(request))
        if problem is None:
            record, problem = await record_of(request)
        if problem is not None or record is None:
            return problem or _json(error_body(400, "No record."), 400)
        existing = store.get(key)
        if existing is not None and existing.id != record["@id"]:
            message = f"Club {key!r} has the @id {existing.id}; a PUT cannot change it."
            return _json(error_body(422, message), 422)
        if existing is None and club_key(record["@id"]) != key:
            message = f"The record's @id does not belong at {API_PATH}/{key}."
            return _json(error_body(422, message), 422)
        existed = existing is not None and existing.state == "updated"
        problem = write(record, "PUT")
        if problem is not None:
            return problem
        return _json({"ok": True, "key": key, "@id": record["@id"]}, 200 if existed else 201)

    @app.delete(API_PATH + "/{key}", summary="Remove a club (a deletion in the feed)")
    async def remove(key: str, request: Request) -> Response:
        problem = refused(request)
        if problem is not None:
            return problem
        if not store.delete(key):
            return _json(error_body(404, f"There is no club {key!r}."), 404)
        return Response(status_code=204)
