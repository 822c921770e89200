"""The /find page in a real headless Chromium: search by activity and postcode, the list and
the map's markers, keyboard-only use, a phone-sized screen, and markup in data shown as text.
A screenshot of the results is left in build/test-artifacts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openclubs.publish.app import create_app
from openclubs.publish.settings import Settings
from openclubs.store.base import open_store
from tests.helpers import ARTIFACTS, serve_app
from tests.test_find import MARTIAL_ARTS_NEAR_SE10
from tests.test_search import load
from tests.test_search_place import FakePostcodesIo, running_postcodes_io


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture
def site(tmp_path: Path, vocab_cache: Path) -> Iterator[str]:
    store = open_store(str(tmp_path / "clubs.sqlite3"))
    store.migrate()
    load(store)
    fake: FakePostcodesIo
    with running_postcodes_io() as fake:
        settings = {"postcode_lookup": fake.url, "map_tiles": ""}
        with serve_app(lambda base: create_app(store, Settings(base_url=base, **settings))) as base:
            yield base
    store.close()


def test_search_list_map_and_club_page(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(1280, 900)
    browser.get(site + "/find")
    activity = browser.find_element(By.ID, "f-activity")
    activity.send_keys("Martial")
    options = wait_for(
        lambda: [
            o.get_attribute("value")
            for o in browser.find_elements(By.CSS_SELECTOR, "#activity-options option")
        ]
    )
    assert options[0] == "Martial Arts"  # suggested from the Activity List as it is typed
    activity.send_keys(" Arts")
    near = browser.find_element(By.ID, "f-near")
    near.send_keys("se10 0bw")
    near.send_keys(Keys.ENTER)
    assert wait_for(
        lambda: "near=se10" in browser.current_url and browser.find_elements(By.ID, "map")
    )
    listed = [
        e.get_attribute("data-key") for e in browser.find_elements(By.CSS_SELECTOR, "li.result")
    ]
    assert listed == MARTIAL_ARTS_NEAR_SE10
    markers = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#map .leaflet-marker-icon"))
    assert sorted(m.get_attribute("data-page") for m in markers) == sorted(
        f"/clubs/{key}" for key in MARTIAL_ARTS_NEAR_SE10
    )
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.result h3")]
    assert "<script>alert(1)</script>" in names  # shown as text, never run
    assert browser.execute_script("return document.querySelectorAll('script').length") == 3
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1280, 2600)  # the whole page: form, list and map
    browser.save_screenshot(str(ARTIFACTS / "find-results.png"))
    browser.set_window_size(1280, 900)

    # a marker's popup links to the club's page
    markers[0].click()
    popup_link = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".leaflet-popup a"))
    assert popup_link[0].get_attribute("href").startswith(site + "/clubs/")

    # a phone-sized screen: nothing wider than the screen
    browser.set_window_size(390, 844)
    wide = browser.execute_script(
        "return document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    assert not wide
    browser.save_screenshot(str(ARTIFACTS / "find-results-phone.png"))
    browser.set_window_size(1280, 900)


def test_keyboard_only(browser: Any, site: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def press(key: str) -> None:
        ActionChains(browser).send_keys(key).perform()

    def focused() -> Any:
        return browser.switch_to.active_element

    browser.get(site + "/find")
    order = []
    for _ in range(8):
        press(Keys.TAB)
        order.append(focused().get_attribute("id") or focused().text)
        if order[-1] == "f-activity":
            break
    assert "Skip to results" in order and order[-1] == "f-activity"
    assert order.index("Skip to results") < order.index("f-activity")
    ActionChains(browser).send_keys("judo").perform()
    press(Keys.TAB)
    assert focused().get_attribute("id") == "f-near"
    ActionChains(browser).send_keys("SE10").perform()  # a postcode district
    press(Keys.ENTER)
    assert wait_for(lambda: "near=SE10" in browser.current_url)
    # focus moves to the results heading, which says what the search found; Tab goes on
    # from there (the facets, then the clubs), not from the top of the form
    assert wait_for(lambda: focused().get_attribute("id") == "results-heading")
    assert focused().text.startswith("Results: ") and "club" in focused().text
    for _ in range(12):
        press(Keys.TAB)
        if focused().text == "Riverside Judo Club":
            break
    assert focused().text == "Riverside Judo Club"
    press(Keys.ENTER)
    assert wait_for(lambda: browser.current_url.endswith("/clubs/judo-1km"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Riverside Judo Club"
    # a search with mistakes: focus goes to the summary, whose links lead to the fields
    browser.get(site + "/find?activity=Karatay&near=Greenwich")
    assert wait_for(lambda: focused().get_attribute("id") == "errors")
    press(Keys.TAB)
    assert focused().get_attribute("href").endswith("#f-activity")
    press(Keys.ENTER)
    assert wait_for(lambda: focused().get_attribute("id") == "f-activity")
