"""The web tools in a real headless Chromium: build a club with two locations and three
activities, copy its snippet, check it at /validate; see Example 2's syntax error located
and explained; validate a page on 127.0.0.1 that embeds the snippet; paste a snippet to edit
it; hostile text stays text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from openclubs.publish.app import create_app
from openclubs.publish.settings import Settings
from openclubs.store import SQLiteStore
from openclubs.validate import validate
from tests.conftest import LocalSite
from tests.helpers import ARTIFACTS, EXAMPLES, serve_app
from tests.test_webtools_pages import TWO_PLACES, record_of, snippet_of

EXAMPLE_2 = EXAMPLES / "02-club-spec-0.2-example2-greenwich-yc-recommended.html"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    csv = tmp_path / "postcodes.csv"
    csv.write_text("postcode,latitude,longitude\nSE10 0BW,51.4955,0.018473\n")
    settings = {"fetch_allow": "127.0.0.1", "postcode_lookup": str(csv)}
    with serve_app(lambda base: create_app(store, Settings(base_url=base, **settings))) as base:
        yield base
    store.close()


def wait(browser: Any, condition: Any, timeout: float = 10) -> Any:
    """Wait until `condition(browser)` is true. An element read while the page is being
    replaced (a form posted, a list rebuilt) goes stale: that is "not yet", so try again."""
    return WebDriverWait(
        browser, timeout, ignored_exceptions=(StaleElementReferenceException,)
    ).until(condition)


def open_build(browser: Any, site: str) -> None:
    browser.get(site + "/build")
    wait(browser, lambda b: b.find_element(By.ID, "build").get_attribute("data-ready") == "yes")


def type_into(browser: Any, element_id: str, text: str) -> None:
    field = browser.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def snippet_text(browser: Any) -> str:
    text: str = browser.find_element(By.ID, "snippet").get_attribute("textContent")
    return text


def set_value(browser: Any, element: Any, text: str) -> None:
    """Put a long text into a field at once (typing it key by key is slow)."""
    browser.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        element,
        text,
    )


def fill_two_places(browser: Any) -> None:
    """The form of TWO_PLACES, typed as a person would (the postcode in lower case, no
    space; the second location added with the button)."""
    for key in ("name", "url", "email", "telephone", "member_of"):
        type_into(browser, key, str(TWO_PLACES[key]))
    type_into(browser, "description", str(TWO_PLACES["description"]))
    type_into(browser, "same_as", str(TWO_PLACES["same_as"]).replace("\r\n", "\n"))
    for n, activity in enumerate(["Yachting", "rowing", "Canoeing"]):
        type_into(browser, f"activity-{n}", activity)
    browser.find_element(By.ID, "add-activity").click()
    type_into(browser, "activity-3", "Sailing")
    for key in ("name", "street", "locality", "region", "postcode"):
        type_into(browser, f"loc-0-{key}", str(TWO_PLACES[f"loc-0-{key}"]))
    type_into(browser, "loc-0-country", "gb")
    # the postcode look-up fills the coordinates
    browser.find_element(By.CSS_SELECTOR, "button[value='lookup-0']").click()
    wait(browser, lambda b: b.find_element(By.ID, "loc-0-lat").get_attribute("value") != "")
    for kind in ("Showers", "Toilets"):
        browser.find_element(
            By.CSS_SELECTOR, f"input[name='loc-0-amenity'][value='{kind}']"
        ).click()
    browser.find_element(By.ID, "add-location").click()
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#places [data-place]")) == 2)
    type_into(browser, "loc-1-name", str(TWO_PLACES["loc-1-name"]))
    type_into(browser, "loc-1-lat", "51.5")
    type_into(browser, "loc-1-lon", "0.03")
    type_into(browser, "age_min", "8")
    Select(browser.find_element(By.ID, "gender")).select_by_value(
        "https://openactive.io/NoRestriction"
    )


def test_build_copy_and_validate(browser: Any, site: str) -> None:
    open_build(browser, site)
    fill_two_places(browser)
    note = browser.find_element(By.CSS_SELECTOR, "#places [data-place-note]").text
    assert note == "Found SE10 0BW: latitude 51.4955, longitude 0.018473."
    wait(browser, lambda b: "Thames Barrier Park slipway" in snippet_text(b))
    wait(
        browser,
        lambda b: (
            b.find_element(By.ID, "verdict").text
            == "Valid: no failures against the Club Specification."
        ),
    )
    snippet = snippet_text(browser)
    record = record_of(snippet)
    assert [a["prefLabel"] for a in record["activity"]] == ["Sailing", "Rowing", "Canoeing"]
    assert record["location"][0]["address"]["postalCode"] == "SE10 0BW"
    assert len(record["location"]) == 2
    # a snippet the page produced is valid, and is what the server renders without JavaScript
    assert validate(snippet).failures == []
    form = {**TWO_PLACES, "activity": ["Yachting", "rowing", "Canoeing", "Sailing"]}
    server = httpx.post(site + "/build", data=form)
    assert snippet_of(server.text) == snippet
    # copy: the status message says what happened (the clipboard itself is the browser's)
    browser.find_element(By.ID, "copy").click()
    status = wait(browser, lambda b: b.find_element(By.ID, "copy-status").text)
    assert status in (
        "Copied the snippet to the clipboard.",
        "The snippet is selected: press Ctrl+C (or ⌘C) to copy it.",
    )
    browser.find_element(By.ID, "download").click()
    wait(
        browser,
        lambda b: (
            b.find_element(By.ID, "copy-status").text
            == "Downloaded greenwich-yacht-club-jsonld.html."
        ),
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(ARTIFACTS / "webtools-build-form.png"))
    browser.execute_script("document.getElementById('snippet').scrollIntoView()")
    browser.save_screenshot(str(ARTIFACTS / "webtools-build.png"))
    # paste it into /validate: no failures
    browser.get(site + "/validate")
    set_value(browser, browser.find_element(By.ID, "text"), snippet)
    browser.find_element(By.CSS_SELECTOR, "form.validate button[type=submit]").click()
    heading = wait(browser, lambda b: b.find_element(By.ID, "report-heading"))
    assert heading.text == "Valid: no failures against the Club Specification."
    assert browser.find_elements(By.CSS_SELECTOR, ".group.failure") == []


def test_example_2_syntax_error_is_located_with_its_fix(browser: Any, site: str) -> None:
    browser.get(site + "/validate")
    set_value(browser, browser.find_element(By.ID, "text"), EXAMPLE_2.read_text())
    browser.find_element(By.CSS_SELECTOR, "form.validate button[type=submit]").click()
    issue = wait(
        browser, lambda b: b.find_element(By.CSS_SELECTOR, "li[data-type=json_invalid_escape]")
    )
    assert "(line 16, column 56)" in issue.text
    assert "Write # without the backslash." in issue.text  # `#` shown as code
    excerpt = issue.find_element(By.CSS_SELECTOR, "pre.excerpt").text
    assert excerpt.splitlines()[0].startswith("16 |")
    assert excerpt.splitlines()[1].endswith("^")
    failures = browser.find_element(By.CSS_SELECTOR, ".group.failure h3").text
    assert failures == "Fix these first (failures): 4"
    browser.save_screenshot(str(ARTIFACTS / "webtools-validate-example-2.png"))


def test_validate_a_page_on_127_0_0_1(browser: Any, site: str, local_site: LocalSite) -> None:
    snippet = snippet_of(httpx.post(site + "/build", data=TWO_PLACES).text)
    page = (
        "<!DOCTYPE html>\n<html><head><title>Greenwich Yacht Club</title>\n"
        f"{snippet}\n</head><body><h1>Welcome</h1></body></html>\n"
    )
    url = local_site.add("/", page, content_type="text/html; charset=utf-8")
    browser.get(site + "/validate")
    type_into(browser, "url", url)
    browser.find_element(By.CSS_SELECTOR, "form.validate button[type=submit]").click()
    heading = wait(browser, lambda b: b.find_element(By.ID, "report-heading"))
    assert heading.text == "Valid: no failures against the Club Specification."
    assert url in browser.find_element(By.CSS_SELECTOR, "p.checked").text
    assert local_site.requests == ["/"]


def test_pasting_a_snippet_fills_the_form(browser: Any, site: str) -> None:
    open_build(browser, site)
    browser.find_element(By.CSS_SELECTOR, "#paste-box summary").click()
    set_value(browser, browser.find_element(By.ID, "paste"), EXAMPLE_2.read_text())
    browser.find_element(By.ID, "load").click()
    wait(
        browser,
        lambda b: b.find_element(By.ID, "name").get_attribute("value") == "Greenwich Yacht Club",
    )
    assert "repaired here" in browser.find_element(By.ID, "paste-status").text
    assert browser.find_element(By.ID, "activity-0").get_attribute("value") == "Rowing"
    assert browser.find_element(By.ID, "loc-0-postcode").get_attribute("value") == "SE10 0BW"
    wait(browser, lambda b: "Greenwich Yacht Club" in snippet_text(b))
    # the country is kept as published ("UK") and the check says what to write instead
    wait(browser, lambda b: 'use "GB"' in b.find_element(By.ID, "issues").text)
    type_into(browser, "loc-0-country", "GB")
    wait(browser, lambda b: '"addressCountry": "GB"' in snippet_text(b))


def test_hostile_text_stays_text(browser: Any, site: str) -> None:
    open_build(browser, site)
    hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    type_into(browser, "name", hostile)
    type_into(browser, "activity-0", hostile)
    type_into(browser, "loc-0-name", "</script><svg onload=alert(3)>")
    wait(browser, lambda b: "onerror" in snippet_text(b))
    wait(browser, lambda b: "HTML in a plain-text property" in b.find_element(By.ID, "issues").text)
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    for area in ("snippet", "issues", "check"):
        element = browser.find_element(By.ID, area)
        assert element.find_elements(By.CSS_SELECTOR, "img, svg, script") == []
    # numbers as people type them: the same JSON from the script and from the server
    type_into(browser, "loc-0-lat", "51.50")
    type_into(browser, "loc-0-lon", "-0.0")
    type_into(browser, "loc-0-postcode", " se1   9sg")
    type_into(browser, "age_max", "18")
    wait(browser, lambda b: '"maxValue": 18' in snippet_text(b))
    form = {
        "name": hostile,
        "activity": [hostile, "", ""],
        "locations": "1",
        "loc-0-name": "</script><svg onload=alert(3)>",
        "loc-0-lat": "51.50",
        "loc-0-lon": "-0.0",
        "loc-0-postcode": " se1   9sg",
        "loc-0-country": "GB",
        "age_max": "18",
    }
    assert snippet_of(httpx.post(site + "/build", data=form).text) == snippet_text(browser)
    record = record_of(snippet_text(browser))
    assert record["location"]["geo"] == {
        "@type": "GeoCoordinates",
        "latitude": 51.5,
        "longitude": 0,
    }
    assert record["location"]["address"]["postalCode"] == "SE1 9SG"
    assert record["name"] == hostile
    assert '"name": "<\\/script><svg onload=alert(3)>"' in snippet_text(browser)
    assert json.loads(json.dumps(record))["location"]["name"] == "</script><svg onload=alert(3)>"


def test_on_a_phone_with_a_keyboard_and_a_screen_reader(browser: Any, site: str) -> None:
    """At 390 px nothing scrolls sideways; after checking, focus is on the verdict; the list
    of what is missing links to its fields (the cursor lands in the field); the live status
    is one short line; focus is visible; amenities are a group with a legend."""
    browser.set_window_size(390, 844)
    try:
        open_build(browser, site)
        width = "return document.documentElement.scrollWidth"
        assert browser.execute_script(width) <= 390  # a fieldset no longer forces 500 px
        amenities = browser.find_element(By.CSS_SELECTOR, "#places fieldset.amenities legend")
        assert amenities.text == "Amenities at this location"
        status = browser.find_element(By.ID, "check-status")
        assert status.get_attribute("aria-live") == "polite"
        assert browser.find_element(By.ID, "check").get_attribute("aria-live") is None
        type_into(browser, "name", "Greenwich Yacht Club")
        wait(browser, lambda b: b.find_element(By.ID, "check-status").text.startswith("3 things"))

        def follow_link(b: Any) -> bool:
            """Click the list's link to the first activity (the list is rebuilt after each
            check: a link gone stale meanwhile is retried by `wait`)."""
            link = b.find_element(By.CSS_SELECTOR, '#issues a[href="#activity-0"]')
            assert link.text == "Activity 1"
            link.click()
            return bool(b.switch_to.active_element.get_attribute("id") == "activity-0")

        wait(browser, follow_link)
        browser.switch_to.active_element.send_keys(Keys.TAB)  # the keyboard, to the next one
        focused = browser.switch_to.active_element
        assert focused.get_attribute("id") == "activity-1"
        ring = browser.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth]",
            focused,
        )
        assert ring == ["solid", "3px"]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "webtools-build-phone.png"))
        browser.get(site + "/validate")
        set_value(browser, browser.find_element(By.ID, "text"), EXAMPLE_2.read_text())
        browser.find_element(By.CSS_SELECTOR, "form.validate button[type=submit]").click()
        wait(browser, lambda b: b.switch_to.active_element.get_attribute("id") == "report-heading")
        assert browser.title.startswith("Not valid yet: fix the failures first.")
        assert browser.execute_script(width) <= 390
        caret = browser.find_element(By.CSS_SELECTOR, "li[data-type=json_invalid_escape] .caret")
        assert caret.location["x"] + caret.size["width"] <= 390  # the caret is on screen
        browser.save_screenshot(str(ARTIFACTS / "webtools-validate-phone.png"))
    finally:
        browser.set_window_size(1280, 900)
