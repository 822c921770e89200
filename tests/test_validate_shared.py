"""The validator's shortcuts must not change what it reports: issues shared between records
(Collector.add / Collector.missing), objects remembered by content (memoised), and the
string tests that stand in for regular expressions (plain_text, is_url)."""

from __future__ import annotations

import copy
import csv
import json
import re
from typing import Any

from openclubs.validate.engine import check_record
from openclubs.validate.report import make_issue
from openclubs.validate.rules.common import is_url, plain_text
from tests.helpers import EXAMPLES, SHARED

AL = "https://openactive.io/activity-list"
# The expressions plain_text and is_url replaced (as they were in rules/common.py).
PLAIN_RE = re.compile(r"[^\s<&](?:[^<&\n]*[^\s<&])?\Z")
URL_RE = re.compile(
    r"^https?://[^\s/?#]+\.[^\s/?#]+[^\s]*$|^https?://(?:localhost|[\d.]+)(?::\d+)?(?:[/?#]\S*)?$"
)


def club(**changes: Any) -> dict[str, Any]:
    """A valid record shaped like Club Spec 0.2 Example 3 (as a register import makes it)."""
    record: dict[str, Any] = {
        "@context": "https://openactive.io/",
        "@type": "SportsClub",
        "@id": "https://clubs.example.org/id/greenwich-yacht-club",
        "name": "Greenwich Yacht Club",
        "description": "Community amateur sports club focused on getting people sailing.",
        "url": "https://www.greenwichyachtclub.co.uk/",
        "sameAs": ["https://www.facebook.com/GreenwichYachtClub/"],
        "telephone": "020 8396 0321",
        "activity": [
            {
                "@id": AL + "#d2733a1c-662c-427a-a270-400171c07320",
                "@type": "Concept",
                "inScheme": AL,
                "prefLabel": "Rowing",
            }
        ],
        "location": {
            "@type": "Place",
            "name": "Greenwich Yacht Club",
            "geo": {"@type": "GeoCoordinates", "latitude": 51.4955, "longitude": 0.018473},
            "address": {
                "@type": "PostalAddress",
                "streetAddress": "1 Peartree Way",
                "addressLocality": "Greenwich",
                "addressRegion": "London",
                "postalCode": "SE10 0BW",
                "addressCountry": "GB",
            },
            "amenityFeature": [{"@type": "Showers", "name": "Showers", "value": True}],
        },
    }
    record.update(changes)
    return record


def with_amenity_value(value: Any) -> dict[str, Any]:
    record = club()
    record["location"]["amenityFeature"][0]["value"] = value
    return record


def amenity_messages(record: dict[str, Any]) -> list[str]:
    return [
        i.message for i in check_record(record) if i.path == "$.location.amenityFeature[0].value"
    ]


def test_amenity_verdict_does_not_depend_on_records_seen_before() -> None:
    # 1 == 1.0 == True: a remembered verdict keyed on equal values once answered for all three
    assert amenity_messages(with_amenity_value(True)) == []
    one = amenity_messages(with_amenity_value(1))
    assert one == ["`value` should be true or false, but it is the number 1."]
    assert amenity_messages(with_amenity_value(True)) == []
    assert amenity_messages(with_amenity_value(1.0)) == [
        "`value` should be true or false, but it is the number 1.0."
    ]
    assert amenity_messages(with_amenity_value(1)) == one
    assert amenity_messages(with_amenity_value(False)) == []


def test_numbers_in_messages_keep_how_they_were_written() -> None:
    def latitude_messages(value: float) -> list[str]:
        record = club()
        record["location"]["geo"]["latitude"] = value
        return [i.message for i in check_record(record) if i.type == "low_precision_coordinate"]

    assert "is 51;" in latitude_messages(51)[0]
    assert "is 51.0;" in latitude_messages(51.0)[0]
    assert "is 51;" in latitude_messages(51)[0]


def test_shared_issues_read_as_freshly_made_ones() -> None:
    row = club()
    for prop in ("description", "url", "sameAs"):
        del row[prop]
    del row["location"]["geo"]
    del row["location"]["address"]["addressRegion"]
    first = [i.to_dict() for i in check_record(row)]
    again = [i.to_dict() for i in check_record(copy.deepcopy(row))]
    assert first == again
    fresh = make_issue(
        "missing_recommended_property",
        "$.description",
        prop="description",
        owner="SportsClub",
        why="a short summary helps people decide whether the club suits them.",
    )
    assert fresh.to_dict() in first
    region = make_issue(
        "missing_required_property",
        "$.location.address.addressRegion",
        prop="addressRegion",
        owner="PostalAddress",
        hint=" Add the county or region.",
    )
    assert region.to_dict() in first
    assert [i["path"] for i in first] == [
        "$.description",
        "$.url",
        "$.sameAs",
        "$.location.address.addressRegion",
        "$.location.geo",
    ]


EDGE_TEXTS = (
    "",
    " ",
    "a",
    "<",
    "&",
    "a\n",
    "\na",
    "a\nb",
    "a b",
    " a",
    "a ",
    "a\xa0",
    "\u3000a",
    "a\x1cb",
    "a\x1c",
    "a\x85",
    "a\u200bb",
    "Rifle & Pistol",
    "<b>Club</b>",
    "Café",
    "1066 RIFLE & PISTOL CLUB   ",
)
EDGE_URLS = (
    "https://www.example.org/",
    "http://127.0.0.1:8000/clubs/x",
    "http://localhost",
    "http://localhost:8000/a.b",
    "http://123",
    "http://./",
    "https://.org",
    "https://a.",
    "https://a.b",
    "https://a.b\n",
    "https://a.b\n\n",
    "https://a.b c",
    "https://a.b/\xa0",
    "https://a\u3000.b",
    "https://a/b.c",
    "https://a?b.c",
    "https://a#b.c",
    "HTTPS://a.b",
    "ftp://a.b",
    "www.example.org",
    "https://exämple.org/",
    "https://a.b\x7f",
    "mailto:secretary@example.org",
)


def real_strings() -> list[str]:
    """Every text in the shared register and example documents."""
    found: list[str] = []
    with (SHARED / "data" / "registered-casc.csv").open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            found.extend(row)

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                found.append(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(EXAMPLES.glob("*.json*")):
        try:
            walk(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    return found


def test_plain_text_and_is_url_answer_as_the_expressions_did() -> None:
    strings = real_strings()
    assert len(strings) > 30_000
    for text in (*EDGE_TEXTS, *EDGE_URLS, *strings):
        assert plain_text(text) == bool(PLAIN_RE.match(text)), repr(text)
        assert is_url(text) == bool(URL_RE.match(text)), repr(text)
        for variant in (f" {text}", f"{text}\n", f"https://{text}", f"http://{text}.uk"):
            assert plain_text(variant) == bool(PLAIN_RE.match(variant)), repr(variant)
            assert is_url(variant) == bool(URL_RE.match(variant)), repr(variant)
