"""/validate (a plain HTML form: paste, upload or give a web address) and its JSON twin
POST /api/validate. Both run the validator the CLI runs and fetch web pages with the safe
fetcher."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from openclubs.publish.rpde import error_body
from openclubs.publish.site import render
from openclubs.validate.engine import validate
from openclubs.validate.render import summary_line
from openclubs.validate.report import Report, make_issue
from openclubs.webtools.fetch import Fetched, FetchError, FetchPolicy, fetch_page
from openclubs.webtools.forms import Form, FormTooLarge, parse_form, read_body, read_form
from openclubs.webtools.report_view import report_view, verdict

# Fetches run in the web server's worker threads and may each take the whole time limit; a
# bound keeps a burst of slow addresses from taking every thread (and every other page) with
# them. Past it, the person is asked to try again instead of waiting in a queue.
MAX_FETCHES = 8
FETCH_SLOTS = threading.BoundedSemaphore(MAX_FETCHES)
BUSY = "this server is fetching too many pages just now; please try again in a minute"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(name, **context), status_code=status, headers=SECURITY_HEADERS)


@dataclass(slots=True)
class Checked:
    """A validated input: the report, the text checked, and what it was."""

    report: Report
    text: str
    kind: str  # "text", "file" or "url"
    name: str
    fetched_url: str | None = None


class NothingToCheck(ValueError):
    """The form gave neither text, nor a file, nor an address."""


def fetch_limited(url: str, policy: FetchPolicy) -> Fetched:
    """fetch_page, when one of the MAX_FETCHES slots is free (else FetchError: busy)."""
    if not FETCH_SLOTS.acquire(blocking=False):
        raise FetchError(f"{url}: {BUSY}")
    try:
        return fetch_page(url, policy)
    finally:
        FETCH_SLOTS.release()


async def _validated(text: str, name: str) -> Report:
    """The validator's report, made in a worker thread: a large document takes a while to
    check, and the server goes on answering others meanwhile."""
    return await run_in_threadpool(validate, text, name=name)


async def check_input(form: Form, policy: FetchPolicy) -> Checked:
    """Validate what the form gives: the address when there is one, else the uploaded file,
    else the pasted text. A page that cannot be fetched becomes a report with that error
    (as in the CLI), never an exception."""
    url = form.get("url").strip()
    if url and "://" not in url and not url.lower().startswith(("mailto:", "javascript:")):
        url = "https://" + url  # "www.myclub.org.uk", as people write it (and type on phones)
    if url:
        try:
            fetched = await run_in_threadpool(fetch_limited, url, policy)
        except FetchError as err:
            report = Report(sources=1)
            issue = make_issue("source_unreadable", "$", detail=str(err))
            report.issues.append(issue.placed(file=url))
            return Checked(report, "", "url", url)
        report = await _validated(fetched.text, fetched.url)
        return Checked(report, fetched.text, "url", url, fetched.url)
    upload = form.files.get("file")
    if upload is not None and upload[1]:
        filename, data = upload
        text = data.decode("utf-8-sig", errors="replace")
        report = await _validated(text, filename or "upload")
        return Checked(report, text, "file", filename)
    text = form.get("text")
    if text.strip():
        report = await _validated(text, "pasted text")
        return Checked(report, text, "text", "pasted text")
    raise NothingToCheck("Paste some JSON-LD, choose a file, or give the address of a web page.")


def api_body(checked: Checked) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": True, **checked.report.to_dict()}
    body["unreadable"] = checked.report.unreadable
    body["summary"] = summary_line(checked.report)
    body["verdict"] = verdict(checked.report)
    body["titles"] = {i.type: i.issue_type.title for i in checked.report.issues}
    source: dict[str, Any] = {"kind": checked.kind, "name": checked.name}
    if checked.fetched_url:
        source["url"] = checked.fetched_url
    body["source"] = source
    return body


def register_validate(app: FastAPI, policy: FetchPolicy) -> None:
    def validate_page(
        status: int = 200,
        form: Form | None = None,
        checked: Checked | None = None,
        error: str = "",
    ) -> HTMLResponse:
        form = form or Form()
        view = report_view(checked.report, checked.text) if checked else None
        return page(
            "validate.html",
            status,
            text=form.get("text"),
            url=form.get("url"),
            checked=checked,
            view=view,
            error=error,
        )

    @app.get("/validate", response_class=HTMLResponse, summary="Check club data or a web page")
    async def validate_form() -> HTMLResponse:
        return validate_page()

    @app.post("/validate", response_class=HTMLResponse, summary="The report, as a page")
    async def validate_post(request: Request) -> HTMLResponse:
        try:
            form = await read_form(request)
        except FormTooLarge as err:
            return validate_page(413, error=f"That is too much to check at once: {err}.")
        try:
            checked = await check_input(form, policy)
        except NothingToCheck as err:
            return validate_page(400, form, error=str(err))
        return validate_page(200, form, checked)

    @app.post(
        "/api/validate",
        response_class=Response,
        summary="Validate JSON-LD, an HTML page, or a web page's address (?url=)",
    )
    async def validate_api(request: Request) -> Response:
        try:
            body = await read_body(request)
        except FormTooLarge as err:
            return json_response(error_body(413, f"The body is too large: {err}."), 413)
        ctype = request.headers.get("content-type", "").lower()
        if ctype.startswith(FORM_TYPES):
            form = parse_form(body, ctype)
        else:
            form = Form()
            form.add("text", body.decode("utf-8-sig", errors="replace"))
        if request.query_params.get("url"):
            form.values["url"] = [request.query_params["url"]]
        try:
            checked = await check_input(form, policy)
        except NothingToCheck as err:
            return json_response(error_body(400, str(err)), 400)
        return json_response(api_body(checked))
