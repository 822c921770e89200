"""/build: a form for one club that shows its JSON-LD snippet and what is still missing.

The page works without JavaScript (each button posts the form and the snippet is rendered
here); with it, static/webtools/build.js updates the snippet as the user types and asks the
helpers under /webtools/ to check it, look up postcodes and read a pasted snippet. Nothing
is kept unless the user submits the club and the server accepts submissions.
"""

from __future__ import annotations

import re
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
from openclubs.validate.catalogue import SEVERITY_ORDER
from openclubs.validate.engine import validate
from openclubs.validate.report import Report
from openclubs.webtools.forms import FormTooLarge, read_body, read_form
from openclubs.webtools.limits import (
    SUBMISSION_WINDOW,
    WindowLimiter,
    client_key,
    in_minutes,
    retry_after_header,
)
from openclubs.webtools.report_view import path_steps, report_view, verdict, with_code
from openclubs.webtools.snippet import (
    AMENITIES,
    GENDERS,
    MAX_PLACES,
    ClubFields,
    PlaceFields,
    activity_index,
    activity_options,
    build_record,
    fields_from_form,
    fields_from_text,
    kept_places,
    snippet,
    snippet_json,
)
from openclubs.webtools.submissions import Submissions
from openclubs.webtools.validate_page import SECURITY_HEADERS, json_response, page

# Where on the form each property of the record is typed, and what the form calls it.
CLUB_FIELDS = {
    "name": ("name", "Club name"),
    "description": ("description", "Description"),
    "url": ("url", "Website"),
    "@id": ("id", "Identifier"),
    "sameAs": ("same_as", "Social media pages"),
    "email": ("email", "Club email"),
    "telephone": ("telephone", "Club telephone"),
    "genderRestriction": ("gender", "Gender"),
    "memberOf": ("member_of", "Governing body"),
}
AGE_FIELDS = {"maxValue": ("age_max", "Oldest age")}
PLACE_FIELDS = {
    "name": ("name", "Venue name"),
    "streetAddress": ("street", "Street address"),
    "addressLocality": ("locality", "Town or city"),
    "addressRegion": ("region", "County or region"),
    "postalCode": ("postcode", "Postcode"),
    "addressCountry": ("country", "Country code"),
    "longitude": ("lon", "Longitude"),
}
# The validator's hints name the JSON types; on the form, the same advice in the form's words.
FORM_WORDS = {
    "$.activity": "Required. Type at least one activity, such as Football or Sailing.",
    "$.location": "Required. Say where the club meets: the venue's name with its street, "
    "town, county and postcode, or its latitude and longitude.",
}
_NOT_A_POSTCODE = re.compile(r"^'.*' is not a postcode: ")
_FIRST_SENTENCE = re.compile(
    r"^`[^`]+` is (?:REQUIRED on \w+ and is missing\.|recommended on \w+:)\s*"
)


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
        if not text.strip():
            out["message"] = "Not a postcode: the box is empty. Type the postcode first."
        else:
            why = _NOT_A_POSTCODE.sub("", result.detail or "")
            out["message"] = f"Not a postcode: “{text.strip()}” – {why}."
    else:
        out["postcode"] = key
        if result.status == "found":
            out.update(latitude=result.latitude, longitude=result.longitude)
            out["message"] = (
                f"Found {key}: latitude {result.latitude}, longitude {result.longitude}."
            )
        elif result.status == "not_found":
            out["message"] = (
                f"Not found: {key} looks like a postcode, but {result.detail}. Check it, or "
                "type the latitude and longitude."
            )
        else:
            out["message"] = (
                f"Service unavailable: {result.detail}. Try again later, or type the latitude "
                "and longitude."
            )
    return out


def field_for(path: str, fields: ClubFields) -> tuple[str, str]:
    """(the id of the form field, its label) where the property at `path` (a JSONPath in the
    record `build_record(fields)` makes) is typed, so the list of what is missing can link
    to the very field. Empty locations and activities are left out of the record, so
    record positions are mapped back to the form's."""
    steps = path_steps(path) or []
    head = steps[0] if steps else ""
    if not steps or head == "@context" or head == "@type":
        return "url", "Contact details"
    if head in CLUB_FIELDS:
        return CLUB_FIELDS[str(head)]
    if head == "ageRange":
        return AGE_FIELDS.get(str(steps[-1]), ("age_min", "Youngest age"))
    if head == "activity":
        filled = [n for n, text in enumerate(fields.activities) if text.strip()] or [0]
        k = steps[1] if len(steps) > 1 and isinstance(steps[1], int) else 0
        n = filled[k] if k < len(filled) else filled[-1]
        return f"activity-{n}", f"Activity {n + 1}"
    if head == "location":
        kept = kept_places(fields) or [0]
        rest = steps[1:]
        k = 0
        if rest and isinstance(rest[0], int):
            k, rest = rest[0], rest[1:]
        n = kept[k] if k < len(kept) else kept[-1]
        last = str(rest[-1]) if rest else "name"
        if last in PLACE_FIELDS:
            key, label = PLACE_FIELDS[last]
        elif "geo" in rest:
            key, label = "lat", "Latitude"
        elif last == "address":
            key, label = "street", "Address"
        else:
            key, label = PLACE_FIELDS["name"]
        return f"loc-{n}-{key}", f"Location {n + 1}: {label}"
    return "name", "The club"


FORM_ORDER = ("name", "description", "url", "id", "same_as", "email", "telephone")
PLACE_ORDER = ("name", "street", "locality", "region", "postcode", "country", "lat", "lon")
LAST_ORDER = ("age_min", "age_max", "gender", "member_of")


def form_position(field: str) -> tuple[int, int, int]:
    """Where a field comes on the page, so the list of what is missing reads in the order a
    person goes down the form (as an error summary should), not in the validator's."""
    if field in FORM_ORDER:
        return (0, FORM_ORDER.index(field), 0)
    if field.startswith("activity-"):
        return (1, int(field.removeprefix("activity-")), 0)
    if field.startswith("loc-"):
        _, number, key = field.split("-", 2)
        return (2, int(number), PLACE_ORDER.index(key) if key in PLACE_ORDER else 0)
    return (3, LAST_ORDER.index(field) if field in LAST_ORDER else 0, 0)


def missing_items(report: Report, fields: ClubFields) -> list[dict[str, Any]]:
    """What is still missing or to fix, in the form's words: each issue with the field to
    go to (its id and label), most urgent first. "`name` is REQUIRED on Organization and is
    missing. Add the club's name." becomes "Club name: required. Add the club's name."."""
    view = report_view(report)
    items: list[dict[str, Any]] = []
    for group in view["groups"]:
        for issue in group["issues"]:
            field, label = field_for(issue["path"], fields)
            if issue["type"] == "no_contact_route":
                field, label = "url", "Contact details"
            message = str(issue["message"])
            if issue["path"] in FORM_WORDS:
                message = FORM_WORDS[issue["path"]]
            elif issue["type"].startswith("missing_"):
                kind = "Required" if "REQUIRED" in message else "Recommended"
                rest = _FIRST_SENTENCE.sub("", message).split(", e.g. ")[0].rstrip(".")
                message = f"{kind}. {rest[:1].upper()}{rest[1:]}." if rest else f"{kind}."
            items.append(
                {
                    "severity": group["severity"],
                    "type": issue["type"],
                    "title": issue["title"],
                    # the validator's title where it says something the message does not
                    "headline": ""
                    if issue["type"].startswith("missing_") or issue["type"] == "no_contact_route"
                    else issue["title"],
                    "field": field,
                    "label": label,
                    "message": message,
                    "message_html": with_code(message),
                }
            )
    items.sort(key=lambda i: (SEVERITY_ORDER[i["severity"]], form_position(i["field"])))
    return items


def check_fields(fields: ClubFields) -> dict[str, Any]:
    """The live check of /build: the verdict, a count in words, and the list of what is
    missing linked to the fields (JSON for build.js, the same as the page renders)."""
    record = build_record(fields)
    text = snippet_json(record)
    report = validate(text, name="snippet")
    items = missing_items(report, fields)
    failures = sum(1 for i in items if i["severity"] == "failure")
    others = len(items) - failures
    if not failures:
        status = "Your snippet is valid." + (
            f" {others} more thing{'s' if others != 1 else ''} would make it better."
            if others
            else ""
        )
    else:
        status = (
            f"{failures} thing{'s' if failures != 1 else ''} still to fix"
            + (f", and {others} recommended" if others else "")
            + "."
        )
    return {
        "verdict": verdict(report),
        "status": status,
        "failures": failures,
        "items": [{k: v for k, v in i.items() if k != "message_html"} for i in items],
        "issues": [i.to_dict() for i in report.issues],
        "html_items": items,
    }


def register_build(app: FastAPI, store: Store, settings: Settings, accepting: bool) -> None:
    geocoder: Geocoder | str | None
    try:
        geocoder = make_web_geocoder(settings.postcode_lookup)
    except GeocoderSetupError as err:
        geocoder = f"the postcode look-up is misconfigured ({err})"
    submissions = Submissions(store)
    # one visitor may not fill the MAX_PENDING places and shut everyone else out
    per_visitor = WindowLimiter(settings.submissions_per_hour, SUBMISSION_WINDOW)
    app.state.submissions_per_visitor = per_visitor

    def build_page(
        fields: ClubFields,
        status: int = 200,
        message: str = "",
        error: str = "",
        show_summary: bool = False,
    ) -> HTMLResponse:
        """The page; with `show_summary` (a refused submission), an error summary at the top
        linking to each failing field, and those fields marked aria-invalid."""
        record = build_record(fields)
        checked = check_fields(fields)
        failing = [i for i in checked["html_items"] if i["severity"] == "failure"]
        blanks = max(3, len(fields.activities) + 1) - len(fields.activities)
        return page(
            "build.html",
            status,
            f=fields,
            check=checked,
            summary=failing if show_summary else [],
            invalid={i["field"] for i in failing} if show_summary else set(),
            place_blank=PlaceFields(),
            activities=fields.activities + [""] * blanks,
            snippet=snippet(record),
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
            return await submit(fields, client_key(request))
        return build_page(fields)

    async def submit(fields: ClubFields, visitor: str) -> HTMLResponse:
        """Keep a club without failures as pending, at most `submissions_per_hour` from one
        address; every refusal shows the form as it was sent, so nothing typed is lost."""
        if not accepting:
            return build_page(
                fields,
                403,
                error="This server does not take submissions: copy the snippet "
                "into your club's web page instead.",
            )
        record = build_record(fields)
        issues = [i.to_dict() for i in validate(snippet_json(record), name="snippet").issues]
        failures = [i for i in issues if i["severity"] == "failure"]
        if failures:
            return build_page(
                fields,
                422,
                error=f"Not submitted: fix the {len(failures)} failure(s) listed below first.",
                show_summary=True,
            )
        wait = per_visitor.acquire(visitor)
        if wait > 0:
            limit = settings.submissions_per_hour
            refused = build_page(
                fields,
                429,
                error=f"Not submitted: this server takes at most {limit} "
                f"submission{'s' if limit != 1 else ''} an hour from one address, and yours "
                f"has sent them. Your form is kept below; try again in {in_minutes(wait)}.",
            )
            refused.headers["Retry-After"] = retry_after_header(wait)
            return refused
        try:
            number = submissions.add(record, issues)
        except BaseException:  # the store failed: nothing was kept, so it does not count
            per_visitor.release(visitor)
            raise
        if number is None:
            per_visitor.release(visitor)  # nothing was kept, so it does not count
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

    @app.post("/webtools/check", response_class=Response, summary="What the form still lacks")
    async def check(request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormTooLarge as err:
            return json_response(error_body(413, f"The form is too large: {err}."), 413)
        fields = fields_from_form(form.get, form.getlist)
        answer = await run_in_threadpool(check_fields, fields)
        del answer["html_items"]
        return json_response({"ok": True, **answer})

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
