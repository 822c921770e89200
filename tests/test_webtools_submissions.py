"""Submissions from /build (when the server accepts them) wait as pending until a moderator,
signed in at /admin with the admin token, approves them into the store or rejects them; on
SQLite and PostgreSQL alike."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from openclubs.publish.app import create_app
from openclubs.publish.settings import Settings, SettingsError
from openclubs.store import SQLiteStore
from openclubs.store.base import Store
from openclubs.webtools.admin import COOKIE, session_value
from openclubs.webtools.limits import WindowLimiter
from openclubs.webtools.submissions import Submissions
from tests.test_webtools_pages import TWO_PLACES, snippet_of

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


# -- limits: failed sign-ins and submissions per visitor ------------------------------------


class Clock:
    """A clock the test moves by hand, so windows of minutes pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limited(store: Store, address: str, **settings: Any) -> tuple[TestClient, Clock]:
    """A client from `address` on a fresh app whose limiters run on a hand-moved clock."""
    app = create_app(store, Settings(base_url=BASE, postcode_lookup="none", **settings))
    clock = Clock()
    app.state.admin_signins.clock = clock
    app.state.submissions_per_visitor.clock = clock
    return TestClient(app, base_url="https://testserver", client=(address, 50000)), clock


def from_address(api: TestClient, address: str) -> TestClient:
    """Another visitor of the same app (and so the same limiters)."""
    return TestClient(api.app, base_url="https://testserver", client=(address, 41000))


def words(response: Response) -> str:
    """The page's text with its entities read (an apostrophe is sent as &#39;)."""
    return html.unescape(response.text)


def sign_in(api: TestClient, token: str) -> Response:
    return api.post("/admin/login", data={"token": token}, follow_redirects=False)


def test_failed_signins_lock_the_address_out(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    api, clock = limited(store, "203.0.113.7", admin_token=TOKEN)
    for guess in ("password", "admin", "moderate", "moderate-you"):
        wrong = sign_in(api, guess)
        assert wrong.status_code == 401 and "That is not the moderators' token." in words(wrong)
        assert "retry-after" not in wrong.headers
    fifth = sign_in(api, "moderate-m3")
    assert fifth.status_code == 429 and fifth.headers["retry-after"] == "900"
    assert "Too many failed sign-ins from your address; try again in 15 minutes." in words(fifth)
    assert 'name="token"' in fifth.text  # the form is still there for later
    # during the lock the token is not even compared: the right one is refused too
    right = sign_in(api, TOKEN)
    assert right.status_code == 429 and "set-cookie" not in right.headers
    assert api.get("/admin", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 429
    # a moderator elsewhere is not locked out by someone else's guessing
    elsewhere = sign_in(from_address(api, "198.51.100.20"), TOKEN)
    assert elsewhere.status_code == 303 and "set-cookie" in elsewhere.headers
    clock.advance(10 * 60)
    later = sign_in(api, TOKEN)
    assert later.status_code == 429 and later.headers["retry-after"] == "300"
    assert "try again in 5 minutes." in words(later)
    clock.advance(5 * 60 + 1)  # the first failure has left the 15-minute window
    unlocked = sign_in(api, TOKEN)
    assert unlocked.status_code == 303 and "set-cookie" in unlocked.headers
    store.close()


def test_signing_in_clears_the_failures(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    api, _ = limited(store, "203.0.113.8", admin_token=TOKEN)
    for _ in range(4):
        assert sign_in(api, "typo").status_code == 401
    assert sign_in(api, TOKEN).status_code == 303
    # four more typos, all at the same moment: without the clearing the fifth in a row
    # (the first of these) would have locked the moderator out
    for _ in range(4):
        assert sign_in(api, "typo").status_code == 401
    assert sign_in(api, "typo").status_code == 429
    store.close()


def test_wrong_bearer_tokens_count_as_failed_signins(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    api, clock = limited(store, "2001:db8:5:7::10", accept_submissions="yes", admin_token=TOKEN)
    assert api.post("/build", data={**TWO_PLACES, "action": "submit"}).status_code == 200
    reject = "/admin/submissions/1/reject"
    for n in range(1, 6):
        wrong = api.post(reject, headers={"Authorization": f"Bearer guess-{n}"})
        assert wrong.status_code == (401 if n < 5 else 429), n
    # another address in the same IPv6 /64 is the same visitor, and is locked too
    neighbour = from_address(api, "2001:db8:5:7::beef")
    locked = neighbour.post(reject, headers={"Authorization": f"Bearer {TOKEN}"})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) == 900
    assert sign_in(neighbour, TOKEN).status_code == 429
    assert Submissions(store).get(1).status == "pending"  # type: ignore[union-attr]
    # a proxy's own Basic sign-in in front of /admin is not a guess at the token
    proxied = from_address(api, "192.0.2.44")
    for _ in range(8):
        basic = proxied.get("/admin", headers={"Authorization": "Basic bW9kOnNlY3JldA=="})
        assert basic.status_code == 200 and 'name="token"' in basic.text
    clock.advance(15 * 60)
    done = api.post(reject, headers={"Authorization": f"Bearer {TOKEN}"}, follow_redirects=False)
    assert done.status_code == 303
    assert Submissions(store).get(1).status == "rejected"  # type: ignore[union-attr]
    store.close()


def test_submissions_are_limited_per_address(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    api, clock = limited(store, "203.0.113.9", accept_submissions="yes", submissions_per_hour=2)
    clubs = [
        {**TWO_PLACES, "name": name, "url": f"https://{slug}.example.org/", "action": "submit"}
        for name, slug in [("Greenwich Yacht Club", "gyc"), ("Erith Yacht Club", "eyc")]
    ]
    for club in clubs:
        assert api.post("/build", data=club).status_code == 200
    # a refusal for failures is not a submission and does not count
    incomplete = {**clubs[0], "activity": [""]}
    assert api.post("/build", data=incomplete).status_code == 422
    third = {**TWO_PLACES, "name": "Rochester Cruising Club", "action": "submit"}
    refused = api.post("/build", data=third)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3600"
    assert (
        "Not submitted: this server takes at most 2 submissions an hour from one address, and "
        "yours has sent them. Your form is kept below; try again in 60 minutes."
    ) in words(refused)
    # what the visitor typed is all still on the page
    assert 'value="Rochester Cruising Club"' in refused.text
    assert 'value="1 Peartree Way"' in refused.text and 'value="Thames Barrier Park slipway"' in (
        refused.text
    )
    preview = api.post("/build", data={**third, "action": "preview"})
    assert snippet_of(refused.text) == snippet_of(preview.text)
    assert Submissions(store).count("pending") == 2
    # another visitor is not shut out
    other = from_address(api, "198.51.100.30").post("/build", data=third)
    assert other.status_code == 200 and "submission 3 is waiting" in other.text
    clock.advance(3600)
    again = api.post("/build", data=third)
    assert again.status_code == 200 and "submission 4 is waiting" in again.text
    store.close()


def test_the_limiter_forgets_idle_visitors_and_caps_how_many_it_holds() -> None:
    clock = Clock()
    limiter = WindowLimiter(2, 60.0, max_keys=3, clock=clock)
    assert limiter.acquire("a") == 0.0 and limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == 60.0 and limiter.retry_after("a") == 60.0
    limiter.release("a")  # what it allowed did not happen: one place back
    assert limiter.acquire("a") == 0.0 and limiter.hit("a") == 60.0
    clock.advance(30)
    for key in ("b", "c"):
        assert limiter.hit(key) == 0.0
    assert len(limiter) == 3
    clock.advance(31)  # "a" has been idle for a whole window: forgotten at the next event
    limiter.hit("d")
    assert len(limiter) == 3 and limiter.retry_after("a") == 0.0
    for key in ("e", "f", "g"):
        limiter.hit(key)
        limiter.hit(key)
    assert len(limiter) == 3  # the least recently active made way
    assert [limiter.retry_after(k) > 0 for k in "bcdefg"] == [False] * 3 + [True] * 3
    with pytest.raises(ValueError, match="limit >= 1"):
        WindowLimiter(0, 60.0)


def test_session_cookies_are_guesses_at_the_token_too(tmp_path: Path) -> None:
    """The session cookie is worked out from the token by a public recipe, so a guesser can
    send the cookie of each guess: wrong cookies count as failed sign-ins, and while the
    address is locked even the right cookie is not compared."""
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    api, clock = limited(store, "203.0.113.12", admin_token=TOKEN)
    for n in range(1, 5):
        cookie = {"Cookie": f"{COOKIE}={session_value(f'guess-{n}')}"}
        wrong = api.get("/admin", headers=cookie)
        assert wrong.status_code == 200 and 'name="token"' in wrong.text, n  # signed out
        assert (
            f"{COOKIE}=" in wrong.headers["set-cookie"]
            and "Max-Age=0" in (wrong.headers["set-cookie"])
        )  # the browser drops a wrong (say, an old token's) cookie
    fifth = api.get("/admin", headers={"Cookie": f"{COOKIE}=0123abcd"})
    assert fifth.status_code == 429 and fifth.headers["retry-after"] == "900"
    right = {"Cookie": f"{COOKIE}={session_value(TOKEN)}"}
    locked = api.get("/admin", headers=right)
    assert locked.status_code == 429 and locked.headers["retry-after"] == "900"
    assert "Approve" not in locked.text and "set-cookie" not in locked.headers
    clock.advance(15 * 60)
    signed = api.get("/admin", headers=right)
    assert signed.status_code == 200 and 'name="token"' not in signed.text
    store.close()


def test_pages_that_show_the_signed_in_state_count_bearer_guesses(tmp_path: Path) -> None:
    """A sign-in refused for coming from another site still shows whether the request is
    signed in: the bearer token it carries is counted there as anywhere else."""
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    api, _ = limited(store, "2001:db8:77::5", admin_token=TOKEN)
    cross = {"Origin": "https://elsewhere.example"}
    for n in range(1, 6):
        guess = {**cross, "Authorization": f"Bearer guess-{n}"}
        page = api.post("/admin/login", data={"token": "x"}, headers=guess)
        assert page.status_code == 401 and 'name="token"' in page.text, n
        assert "did not come from this server's moderators' page" in words(page)
    right = {**cross, "Authorization": f"Bearer {TOKEN}"}
    during = api.post("/admin/login", data={"token": "x"}, headers=right)
    assert during.status_code == 401 and 'name="token"' in during.text  # not compared
    assert api.get("/admin", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 429
    store.close()


def test_a_submission_the_store_failed_to_keep_does_not_count(tmp_path: Path) -> None:
    """The store fails while a submission is written (here its table is briefly missing):
    the visitor's hourly allowance is not used up by what was never kept."""
    import sqlite3

    path = tmp_path / "clubs.sqlite3"
    store = SQLiteStore(path)
    store.migrate()
    api, _ = limited(store, "203.0.113.40", accept_submissions="yes", submissions_per_hour=1)
    club = {**TWO_PLACES, "action": "submit"}
    with sqlite3.connect(path) as outage:
        outage.execute("ALTER TABLE webtools_submissions RENAME TO away")
    with pytest.raises(sqlite3.OperationalError, match="webtools_submissions"):
        api.post("/build", data=club)
    with sqlite3.connect(path) as repair:
        repair.execute("ALTER TABLE away RENAME TO webtools_submissions")
    kept = api.post("/build", data=club)
    assert kept.status_code == 200 and "submission 1 is waiting" in kept.text
    assert api.post("/build", data=club).status_code == 429  # the allowance was one
    store.close()
