"""The openactive-contrib/openactive-clubs workbooks: both layouts, the joins, the problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from openclubs.ingest.openactive_sheets import is_openactive_workbook, read_openactive_workbook
from openclubs.ingest.rows import ReadError, SourceRow
from tests.helpers import SHARED

DATA = SHARED / "data"
TIDDLY = "http://tonbridge-tiddlywinks.example.com"
RAMBLERS = "http://rammington-ramblers.example.com"


def _read(name: str) -> list[SourceRow]:
    rows, problems = read_openactive_workbook(str(DATA / name))
    assert problems == []
    return rows


@pytest.mark.parametrize(
    "name", ["OpenActive-Clubs-Template.xlsx", "OpenActive-Club-Finder-Template.xlsx"]
)
def test_templates_have_no_clubs(name: str) -> None:
    """Neither the labelled rows (current) nor the example and need rows (old) are data."""
    assert is_openactive_workbook(DATA / name)
    assert read_openactive_workbook(str(DATA / name)) == ([], [])


def test_current_example() -> None:
    tiddly, ramblers = _read("OpenActive-Clubs-Example.xlsx")
    assert (tiddly.row, tiddly.sheet, ramblers.row) == (5, "clubs", 6)
    assert tiddly.source_id == f"{TIDDLY}/orgs/orgID123"
    # org2's @id really does use the other club's domain
    assert ramblers.source_id == f"{TIDDLY}/orgs/orgID456"
    club = tiddly.fields
    assert club["name"] == "Tonbridge Tiddlywinks"
    assert club["legal_name"] == "Tonbridge Tiddlywinks Ltd."
    assert club["telephone"] == "01234 567891"
    assert club["email"] == "tonbridge-tiddlywinks@example.com"
    assert club["same_as"] == ["https://www.facebook.com/example-tonbridge-tiddlywinks"]
    assert club["logo"] == f"{TIDDLY}/images/logo.png"
    assert club["id"] == f"{TIDDLY}/orgs/orgID123"
    # the organiser's address (adr1), without the latitude and longitude it has in the sheet
    assert {
        k: club[k] for k in ("street_address", "locality", "region", "postcode", "country")
    } == {
        "street_address": "90 Flippit Rd.",
        "locality": "Tonbdridge",
        "region": "Kent",
        "postcode": "TN3 9PQ",
        "country": "GB",
    }
    assert "latitude" not in club and "longitude" not in club
    assert tiddly.columns["legal_name"] == "organizers!legalName"
    assert tiddly.columns["postcode"] == "addresses!postalCode"
    assert tiddly.where("name").endswith(
        "OpenActive-Clubs-Example.xlsx, sheet 'clubs', row 5, column 'organizers!name'"
    )

    base1, base2 = club["locations"]
    assert base1 == {
        "id": f"{TIDDLY}/locs/locID123",
        "name": "Tonbridge Tiddlybase 1",
        "description": "Tonbridge's premiere location for tiddly fanatics. Weekly meetups "
        "and championship events held here.",
        "telephone": "01234 567893",
        "email": "tonbridge-tiddlybase-1@example.com",
        "url": f"{TIDDLY}/locations/tiddlybase-1",
        "images": [f"{TIDDLY}/images/tiddlybase-1-{n}.png" for n in (1, 2, 3)],
        "street_address": "3 Updown St.",
        "locality": "Tonbdridge",
        "region": "Kent",
        "postcode": "TN2 8ZM",
        "country": "GB",
        "latitude": 51.11482,
        "longitude": 0.24281,
        "amenities": ["Bike Shed", "Lockers"],
    }
    assert base2["name"] == "Tonbridge Tiddlybase 2"
    assert base2["amenities"] == ["Bike Shed"]
    assert (base2["postcode"], base2["latitude"], base2["longitude"]) == (
        "TN4 1LX",
        51.1323,
        0.23043,
    )

    org = ramblers.fields
    assert org["name"] == "The Rammington Ramblers"
    assert org["same_as"] == [
        "https://twitter.com/example-rammington-ramblers",
        "https://www.linkedin.com/company/example-rammington-ramblers",
    ]
    assert org["logo"] == f"{RAMBLERS}/images/logo-square-colour.jpg"
    (pitstop,) = org["locations"]
    assert pitstop["name"] == "Rambo's Pitstop"
    assert pitstop["amenities"] == ["Showers", "Lockers"]
    assert pitstop["images"] == [
        f"{RAMBLERS}/images/pitstop-quiz-night.jpg",
        f"{RAMBLERS}/images/the-big-stroll-bootoff.jpg",
    ]
    assert (
        pitstop["street_address"],
        pitstop["locality"],
        pitstop["postcode"],
        pitstop["latitude"],
        pitstop["longitude"],
    ) == ("42 Boots Ave.", "Rammington", "RA2 7BC", 51.95035, 0.88199)


def test_location_at_the_organiser_address_keeps_its_coordinates(tmp_path: Path) -> None:
    """adr1 (90 Flippit Rd.) has coordinates: a location using it keeps them."""
    book = load_workbook(DATA / "OpenActive-Clubs-Example.xlsx")
    book["locations"]["K5"] = "adr1"
    book.save(tmp_path / "moved.xlsx")
    rows, problems = read_openactive_workbook(str(tmp_path / "moved.xlsx"))
    base1 = rows[0].fields["locations"][0]
    assert problems == []
    assert (
        base1["street_address"],
        base1["locality"],
        base1["postcode"],
        base1["latitude"],
        base1["longitude"],
    ) == ("90 Flippit Rd.", "Tonbdridge", "TN3 9PQ", 51.13124, 0.23183)


def test_old_layout_improved_example() -> None:
    """Old layout, numeric codes (1.0) next to "1,2", no @id: the code is the source id."""
    tiddly, ramblers = _read("OpenActive-Club-Finder-Example.xlsx")
    assert (tiddly.row, ramblers.row) == (4, 5)
    assert (tiddly.source_id, ramblers.source_id) == (
        None,
        None,
    )  # codes are local join keys, not ids
    assert "id" not in tiddly.fields
    assert tiddly.fields["name"] == "Tonbridge Tiddlywinks"
    assert tiddly.fields["legal_name"] == "Tonbridge Tiddlywinks Ltd."
    assert tiddly.fields["telephone"] == "01234 567891"
    assert tiddly.fields["street_address"] == "90 Flippit Rd."
    assert tiddly.fields["locality"] == "Tonbdridge"
    assert "latitude" not in tiddly.fields
    assert [p["name"] for p in tiddly.fields["locations"]] == [
        "Tonbridge Tiddlybase 1",
        "Tonbridge Tiddlybase 2",
    ]
    base1 = tiddly.fields["locations"][0]
    assert (base1["latitude"], base1["longitude"]) == (51.114815, 0.242811)
    assert base1["amenities"] == ["Bike Shed", "Lockers"]
    assert len(base1["images"]) == 3
    assert ramblers.fields["name"] == "The Rammington Ramblers"
    assert ramblers.fields["same_as"] == [
        "https://twitter.com/example-rammington-ramblers",
        "https://www.linkedin.com/company/example-rammington-ramblers",
    ]
    assert [p["name"] for p in ramblers.fields["locations"]] == ["Rambo's Pitstop"]
    assert ramblers.fields["locations"][0]["amenities"] == ["Showers", "Lockers"]


def test_old_layout_sparse_first_example() -> None:
    """Club-Finder-Example.xlsx: the template's example row is not data; sparse rows stay
    sparse (no name, addresses with only some parts)."""
    first, second = _read("Club-Finder-Example.xlsx")
    assert (first.row, second.row) == (4, 5)
    assert (first.source_id, second.source_id) == (None, None)
    assert first.fields == {
        "name": "Central Speedball Association",
        "street_address": "123 The Street",
        "locality": "Speedham",
        "country": "GB",
        "locations": [
            {
                "name": "The Speedball Centre",
                "telephone": "01234 567890",
                "email": "info@example.com",
                "url": "http://speedball.example.com/the-speedball-centre/",
                "locality": "Speedham",
                "region": "London",
                "amenities": ["Bike Shed"],
            },
            {
                "description": "The premiere national speedball location",
                "country": "GB",
                "postcode": "SP1 2AB",
                "amenities": ["Bike Shed", "Lockers"],
            },
        ],
    }
    assert second.fields == {
        "legal_name": "Central Speedball Ltd",
        "url": "http://speedball.example.com",
        "street_address": "123 The Street",
        "region": "London",
        "country": "GB",
        "locations": [
            {
                "street_address": "123 The Street",
                "region": "London",
                "country": "GB",
                "latitude": 52.1,
                "longitude": -0.7,
                "amenities": ["Showers", "Lockers"],
            },
        ],
    }
    assert "name" not in second.columns and second.columns["url"] == "organizers!url"


# ---- small workbooks written here -----------------------------------------------------

HEADERS = {
    "clubs": ["code", "organizer", "location"],
    "organizers": [
        "code",
        "@id",
        "identifier",
        "name",
        "legalName",
        "description",
        "telephone",
        "email",
        "url",
        "sameAs",
        "logo",
        "address",
    ],
    "locations": [
        "code",
        "@id",
        "identifier",
        "name",
        "description",
        "telephone",
        "email",
        "url",
        "image",
        "address",
        "amenityFeature",
    ],
    "addresses": [
        "code",
        "streetAddress",
        "addressLocality",
        "addressRegion",
        "addressCountry",
        "postalCode",
        "latitude",
        "longitude",
    ],
    "images": ["code", "url", "width", "height"],
    "amenity features": ["code", "name"],
}


def _write(
    path: Path, data: dict[str, list[list[Any]]], titles: dict[str, str] | None = None
) -> str:
    """An old-layout workbook: header row, then the given rows from row 2."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for tab, rows in data.items():
        sheet = book.create_sheet((titles or {}).get(tab, tab))
        sheet.append(HEADERS[tab])
        for row in rows:
            sheet.append(row)
    book.save(path)
    return str(path)


def _full(**rows: list[list[Any]]) -> dict[str, list[list[Any]]]:
    return {tab: rows.get(tab.replace(" ", "_"), []) for tab in HEADERS}


def test_codes_as_text_with_spaces_and_missing_targets(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "clubs.xlsx",
        _full(
            clubs=[[None, " 1 ", " 1, 2 "], [None, None, None], ["x", 9, "1,7"]],
            organizers=[
                [
                    "1.0",
                    None,
                    None,
                    "Kent Kites",
                    None,
                    None,
                    None,
                    None,
                    None,
                    " https://a.example/k ,https://b.example/k,, ",
                    "3",
                    "5",
                ]
            ],
            locations=[
                [1, None, None, "Field", None, None, None, None, "3", "5", "1, 2"],
                [2.0, "https://k.example/p/2", None, "Hall"],
            ],
            addresses=[[5, "1 High St", "Ashford", None, "GB", "TN1 1AA", 51.1, 0.8]],
            images=[[3, "https://k.example/i.png"]],
            amenity_features=[[1, "Showers"], [2, "Parking"]],
        ),
    )
    rows, problems = read_openactive_workbook(path)
    kites, orphan = rows  # the empty club row 3 is skipped
    assert (kites.row, orphan.row) == (2, 4)
    assert kites.source_id is None
    assert kites.fields["same_as"] == ["https://a.example/k", "https://b.example/k"]
    assert kites.fields["logo"] == "https://k.example/i.png"
    assert kites.fields["postcode"] == "TN1 1AA" and "latitude" not in kites.fields
    field, hall = kites.fields["locations"]
    assert field["amenities"] == ["Showers", "Parking"] and field["latitude"] == 51.1
    assert hall == {"id": "https://k.example/p/2", "name": "Hall"}
    # row 4: organiser 9 does not exist, location 7 does not exist; location 1 is still read
    assert orphan.source_id is None and "name" not in orphan.fields
    assert [p["name"] for p in orphan.fields["locations"]] == ["Field"]
    assert [(p.row, p.sheet, p.column, p.reason) for p in problems] == [
        (4, "clubs", "clubs!organizer", 'organizer code "9" not found in tab "organizers"'),
        (4, "clubs", "clubs!location", 'location code "7" not found in tab "locations"'),
    ]


def test_nested_missing_codes_duplicates_and_rows_without_code(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "clubs.xlsx",
        _full(
            clubs=[[None, 1, 1]],
            organizers=[
                [1, None, None, "A", None, None, None, None, None, None, 4, None],
                [1, None, None, "B"],
                [None, None, None, "C"],
            ],
            locations=[[1, None, None, "P", None, None, None, None, "8", "6", "3"]],
        ),
    )
    rows, problems = read_openactive_workbook(path)
    assert rows[0].fields == {"name": "A", "locations": [{"name": "P"}]}
    assert [(p.sheet, p.row, p.reason) for p in problems] == [
        ("organizers", 3, 'duplicate code "1" in tab "organizers"; the first is used'),
        ("organizers", 4, "no code, so no other tab can refer to this row"),
        ("clubs", 2, 'organizer "1": logo code "4" not found in tab "images"'),
        ("clubs", 2, 'location "1": image code "8" not found in tab "images"'),
        ("clubs", 2, 'location "1": address code "6" not found in tab "addresses"'),
        ("clubs", 2, 'location "1": amenityFeature code "3" not found in tab "amenity features"'),
    ]


def test_tab_names_ignore_case_and_spacing(tmp_path: Path) -> None:
    titles = {"clubs": "Clubs", "organizers": "ORGANISERS", "amenity features": "Amenity_Features"}
    path = _write(
        tmp_path / "c.xlsx",
        _full(clubs=[[None, 1, None]], organizers=[[1, None, None, "A"]]),
        titles,
    )
    assert is_openactive_workbook(path)
    rows, problems = read_openactive_workbook(path)
    assert rows[0].fields == {"name": "A"} and rows[0].sheet == "Clubs"
    assert [p.reason for p in problems] == ["no location code"]


# ---- files that cannot be read --------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="file not found"):
        read_openactive_workbook(str(tmp_path / "nope.xlsx"))
    assert not is_openactive_workbook(tmp_path / "nope.xlsx")


def test_text_file_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "clubs.xlsx"
    path.write_text("code,organizer,location\n1,1,1\n")
    with pytest.raises(ReadError, match=r"not a readable \.xlsx workbook"):
        read_openactive_workbook(str(path))
    assert not is_openactive_workbook(path)


def test_encrypted_workbook(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504)
    with pytest.raises(ReadError, match="password-protected"):
        read_openactive_workbook(str(path))
    assert not is_openactive_workbook(path)


def test_workbook_missing_tabs(tmp_path: Path) -> None:
    data = _full()
    del data["images"], data["amenity features"]
    path = _write(tmp_path / "four.xlsx", data)
    assert not is_openactive_workbook(path)
    with pytest.raises(ReadError, match='no tab\\(s\\) "images", "amenity features"'):
        read_openactive_workbook(path)


def test_tab_without_header_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.xlsx", _full())
    book = load_workbook(path)
    book["addresses"].delete_rows(1)
    book["addresses"]["A1"] = "street"
    book.save(path)
    with pytest.raises(
        ReadError, match='tab "addresses" has no header row with the column\\(s\\) code'
    ):
        read_openactive_workbook(path)
