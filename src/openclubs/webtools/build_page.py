"""/build: a form for one club that shows its JSON-LD snippet and what is still missing.

The page works without JavaScript (each button posts the form and the snippet is rendered
here); with it, static/webtools/build.js updates the snippet as the user types and asks the
helpers under /webtools/ to check it, look up postcodes and read a pasted snippet. Nothing
is kept unless the user submits the club and the server accepts submissions.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from openclubs.normalise.geocode import (
    Geocoder,
    GeocoderSetupError,
    GeoResult,
    PostcodesIoGeocoder,
    make_geocoder,
)
from openclubs.publish.rpde import error_body
from openclubs.publish.settings import Settings
from openclubs.store.base import Store
from openclubs.validate.engine import validate
from openclubs.webtools.forms import FormTooLarge, read_body, read_form
from openclubs.webtools.report_view import report_view
from openclubs.webtools.snippet import (
    AMENITIES,
    GENDERS,
    ClubFields,
    PlaceFields,
    activity_index,
    activity_options,
    build_record,
    fields_from_form,
    fields_from_text,
    snippet,
    snippet_json,
)
from openclubs.webtools.submissions import Submissions
from openclubs.webtools.validate_page import SECURITY_HEADERS, json_response, page

MAX_PLACES = 20


def make_web_geocoder(spec: str) -> Geocoder | None:
    """The geocoder the `postcode_lookup` setting names: postcodes.io or the address of a
    service that answers like it (with fewer retries than the importer uses, as a person is
    waiting), a CSV file, or none."""
    choice = spec.strip()
    if choice.lower() == "postcodes.io":
        return PostcodesIoGeocoder(retries=2, backoff=0.5, timeout=8.0)
    if choice.lower().startswith(("http://", "https://")):
        return PostcodesIoGeocoder(choice, retries=2, backoff=0.5, timeout=8.0)
    return make_geocoder(choice)


def postcode_answer(geocoder: Geocoder | str | None, text: str) -> dict[str, Any]:
    """The look-up of one postcode in plain words; `status` says which of found,
    invalid ("not a postcode"), not_found and unavailable happened. `geocoder` is a string
    when the setting could not be used (it says why)."""
    if geocoder is None or isinstance(geocoder, str):
        why = geocoder or "this server has no postcode look-up set up"
        return {
            "status": "unavailable",
            "postcode": None,
            "message": f"Service unavailable: {why}. Type the latitude and longitude instead.",
        }
    answers = geocoder.lookup([text])
    key, result = next(iter(answers.items()), (text, GeoResult(None, None, "unavailable")))
    out: dict[str, Any] = {"status": result.status, "postcode": None}
    if result.status == "invalid":
        out["message"] = f"Not a postcode: {result.detail}."
    else:
        out["postcode"] = key
        if result.status == "found":
            out.update(latitude=result.latitude, longitude=result.longitude)
            out["message"] = (
                f"Found {key}: latitude {result.latitude}, longitude {result.longitude}."
            )
        elif result.status == "not_found":
            out["message"] = f"Not found: {key} is a well-formed postcode, but {result.detail}."
        else:
            out["message"] = (
                f"Service unavailable: {result.detail}. Try again later, or type the latitude "
                "and longitude."
            )
    return out


def _issues(record: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    text = snippet_json(record)
    report = validate(text, name="snippet")
    return report_view(report, text), [i.to_dict() for i in report.issues]


def register_build(app: FastAPI, store: Store, settings: Settings, accepting: bool) -> None:
    geocoder: Geocoder | str | None
    try:
        geocoder = make_web_geocoder(settings.postcode_lookup)
    except GeocoderSetupError as err:
        geocoder = f"the postcode look-up is misconfigured ({err})"
    submissions = Submissions(store)

    def build_page(
        fields: ClubFields, status: int = 200, message: str = "", error: str = ""
    ) -> HTMLResponse:
        record = build_record(fields)
        view, _ = _issues(record)
        blanks = max(3, len(fields.activities) + 1) - len(fields.activities)
        return page(
            "build.html",
            status,
            f=fields,
            place_blank=PlaceFields(),
            activities=fields.activities + [""] * blanks,
            snippet=snippet(record),
            view=view,
            options=activity_options(),
            amenities=AMENITIES,
            genders=GENDERS,
            accepting=accepting,
            message=message,
            error=error,
        )

    @app.get("/build", response_class=HTMLResponse, summary="Build a club's JSON-LD snippet")
    async def build_form() -> HTMLResponse:
        return build_page(ClubFields())

    @app.post("/build", response_class=HTMLResponse, summary="The snippet, built on the server")
    async def build_post(request: Request) -> HTMLResponse:
        try:
            form = await read_form(request)
        except FormTooLarge as err:
            return build_page(ClubFields(), 413, error=f"The form is too large: {err}.")
        fields = fields_from_form(form.get, form.getlist)
        action = form.get("action", "preview")
        if action == "load":
            loaded, problems = fields_from_text(form.get("paste"))
            if loaded is None:
                why = "; ".join(i.message for i in problems) or "it holds no club record"
                return build_page(fields, 400, error=f"That snippet could not be read: {why}")
            note = " (its JSON had mistakes, repaired here)" if problems else ""
            return build_page(loaded, message=f"The form now holds the pasted snippet{note}.")
        if action == "add_location" and len(fields.places) < MAX_PLACES:
            fields.places.append(PlaceFields())
        elif action.startswith("remove-") and len(fields.places) > 1:
            index = action.removeprefix("remove-")
            if index.isdigit() and int(index) < len(fields.places):
                del fields.places[int(index)]
        elif action.startswith("lookup-"):
            index = action.removeprefix("lookup-")
            if index.isdigit() and int(index) < len(fields.places):
                place = fields.places[int(index)]
                found = await run_in_threadpool(postcode_answer, geocoder, place.postcode)
                place.note = found["message"]
                if found["status"] == "found":
                    place.postcode = found["postcode"]
                    place.lat, place.lon = str(found["latitude"]), str(found["longitude"])
        elif action == "submit":
            return await submit(fields)
        return build_page(fields)

    async def submit(fields: ClubFields) -> HTMLResponse:
        if not accepting:
            return build_page(
                fields,
                403,
                error="This server does not take submissions: copy the snippet "
                "into your club's web page instead.",
            )
        record = build_record(fields)
        _, issues = _issues(record)
        failures = [i for i in issues if i["severity"] == "failure"]
        if failures:
            return build_page(
                fields,
                422,
                error=f"Not submitted: fix the {len(failures)} failure(s) listed below first.",
            )
        number = submissions.add(record, issues)
        if number is None:
            return build_page(
                fields,
                503,
                error="Not submitted: too many submissions are waiting for a "
                "moderator. Please try again later.",
            )
        return build_page(
            fields,
            message=f"Thank you: submission {number} is waiting for a moderator to approve it.",
        )

    @app.get("/webtools/activities.json", response_class=Response, summary="Activity labels")
    async def activities() -> Response:
        response = json_response(activity_index())
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    @app.get("/webtools/postcode", response_class=Response, summary="Look up a postcode")
    async def postcode(q: str = "") -> Response:
        found = await run_in_threadpool(postcode_answer, geocoder, q[:40])
        return json_response(found)

    @app.post("/webtools/fill", response_class=Response, summary="Read a pasted snippet")
    async def fill(request: Request) -> Response:
        try:
            body = await read_body(request)
        except FormTooLarge as err:
            return json_response(error_body(413, f"The snippet is too large: {err}."), 413)
        loaded, problems = fields_from_text(body.decode("utf-8-sig", errors="replace"))
        issues = [i.to_dict() for i in problems]
        if loaded is None:
            why = "; ".join(i.message for i in problems) or "it holds no club record"
            return json_response(
                error_body(422, f"That snippet could not be read: {why}", issues), 422
            )
        return json_response({"ok": True, "fields": loaded.to_json(), "issues": issues})


__all__ = ["SECURITY_HEADERS", "postcode_answer", "register_build"]
