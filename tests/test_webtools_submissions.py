"""Submissions from /build (when the server accepts them) wait as pending until a moderator,
signed in at /admin with the admin token, approves them into the store or rejects them; on
SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openclubs.publish.app import create_app
from openclubs.publish.settings import Settings, SettingsError
from openclubs.store import SQLiteStore
from openclubs.store.base import Store
from openclubs.webtools.submissions import Submissions
from tests.test_webtools_pages import TWO_PLACES

BASE = "https://clubs.example.org"
TOKEN = "moderate-me"


def client(store: Store, **settings: str) -> TestClient:
    app = create_app(store, Settings(base_url=BASE, postcode_lookup="none", **settings))
    return TestClient(app, base_url="https://testserver")


def test_submissions_are_off_by_default(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    api = client(store)
    assert 'value="submit"' not in api.get("/build").text
    refused = api.post("/build", data={**TWO_PLACES, "action": "submit"})
    assert refused.status_code == 403 and "does not take submissions" in refused.text
    assert Submissions(store).count("pending") == 0
    off = api.get("/admin")
    assert off.status_code == 403 and "this server has no admin_token" in off.text
    with pytest.raises(SettingsError, match="must be yes or no"):
        create_app(store, Settings(accept_submissions="perhaps"))
    store.close()


def test_submit_approve_and_reject(store: Store) -> None:
    assert store.part_versions()["webtools"] == 1
    api = client(store, accept_submissions="yes", admin_token=TOKEN)
    assert 'value="submit"' in api.get("/build").text
    sent = api.post("/build", data={**TWO_PLACES, "action": "submit"})
    assert sent.status_code == 200
    assert "Thank you: submission 1 is waiting for a moderator" in sent.text
    incomplete = {**TWO_PLACES, "activity": [""], "action": "submit"}
    refused = api.post("/build", data=incomplete)
    assert refused.status_code == 422 and "Not submitted: fix the 1 failure(s)" in refused.text
    submissions = Submissions(store)
    assert submissions.count("pending") == 1
    club_id = "https://www.greenwichyachtclub.co.uk/"
    assert store.get(club_id) is None  # nothing published before a moderator says so

    # not signed in: a sign-in form, and decisions are refused
    assert 'name="token"' in api.get("/admin").text
    assert api.post("/admin/submissions/1/approve").status_code == 401
    assert api.post("/admin/login", data={"token": "guess"}).status_code == 401
    assert submissions.get(1) is not None and submissions.get(1).status == "pending"  # type: ignore[union-attr]

    signed = api.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert signed.status_code == 303 and "httponly" in signed.headers["set-cookie"].lower()
    listing = api.get("/admin").text
    assert "1. Greenwich Yacht Club" in listing
    assert f"identifier <code>{club_id}</code>" in listing
    csrf = form_token(listing)
    # what the two warnings are, in words, without opening the record
    assert "2 warnings." in listing
    assert "<li>warning: `address` is recommended on Place: people search by" in listing
    assert "<li>warning: `latitude` is 51.5; give at least two decimal places" in listing
    approved = api.post("/admin/submissions/1/approve", data={"csrf": csrf})
    assert approved.status_code == 200 and "Submission 1 approved." in approved.text
    stored = store.get(club_id)
    assert stored is not None and stored.state == "updated"
    assert stored.data is not None and stored.data["name"] == "Greenwich Yacht Club"
    decided = submissions.get(1)
    assert decided is not None and decided.status == "approved" and decided.club_key == stored.key
    assert api.post("/admin/submissions/1/reject", data={"csrf": csrf}).status_code == 409

    # a second club, rejected by a program with the bearer token (no cookie)
    other = {**TWO_PLACES, "name": "Another Club", "url": "https://another.example.org/"}
    assert api.post("/build", data={**other, "action": "submit"}).status_code == 200
    bot = client(store, accept_submissions="yes", admin_token=TOKEN)
    rejected = bot.post(
        "/admin/submissions/2/reject",
        headers={"Authorization": f"Bearer {TOKEN}"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    assert submissions.get(2).status == "rejected"  # type: ignore[union-attr]
    assert store.get("https://another.example.org/") is None
    assert submissions.count("pending") == 0
    assert "No submission is waiting." in api.get("/admin").text


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert found is not None, "the moderators' forms carry no anti-forgery token"
    return found.group(1)


def test_admin_posts_from_other_sites_are_refused(tmp_path: Path) -> None:
    """A moderator's cookie rides along with any page's POST; approvals need the form's
    token, and a browser's Origin or Sec-Fetch-Site from elsewhere is refused."""
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    api = client(store, accept_submissions="yes", admin_token=TOKEN)
    assert api.post("/build", data={**TWO_PLACES, "action": "submit"}).status_code == 200
    signed = api.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    cookie = signed.headers["set-cookie"].lower()
    for flag in ("httponly", "samesite=strict", "secure", "path=/admin", "max-age=43200"):
        assert flag in cookie, flag
    assert TOKEN not in cookie  # the cookie is derived from the token, not the token
    csrf = form_token(api.get("/admin").text)
    forgeries: list[tuple[dict[str, str], dict[str, str]]] = [
        ({}, {}),  # an auto-submitting form on another page: no token
        ({"csrf": "0" * 64}, {}),  # a guessed token
        ({"csrf": csrf}, {"Origin": "https://evil.example"}),
        ({"csrf": csrf}, {"Origin": "null"}),
        ({"csrf": csrf}, {"Sec-Fetch-Site": "same-site"}),  # a sibling subdomain
    ]
    for data, headers in forgeries:
        refused = api.post("/admin/submissions/1/approve", data=data, headers=headers)
        assert refused.status_code == 403, (data, headers)
        assert "did not come from this server" in refused.text
        assert api.post("/admin/logout", data=data, headers=headers).status_code == 403
    assert Submissions(store).get(1).status == "pending"  # type: ignore[union-attr]
    assert store.get("https://www.greenwichyachtclub.co.uk/") is None
    # signing in from another site's form is refused too (login forgery)
    assert (
        api.post(
            "/admin/login", data={"token": TOKEN}, headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    # the real form, from this server's own origin, works
    same = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}
    done = api.post("/admin/submissions/1/approve", data={"csrf": csrf}, headers=same)
    assert done.status_code == 200 and "Submission 1 approved." in done.text
    out = api.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and 'name="token"' in api.get("/admin").text
    # on plain http (a laptop) the cookie cannot be Secure, or the browser would drop it
    local = TestClient(
        create_app(
            store,
            Settings(base_url="http://127.0.0.1:8000", postcode_lookup="none", admin_token=TOKEN),
        )
    )
    plain = local.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert plain.status_code == 303 and "secure" not in plain.headers["set-cookie"].lower()
    store.close()
