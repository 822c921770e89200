"""/validate, POST /api/validate and /build without a browser (in-process HTTP): the same
report as the CLI, grouped and located; a web page fetched safely; the snippet rendered on
the server valid against the Club Specification; postcodes looked up with the three kinds
of failure told apart; and every user-supplied string escaped."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openclubs.publish.app import create_app
from openclubs.publish.settings import Settings
from openclubs.store import SQLiteStore
from openclubs.validate import validate, validate_sources
from openclubs.webtools.submissions import Submissions
from tests.conftest import LocalSite
from tests.helpers import EXAMPLES, ROOT

EXAMPLE_2 = EXAMPLES / "02-club-spec-0.2-example2-greenwich-yc-recommended.html"
EXAMPLE_3 = EXAMPLES / "03-club-spec-0.2-example3-greenwich-yc-optional.html"
GREENWICH = ROOT / "examples" / "greenwich-yacht-club.jsonld"
HOSTILE = [
    "<script>alert('name')</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><svg onload=alert(2)>",
    "'; alert(3); //",
]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "clubs.sqlite3")
    db.migrate()
    yield db
    db.close()


def client(store: Any, **settings: Any) -> TestClient:
    settings.setdefault("postcode_lookup", "none")
    app = create_app(store, Settings(base_url="https://clubs.example.org", **settings))
    return TestClient(app, base_url="https://testserver")  # https: the admin cookie is Secure


def snippet_of(page: str) -> str:
    """The snippet as the page shows it (the text of <pre id="snippet">)."""
    match = re.search(r'<pre class="snippet" id="snippet"[^>]*>(.*?)</pre>', page, re.S)
    assert match, "the page has no snippet"
    return html.unescape(match.group(1))


def record_of(snippet: str) -> dict[str, Any]:
    start, end = snippet.index(">\n") + 2, snippet.rindex("\n</script>")
    value: dict[str, Any] = json.loads(snippet[start:end])
    return value


# -- /validate and /api/validate ----------------------------------------------------------------


def test_example_2_is_reported_grouped_located_and_explained(sqlite_store: SQLiteStore) -> None:
    page = client(sqlite_store).post("/validate", data={"text": EXAMPLE_2.read_text()})
    assert page.status_code == 200
    text = page.text
    assert "Not valid yet: fix the failures first." in text
    # failures come first, then notices; each with where it is, the fix and the clause
    assert text.index("Fix these first (failures): 4") < text.index("Good to know (notices): 1")
    escape = text[text.index('data-type="json_invalid_escape"') :]
    assert "(line 16, column 56)" in escape[:400]
    assert "Write <code>#</code> without the backslash." in escape  # code, not backticks
    assert "club-specification/0.2/#formats" in escape
    assert "activity-list\\#d2733a1c" in escape  # the offending line itself is shown
    assert "<code>{</code> opened at line 2 is never closed: add <code>}</code> at the end." in text
    assert "use &#34;GB&#34;" in text


def test_where_is_said_in_words_and_the_excerpt_fits_a_phone(sqlite_store: SQLiteStore) -> None:
    """A secretary reads "location › address › addressCountry", not a JSONPath (kept for
    developers, after the clause); the offending line is shown without its indentation and
    cut around the column, so the caret is on a phone's screen; the page's title and
    focus go to the verdict, so a screen reader hears the result after the reload."""
    text = client(sqlite_store).post("/validate", data={"text": EXAMPLE_2.read_text()}).text
    country = text[text.index('data-type="invalid_country_code"') :]
    country = country[: country.index("</li>")]
    assert "(line 36, column 13; at location › address › addressCountry)" in country
    assert "for developers: <code>invalid_country_code</code> at " in country
    assert "<code>$.location.address.addressCountry</code>)" in country
    excerpt = re.search(r'<pre class="excerpt">(.*?)</pre>', country, re.S)
    assert excerpt is not None
    shown, caret = html.unescape(re.sub(r"<[^>]+>", "", excerpt.group(1))).split("\n")
    assert shown == '36 | "addressCountry": "UK"'  # the 12 spaces of indentation gone
    assert caret.index("^") == shown.index('"addressCountry"')
    escape = text[text.index('data-type="json_invalid_escape"') :]
    line = re.search(r'<span class="lineno">16 \|</span> (.*)', escape)
    assert line is not None and len(html.unescape(line.group(1))) <= 62  # 60 and two …
    assert html.unescape(line.group(1)).startswith("…")
    assert "<title>Not valid yet: fix the failures first. – Check your club data" in text
    assert '<h2 id="report-heading" tabindex="-1" autofocus>' in text
    assert '<a href="#report-heading">Skip to the report</a>' in text


def test_an_address_without_https_is_fetched_as_https(sqlite_store: SQLiteStore) -> None:
    """People type "www.myclub.org.uk": that is https://www.myclub.org.uk/, not an error
    about schemes (the fetch is refused here only because the name is not public)."""
    body = client(sqlite_store).post("/api/validate", params={"url": "localhost:9/club"}).json()
    message = body["issues"][0]["message"]
    assert message.startswith("https://localhost:9/club: localhost resolves to")
    assert "loopback" in message and "only http and https" not in message


def test_the_api_returns_the_cli_report(sqlite_store: SQLiteStore) -> None:
    api = client(sqlite_store)
    for path in (EXAMPLE_2, EXAMPLE_3, GREENWICH):
        answer = api.post(
            "/api/validate", content=path.read_bytes(), headers={"content-type": "text/html"}
        )
        assert answer.status_code == 200
        body = answer.json()
        cli = validate_sources([str(path)]).to_dict()
        strip = [{k: v for k, v in i.items() if k != "file"} for i in cli["issues"]]
        assert [{k: v for k, v in i.items() if k != "file"} for i in body["issues"]] == strip
        assert (body["valid"], body["records"], body["counts"]) == (
            cli["valid"],
            cli["records"],
            cli["counts"],
        )
        assert body["source"] == {"kind": "text", "name": "pasted text"}
    assert api.post("/api/validate", content=GREENWICH.read_bytes()).json()["verdict"] == (
        "Valid: no failures against the Club Specification."
    )


def test_the_api_error_shape(sqlite_store: SQLiteStore) -> None:
    api = client(sqlite_store)
    answer = api.post("/api/validate", content=b"   ")
    assert answer.status_code == 400
    assert answer.json() == {
        "ok": False,
        "error": "Paste some JSON-LD, choose a file, or give the address of a web page.",
        "errors": [],
        "status": 400,
    }
    big = api.post("/api/validate", content=b"[" + b" " * (3 * 1024 * 1024) + b"]")
    assert big.status_code == 413 and big.json()["ok"] is False


def test_an_uploaded_file_is_checked(sqlite_store: SQLiteStore) -> None:
    files = {"file": (EXAMPLE_3.name, EXAMPLE_3.read_bytes(), "text/html")}
    page = client(sqlite_store).post("/validate", data={"text": ""}, files=files)
    assert page.status_code == 200
    assert f"Checked: {EXAMPLE_3.name}." in page.text
    assert "memberOf names rather than identifies" in page.text
    assert "(line 86, column 10)" in page.text  # the trailing comma near the end


def test_nothing_to_check_is_a_clear_400(sqlite_store: SQLiteStore) -> None:
    page = client(sqlite_store).post("/validate", data={"text": "  ", "url": ""})
    assert page.status_code == 400
    assert "Paste some JSON-LD, choose a file, or give the address" in page.text


def test_a_web_page_is_fetched_only_when_allowed(
    sqlite_store: SQLiteStore, local_site: LocalSite
) -> None:
    url = local_site.add("/club.html", EXAMPLE_3.read_text(), content_type="text/html")
    refused = client(sqlite_store).post("/api/validate", params={"url": url}).json()
    assert refused["unreadable"] is True and refused["valid"] is False
    assert refused["issues"][0]["type"] == "source_unreadable"
    assert "127.0.0.1 is a loopback address" in refused["issues"][0]["message"]
    assert local_site.requests == []  # refused before any connection
    allowed = client(sqlite_store, fetch_allow="127.0.0.1")
    page = allowed.post("/validate", data={"url": url})
    assert f"the page at <code>{url}</code>" in page.text
    assert "Country not an ISO 3166-1 alpha-2 code" in page.text
    body = allowed.post("/api/validate", params={"url": url}).json()
    assert body["source"] == {"kind": "url", "name": url, "url": url}
    assert body["records"] == 1 and local_site.requests == ["/club.html", "/club.html"]


def test_the_personal_contact_notice_is_surfaced(sqlite_store: SQLiteStore) -> None:
    record = json.loads(GREENWICH.read_text())
    record["email"] = "jo.bloggs1962@gmail.com"
    record["telephone"] = "07700 900123"
    page = client(sqlite_store).post("/validate", data={"text": json.dumps(record)})
    assert page.text.count("Looks like a personal contact") == 2
    assert "which looks like a personal mailbox" in page.text
    assert "often a volunteer&#39;s own phone" in page.text
    built = client(sqlite_store).post("/build", data={**TWO_PLACES, "email": record["email"]})
    assert (
        '<a href="#email">Club email</a> (good to know): '
        "<strong>Looks like a personal contact</strong>. <code>email</code> is"
    ) in built.text


# -- /build without JavaScript ------------------------------------------------------------------


TWO_PLACES = {
    "name": "Greenwich Yacht Club",
    "description": "Community amateur sports club focused on getting people sailing.",
    "url": "https://www.greenwichyachtclub.co.uk/",
    "same_as": "https://www.facebook.com/GreenwichYachtClub/\r\nhttps://www.twitter.com/greenwichYC",
    "email": "training@greenwichyachtclub.co.uk",
    "telephone": "020 8858 7339",
    "activity": ["Yachting", "rowing", "Canoeing", "", "Sailing"],
    "locations": "2",
    "loc-0-name": "Peartree Wharf",
    "loc-0-street": "1 Peartree Way",
    "loc-0-locality": "Greenwich",
    "loc-0-region": "London",
    "loc-0-postcode": "se100bw",
    "loc-0-country": "gb",
    "loc-0-lat": "51.4955",
    "loc-0-lon": "0.018473",
    "loc-0-amenity": ["Showers", "Toilets", "Bogus"],
    "loc-1-name": "Thames Barrier Park slipway",
    "loc-1-lat": "51.5",
    "loc-1-lon": "0.03",
    "loc-1-country": "GB",
    "age_min": "8",
    "age_max": "",
    "gender": "https://openactive.io/NoRestriction",
    "member_of": "https://www.rya.org.uk/",
    "action": "preview",
}


def test_build_renders_a_valid_snippet_without_javascript(sqlite_store: SQLiteStore) -> None:
    page = client(sqlite_store).post("/build", data=TWO_PLACES)
    assert page.status_code == 200
    snippet = snippet_of(page.text)
    report = validate(snippet)
    assert report.records == 1 and report.failures == []
    record = record_of(snippet)
    assert record["@id"] == "https://www.greenwichyachtclub.co.uk/"
    # Yachting is a synonym of Sailing: counted once; the rest resolved to the Activity List
    assert [a["prefLabel"] for a in record["activity"]] == ["Sailing", "Rowing", "Canoeing"]
    assert all(a["inScheme"] == "https://openactive.io/activity-list" for a in record["activity"])
    first, second = record["location"]
    assert first["address"]["postalCode"] == "SE10 0BW"  # any case and spacing in, canonical out
    assert first["address"]["addressCountry"] == "GB"
    assert [f["@type"] for f in first["amenityFeature"]] == ["Showers", "Toilets"]
    assert second == {
        "@type": "Place",
        "name": "Thames Barrier Park slipway",
        "geo": {"@type": "GeoCoordinates", "latitude": 51.5, "longitude": 0.03},
    }
    assert record["ageRange"] == {"@type": "QuantitativeValue", "minValue": 8}
    assert "Valid: no failures against the Club Specification." in page.text


def test_build_lists_what_is_missing(sqlite_store: SQLiteStore) -> None:
    """In the form's words, each item a link to the field to fill (no JSON in sight)."""
    page = client(sqlite_store).get("/build")
    assert page.status_code == 200
    text = page.text
    assert (
        '<a href="#name">Club name</a> (must fix): Required. Add the club&#39;s name.</li>' in text
    )
    assert '<a href="#activity-0">Activity 1</a> (must fix): Required. Type at least one' in text
    assert '<a href="#loc-0-name">Location 1: Venue name</a> (must fix): Required. Say where' in (
        text
    )
    assert "PostalAddress" not in text[text.index('id="issues"') :]
    assert '<a href="#url">Contact details</a> (must fix): There is no way to contact' in text
    assert '"@type": "Concept"' not in text[text.index('id="issues"') :]  # no JSON examples
    assert '<p id="check-status" class="status" role="status" aria-live="polite">4 things' in (text)
    assert 'id="check" aria-labelledby="check-heading">' in text  # the list is not live
    assert '<option value="Soccer" label="Soccer → Football">' in text
    # the same, as JSON for the page's script, with the fields mapped past blank locations
    form = {
        **TWO_PLACES,
        "locations": "3",
        "loc-0-name": "",
        "loc-0-street": "",
        "loc-0-locality": "",
        "loc-0-region": "",
        "loc-0-postcode": "",
        "loc-0-lat": "",
        "loc-0-lon": "",
        "loc-0-amenity": [],
        "loc-0-country": "",
        "loc-2-name": "Boathouse",
        "loc-2-postcode": "SE10 0BW",
        "loc-2-country": "GB",
        "email": "not-an-email",
    }
    answer = client(sqlite_store).post("/webtools/check", data=form).json()
    assert answer["ok"] is True and answer["failures"] == 4
    where = {(i["field"], i["type"]) for i in answer["items"] if i["severity"] == "failure"}
    assert where == {
        ("email", "invalid_email"),
        ("loc-2-street", "missing_required_property"),
        ("loc-2-locality", "missing_required_property"),
        ("loc-2-region", "missing_required_property"),
    }
    others = len(answer["items"]) - 4
    assert answer["status"] == f"4 things still to fix, and {others} recommended."


def test_a_refused_submission_has_an_error_summary_linking_to_the_fields(
    sqlite_store: SQLiteStore,
) -> None:
    api = client(sqlite_store, accept_submissions="yes")
    form = {**TWO_PLACES, "name": "", "loc-1-lat": "91", "action": "submit"}
    page = api.post("/build", data=form)
    assert page.status_code == 422
    text = page.text
    assert "<title>Error – Build your club" in text
    summary = text[text.index('<div class="error-summary"') : text.index("</div>")]
    assert 'role="alert" tabindex="-1" autofocus' in summary
    assert "Not submitted: fix the 2 failure(s) listed below first." in summary
    assert '<a href="#name">Club name</a>: Required. Add the club&#39;s name.' in summary
    assert '<a href="#loc-1-lat">Location 2: Latitude</a>: <code>latitude</code> is 91' in summary
    # in the order of the form, not of the validator (street before town before postcode)
    bare = {**form, "loc-0-street": "", "loc-0-locality": "", "loc-0-postcode": "zz"}
    order = re.findall(r'<li><a href="#([\w-]+)">', api.post("/build", data=bare).text)
    assert order == ["name", "loc-0-street", "loc-0-locality", "loc-0-postcode", "loc-1-lat"]
    assert 'id="name" name="name" aria-invalid="true"' in text
    assert 'id="loc-1-lat" name="loc-1-lat" aria-invalid="true"' in text
    assert text.count('aria-invalid="true"') == 2
    # a plain preview is not an error: no summary, nothing marked invalid
    preview = api.post("/build", data={**form, "action": "preview"}).text
    assert "error-summary" not in preview and 'aria-invalid="true"' not in preview


def test_add_and_remove_locations_without_javascript(sqlite_store: SQLiteStore) -> None:
    api = client(sqlite_store)
    added = api.post("/build", data={**TWO_PLACES, "action": "add_location"})
    assert 'name="loc-2-name"' in added.text and 'value="3"' in added.text
    removed = api.post("/build", data={**TWO_PLACES, "action": "remove-0"})
    assert 'name="loc-1-name"' not in removed.text
    assert record_of(snippet_of(removed.text))["location"]["name"] == "Thames Barrier Park slipway"


def test_a_pasted_snippet_fills_the_form(sqlite_store: SQLiteStore) -> None:
    api = client(sqlite_store)
    page = api.post("/build", data={"paste": EXAMPLE_2.read_text(), "action": "load"})
    assert page.status_code == 200
    assert "The form now holds the pasted snippet (its JSON had mistakes, repaired here)." in (
        page.text
    )
    assert 'value="Greenwich Yacht Club"' in page.text
    assert 'value="Rowing"' in page.text and 'value="SE10 0BW"' in page.text
    assert "use &#34;GB&#34;" in page.text  # the UK country code is kept, and explained
    filled = api.post("/webtools/fill", content=EXAMPLE_3.read_bytes()).json()
    assert filled["ok"] is True
    fields = filled["fields"]
    assert fields["member_of"] == "Royal Yachting Association"
    assert fields["places"][0]["amenities"] == [
        "ChangingFacilities",
        "Showers",
        "Toilets",
        "Parking",
    ]
    assert [i["type"] for i in filled["issues"]] == ["json_invalid_escape", "json_trailing_comma"]
    broken = api.post("/webtools/fill", content=b'{"name": "x" "activity": []}').json()
    assert broken["status"] == 422 and "could not be read" in broken["error"]
    assert "Expecting ',' delimiter (line 1, column 14)" in broken["error"]


def test_round_trip_of_the_built_snippet(sqlite_store: SQLiteStore) -> None:
    """Pasting what /build produced gives back the same snippet."""
    api = client(sqlite_store)
    snippet = snippet_of(api.post("/build", data=TWO_PLACES).text)
    again = api.post("/build", data={"paste": snippet, "action": "load"})
    assert snippet_of(again.text) == snippet


# -- postcodes ------------------------------------------------------------------------------------


@pytest.fixture
def postcode_csv(tmp_path: Path) -> Path:
    path = tmp_path / "postcodes.csv"
    path.write_text("pcds,lat,long\nSE10 0BW,51.495500,0.018473\nSW1A 1AA,99.999999,0.000000\n")
    return path


def test_postcode_lookup_tells_the_three_failures_apart(
    sqlite_store: SQLiteStore, postcode_csv: Path, local_site: LocalSite, vocab_cache: Path
) -> None:
    api = client(sqlite_store, postcode_lookup=str(postcode_csv))
    found = api.get("/webtools/postcode", params={"q": " se10   0bw "}).json()
    assert found["status"] == "found" and found["postcode"] == "SE10 0BW"
    assert (found["latitude"], found["longitude"]) == (51.4955, 0.018473)
    invalid = api.get("/webtools/postcode", params={"q": "KK"}).json()
    assert invalid["status"] == "invalid" and invalid["message"].startswith("Not a postcode:")
    assert invalid["message"].count("not a postcode") == 0  # said once, not twice
    empty = api.get("/webtools/postcode", params={"q": "  "}).json()
    assert empty["status"] == "invalid" and "Type the postcode first" in empty["message"]
    missing = api.get("/webtools/postcode", params={"q": "N1 9GU"}).json()
    assert missing["status"] == "not_found" and missing["message"].startswith("Not found: N1 9GU")
    assert (
        "well-formed" not in missing["message"] and "latitude and longitude" in missing["message"]
    )
    nowhere = api.get("/webtools/postcode", params={"q": "SW1A1AA"}).json()
    assert nowhere["status"] == "not_found"  # listed without a location
    local_site.add("/postcodes", "overloaded", status=503, content_type="text/plain")
    down = client(sqlite_store, postcode_lookup=local_site.url(""))
    answer = down.get("/webtools/postcode", params={"q": "SE10 0BW"}).json()
    assert answer["status"] == "unavailable"
    assert answer["message"].startswith("Service unavailable:")
    off = client(sqlite_store).get("/webtools/postcode", params={"q": "SE10 0BW"}).json()
    assert off["status"] == "unavailable" and "no postcode look-up" in off["message"]


def test_postcode_lookup_without_javascript(sqlite_store: SQLiteStore, postcode_csv: Path) -> None:
    api = client(sqlite_store, postcode_lookup=str(postcode_csv))
    form = {**TWO_PLACES, "loc-0-lat": "", "loc-0-lon": "", "loc-0-postcode": "Se10 0bW"}
    page = api.post("/build", data={**form, "action": "lookup-0"})
    assert (
        'data-place-note tabindex="-1" autofocus>Found SE10 0BW: latitude 51.4955, '
        "longitude 0.018473.</p>"
    ) in page.text  # after the reload, focus (and a screen reader) is on the answer
    place = record_of(snippet_of(page.text))["location"][0]
    assert place["geo"] == {"@type": "GeoCoordinates", "latitude": 51.4955, "longitude": 0.018473}


# -- escaping -----------------------------------------------------------------------------------


def _assert_escaped(text: str) -> None:
    for hostile in HOSTILE:
        if "<" in hostile:
            assert hostile not in text, f"unescaped: {hostile}"
    assert "<img src=x" not in text and "<svg onload" not in text
    assert "<script>alert" not in text


def test_hostile_strings_are_escaped_everywhere(sqlite_store: SQLiteStore) -> None:
    api = client(sqlite_store, accept_submissions="yes", admin_token="t0ken")
    record = json.loads(GREENWICH.read_text())
    record["name"] = HOSTILE[0]
    record["description"] = HOSTILE[1]
    record["url"] = "javascript:alert(1)"
    record["sameAs"] = [HOSTILE[2]]
    record["email"] = HOSTILE[3]
    record[HOSTILE[1]] = HOSTILE[2]  # a hostile property name too
    pasted = json.dumps(record, indent=2)
    page = api.post("/validate", data={"text": pasted, "url": ""})
    assert page.status_code == 200
    _assert_escaped(page.text)
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page.text
    bad_url = api.post("/validate", data={"url": HOSTILE[1]})
    _assert_escaped(bad_url.text)
    built = api.post(
        "/build",
        data={
            "name": HOSTILE[0],
            "description": HOSTILE[2],
            "url": HOSTILE[1],
            "same_as": HOSTILE[3],
            "activity": [HOSTILE[1], "Rowing"],
            "loc-0-name": HOSTILE[2],
            "loc-0-postcode": HOSTILE[1],
            "member_of": HOSTILE[0],
            "action": "preview",
        },
    )
    _assert_escaped(built.text)
    snippet = snippet_of(built.text)
    assert "</script>" not in snippet[:-9]  # the snippet itself cannot close its own script
    assert record_of(snippet)["name"] == HOSTILE[0]
    loaded = api.post("/build", data={"paste": pasted, "action": "load"})
    _assert_escaped(loaded.text)
    # HTML in the text is a failure, so /build refuses to submit it ...
    hostile = dict(TWO_PLACES, name=HOSTILE[1], description=HOSTILE[0], action="submit")
    refused = api.post("/build", data=hostile)
    assert refused.status_code == 422 and Submissions(sqlite_store).count("pending") == 0
    _assert_escaped(refused.text)
    # ... and what is stored anyway (an older or crafted row) is escaped for the moderators
    Submissions(sqlite_store).add(record, [])
    api.post("/admin/login", data={"token": "t0ken"})
    admin = api.get("/admin")
    assert admin.status_code == 200 and "1. &lt;script&gt;alert(&#39;name&#39;)" in admin.text
    _assert_escaped(admin.text)
    for response in (page, built, admin):
        assert "script-src 'self'" in response.headers["content-security-policy"]


def test_code_in_messages_is_escaped_before_it_is_marked_up() -> None:
    from openclubs.webtools.report_view import with_code

    shown = str(with_code('`<img src=x onerror=alert(1)>` and "`</code><script>`"'))
    assert shown == (
        "<code>&lt;img src=x onerror=alert(1)&gt;</code> and "
        "&#34;<code>&lt;/code&gt;&lt;script&gt;</code>&#34;"
    )


def test_too_many_fetches_at_once_are_turned_away(
    sqlite_store: SQLiteStore, local_site: LocalSite
) -> None:
    """Slow pages cannot take every worker thread: past MAX_FETCHES fetches at once, the
    next person is told to try again, and no request is made for them."""
    from openclubs.webtools import validate_page

    url = local_site.add("/club.html", EXAMPLE_3.read_text(), content_type="text/html")
    api = client(sqlite_store, fetch_allow="127.0.0.1")
    taken = 0
    try:
        while validate_page.FETCH_SLOTS.acquire(blocking=False):  # as if 8 were in flight
            taken += 1
        assert taken == validate_page.MAX_FETCHES
        busy = api.post("/api/validate", params={"url": url}).json()
        assert "fetching too many pages just now" in busy["issues"][0]["message"]
        assert local_site.requests == []
    finally:
        for _ in range(taken):
            validate_page.FETCH_SLOTS.release()
    assert api.post("/api/validate", params={"url": url}).json()["records"] == 1
