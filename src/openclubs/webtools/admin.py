"""/admin: the moderators' page, where submissions from /build are approved (written to the
store, so they appear in the feed) or rejected.

Protected by the `admin_token` setting: a moderator signs in with it once and gets a
session cookie (HttpOnly, SameSite=Strict, Secure when the server is on https); programs may
send `Authorization: Bearer TOKEN` instead. Without the setting the page is off.

A cookie is sent by the browser whoever made the page that posts, so every cookie-signed
POST (approve, reject, sign out) also needs the form's `csrf` field, which only a page from
this server can know, and is refused when the browser says it comes from another origin
(Origin, or Sec-Fetch-Site). SameSite=Strict alone is not enough: "same site" includes every
sibling subdomain of the registrable domain, which the operator may not control.

Guessing the token is slowed down: after SIGNIN_FAILURES wrong tokens (from the sign-in form,
a bearer header, or a session cookie, which anyone can work out from a guess) in
SIGNIN_WINDOW from one address, that address is answered 429 with Retry-After until the
oldest failure leaves the window, and the token it sends is not even compared meanwhile, so a
lucky guess during the lock tells the guesser nothing. Signing in
clears the address's failures. The counts are kept in memory (webtools/limits.py).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from openclubs.publish.settings import Settings
from openclubs.store.base import Store
from openclubs.validate.engine import check_record
from openclubs.webtools.forms import Form, FormTooLarge, read_form
from openclubs.webtools.limits import (
    SIGNIN_FAILURES,
    SIGNIN_WINDOW,
    WindowLimiter,
    client_key,
    in_minutes,
    retry_after_header,
)
from openclubs.webtools.snippet import snippet_json
from openclubs.webtools.submissions import Submission, Submissions
from openclubs.webtools.validate_page import SECURITY_HEADERS, page

COOKIE = "openclubs_admin"
SESSION_SECONDS = 12 * 3600  # a moderator on a shared computer is signed out by the evening
MAX_FORM_BYTES = 64 * 1024  # a token, a csrf field and a button: more is not from our page
CROSS_SITE = "This form did not come from this server's moderators' page; nothing was changed."
WRONG_TOKEN = "That is not the moderators' token."


def session_value(token: str) -> str:
    """The cookie's value: derived from the token, so the token itself is never stored in
    the browser, and changing the token signs everyone out."""
    return hmac.new(token.encode(), b"openclubs admin session", hashlib.sha256).hexdigest()


def csrf_value(token: str) -> str:
    """The forms' anti-forgery field: derived from the token like the session, with another
    label, so neither value can be worked out from the other."""
    return hmac.new(token.encode(), b"openclubs admin form", hashlib.sha256).hexdigest()


def same_origin(request: Request, base: str) -> bool:
    """False when the browser says the request comes from another origin: an Origin header
    that is neither this server's public address nor the address the request came to, or
    Sec-Fetch-Site cross-site/same-site. Programs that send neither are judged by the
    token."""
    if request.headers.get("sec-fetch-site", "") in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = {base.rstrip("/").lower(), f"{request.url.scheme}://{request.url.netloc}".lower()}
    return origin.rstrip("/").lower() in own


def register_admin(app: FastAPI, store: Store, settings: Settings) -> None:
    """Add /admin and its forms. The failed sign-ins limiter is `app.state.admin_signins`
    (tests move its clock)."""
    submissions = Submissions(store)
    token = settings.admin_token
    failures = WindowLimiter(SIGNIN_FAILURES, SIGNIN_WINDOW)
    app.state.admin_signins = failures

    def uses_bearer(request: Request) -> bool:
        return request.headers.get("authorization", "").partition(" ")[0].lower() == "bearer"

    def signed_in(request: Request) -> bool:
        """Whether the request carries the right bearer token or session cookie. Both are
        guesses at the token (the cookie is derived from the token by a public recipe, so a
        guesser can work out the cookie of each guess offline): a wrong one counts as a
        failed sign-in, and while the address is locked neither is compared, on every page
        that shows whether the visitor is signed in. The answer is kept for the request, so
        one request is one guess however often it is asked."""
        if not token:
            return False
        known: bool | None = getattr(request.state, "admin_signed_in", None)
        if known is None:
            known = compare(request, token)
            request.state.admin_signed_in = known
        return known

    def compare(request: Request, token: str) -> bool:
        """`signed_in` for a request not yet judged (see there)."""
        given = request.headers.get("authorization", "").partition(" ")[2]
        cookie = request.cookies.get(COOKIE, "")
        if not uses_bearer(request) and not cookie:
            return False  # nothing to compare, so no guess
        key = client_key(request)
        if failures.retry_after(key) > 0:
            return False
        if uses_bearer(request):
            right = hmac.compare_digest(given.encode(), token.encode())
        else:
            right = hmac.compare_digest(cookie.encode(), session_value(token).encode())
            # a guess, or a cookie from before the token changed: the browser drops it
            request.state.admin_stale_cookie = not right
        if not right:
            failures.hit(key)
        elif uses_bearer(request):
            failures.clear(key)
        return right

    def forged(request: Request, form: Form) -> bool:
        """A cookie-signed POST without this server's form token, or from another origin
        (a bearer token cannot be sent by another site's page, so it needs neither)."""
        if not token or (uses_bearer(request) and signed_in(request)):
            return False
        given = form.get("csrf")
        return not same_origin(request, settings.base) or not hmac.compare_digest(
            given.encode(), csrf_value(token).encode()
        )

    def view(sub: Submission) -> dict[str, Any]:
        ident = sub.record.get("@id")
        existing = store.get(ident) if isinstance(ident, str) else None
        counts: dict[str, int] = {}
        for issue in sub.issues:
            severity = str(issue.get("severity"))
            counts[severity] = counts.get(severity, 0) + 1
        return {
            "id": sub.id,
            "created_at": sub.created_at,
            "name": sub.name or "(no name)",
            "ident": ident if isinstance(ident, str) else "",
            "replaces": existing is not None and existing.state == "updated",
            "counts": counts,
            # what the counts are about, so a moderator need not read the JSON to know
            "issues": [f"{issue.get('severity')}: {issue.get('message')}" for issue in sub.issues],
            "json": snippet_json(sub.record),
        }

    def locked_page(request: Request, wait: float) -> HTMLResponse:
        """429 for an address that has failed to sign in too often, with the sign-in form
        (signed out: the lock is only checked where a token is given)."""
        response = page(
            "admin.html",
            429,
            off=False,
            signed_in=False,
            error=f"Too many failed sign-ins from your address; try again in {in_minutes(wait)}.",
            pending=[],
            done="",
            csrf="",
        )
        response.headers["Retry-After"] = retry_after_header(wait)
        return response

    def failed(request: Request) -> HTMLResponse:
        """Count a wrong token from the sign-in form against the address; 401, or 429 once
        that was one too many. The page shows the visitor signed out (a cookie it also
        sends is not compared: one request is one failure)."""
        request.state.admin_signed_in = False
        wait = failures.hit(client_key(request))
        if wait > 0:
            return locked_page(request, wait)
        return admin_page(request, 401, WRONG_TOKEN)

    def token_refused(request: Request) -> HTMLResponse | None:
        """For a request carrying `Authorization: Bearer` or the session cookie: 429 while
        its address is locked (nothing compared), 401 for a wrong bearer token (a failed
        sign-in; 429 when it was one too many); None when it may go on (nothing to compare,
        the right token or cookie, or a wrong cookie: that page offers the sign-in form and
        drops the cookie). Other schemes are not counted: a proxy's own Basic sign-in in
        front of /admin would otherwise lock the moderators out."""
        if not token or not (uses_bearer(request) or request.cookies.get(COOKIE)):
            return None
        key = client_key(request)
        wait = failures.retry_after(key)
        if wait > 0:
            return locked_page(request, wait)
        if signed_in(request):
            return None
        wait = failures.retry_after(key)
        if wait > 0:
            return locked_page(request, wait)
        return admin_page(request, 401, WRONG_TOKEN) if uses_bearer(request) else None

    def admin_page(request: Request, status: int = 200, error: str = "") -> HTMLResponse:
        """The moderators' page; a wrong session cookie is dropped from the browser."""
        response = moderators_page(request, status, error)
        if getattr(request.state, "admin_stale_cookie", False):
            response.delete_cookie(COOKIE, path="/admin")
        return response

    def moderators_page(request: Request, status: int, error: str) -> HTMLResponse:
        if not token:
            return page(
                "admin.html",
                403,
                off=True,
                signed_in=False,
                error="The moderators' page is off: this server has no admin_token.",
                pending=[],
                done="",
                csrf="",
            )
        if not signed_in(request):
            return page(
                "admin.html",
                401 if error else status,
                off=False,
                signed_in=False,
                error=error,
                pending=[],
                done="",
                csrf="",
            )
        done = request.query_params.get("done", "")
        action, _, number = done.partition("-")
        note = (
            f"Submission {number} {action}."
            if action in ("approved", "rejected") and number.isdigit()
            else ""
        )
        pending = [view(s) for s in submissions.in_status("pending")]
        return page(
            "admin.html",
            status,
            off=False,
            signed_in=True,
            error=error,
            pending=pending,
            done=note,
            csrf=csrf_value(token),
        )

    async def posted(request: Request) -> Form | HTMLResponse:
        """The small form a moderator's page posts, or the page saying it is too large."""
        try:
            return await read_form(request, MAX_FORM_BYTES)
        except FormTooLarge:
            return admin_page(request, 413, "The form is too large.")

    @app.get("/admin", response_class=HTMLResponse, summary="Moderate submissions (token)")
    async def admin(request: Request) -> HTMLResponse:
        return token_refused(request) or admin_page(request)

    @app.post("/admin/login", response_class=Response, summary="Sign in with the admin token")
    async def login(request: Request) -> Response:
        form = await posted(request)
        if isinstance(form, HTMLResponse):
            return form
        if not same_origin(request, settings.base):
            return admin_page(request, 403, CROSS_SITE)
        if not token:
            return admin_page(request)  # the page says it is off
        key = client_key(request)
        wait = failures.retry_after(key)
        if wait > 0:
            return locked_page(request, wait)
        if not hmac.compare_digest(form.get("token").encode(), token.encode()):
            return failed(request)
        failures.clear(key)
        response = RedirectResponse("/admin", status_code=303)
        response.set_cookie(
            COOKIE,
            session_value(token),
            httponly=True,
            samesite="strict",
            secure=settings.base.startswith("https://"),
            path="/admin",
            max_age=SESSION_SECONDS,
        )
        return response

    @app.post("/admin/logout", response_class=Response, summary="Sign out")
    async def logout(request: Request) -> Response:
        form = await posted(request)
        if isinstance(form, HTMLResponse):
            return form
        refused = token_refused(request)
        if refused is not None:
            return refused
        if forged(request, form):
            return admin_page(request, 403, CROSS_SITE)
        response = RedirectResponse("/admin", status_code=303)
        response.delete_cookie(COOKIE, path="/admin")
        return response

    @app.post(
        "/admin/submissions/{number}/{decision}",
        response_class=Response,
        summary="Approve or reject a submission",
    )
    async def decide(number: int, decision: str, request: Request) -> Response:
        refused = token_refused(request)
        if refused is not None:
            return refused
        if not signed_in(request):
            return admin_page(request, 401, "Sign in first.")
        form = await posted(request)
        if isinstance(form, HTMLResponse):
            return form
        if forged(request, form):
            return admin_page(request, 403, CROSS_SITE)
        if decision not in ("approve", "reject"):
            return admin_page(request, 404, f"Unknown decision {decision!r}.")
        sub = submissions.get(number)
        if sub is None or sub.status != "pending":
            return admin_page(request, 409, f"Submission {number} is not waiting for a decision.")
        if decision == "reject":
            submissions.decide(number, "rejected")
            return RedirectResponse(f"/admin?done=rejected-{number}", status_code=303)
        record = dict(sub.record)
        record.setdefault("@id", f"{settings.base}/clubs/submitted-{number}")
        issues = [i.to_dict() for i in check_record(record)]
        failures = [i for i in issues if i["severity"] == "failure"]
        if failures:
            return admin_page(
                request, 422, f"Submission {number} has {len(failures)} failures; not approved."
            )
        provenance = {
            "webtools": "submission",
            "submission": number,
            "approved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        store.upsert([(record, provenance, issues)], "webtools")
        stored = store.get(record["@id"])
        submissions.decide(number, "approved", stored.key if stored else None)
        return RedirectResponse(f"/admin?done=approved-{number}", status_code=303)


__all__ = ["COOKIE", "SECURITY_HEADERS", "csrf_value", "register_admin", "session_value"]
