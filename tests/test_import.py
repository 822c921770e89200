"""`openclubs import` on the real lists in ../shared/data: values, accounting, ids, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from openclubs.cli.main import cli
from openclubs.importer import ImportResult, import_files
from tests.helpers import EXAMPLES, SHARED

DATA = SHARED / "data"
CASC_SAMPLE = EXAMPLES / "16-hmrc-registered-casc-sample.csv"
CASC_JSON = EXAMPLES / "17-registered-casc-schemaorg-sample.json"
RIFLE = EXAMPLES / "18-uk-rifle-clubs-clubfinder.csv"
CRICKET = "https://openactive.io/activity-list#77e3f8fa-c8b3-4e4e-bf1a-ff4b914bb6ec"


def by_name(result: ImportResult, name: str) -> list[dict[str, Any]]:
    return [c.record for c in result.clubs if c.record["name"] == name]


def changes_of(result: ImportResult, name: str) -> list[str]:
    return [
        f"{c.field}: {c.reason}"
        for club in result.clubs
        if club.record["name"] == name
        for c in club.changes
    ]


@pytest.fixture(scope="module")
def casc() -> ImportResult:
    return import_files([str(CASC_SAMPLE)])


def test_casc_sample_every_row_accounted(casc: ImportResult) -> None:
    assert casc.rows == 55
    assert len(casc.clubs) + len(casc.rejects) == 55
    assert casc.unreadable == []


def test_casc_names_postcodes_countries(casc: ImportResult) -> None:
    (rifle,) = by_name(casc, "1066 Rifle & Pistol Club")
    assert rifle["location"]["address"]["streetAddress"] == "Rock Lane, Ore"
    assert rifle["location"]["address"]["addressLocality"] == "Hastings"
    assert rifle["location"]["address"]["addressRegion"] == "East Sussex"
    (buxton,) = by_name(casc, "Buxton Cricket, Bowling and Lawn Tennis Club")
    assert buxton["location"]["address"]["postalCode"] == "SK17 6SH"
    assert buxton["location"]["address"]["addressCountry"] == "GB"
    (abbot,) = by_name(casc, "Abbot Hall Bowling Club")
    address = abbot["location"]["address"]
    assert (address["addressLocality"], address["addressRegion"]) == ("Kendal", "Cumbria")
    assert address["postalCode"] == "LA9 5AQ"


def test_casc_malformed_postcodes_are_left_out_and_said(casc: ImportResult) -> None:
    (croydon,) = by_name(casc, "Addiscombe Rifle Club")
    assert "postalCode" not in croydon["location"]["address"]
    assert any("CR0 5JH" in c for c in changes_of(casc, "Addiscombe Rifle Club"))
    (aber,) = by_name(casc, "Abergavenny Bowls Club")
    assert "postalCode" not in aber["location"]["address"]
    assert any("not a UK postcode" in c for c in changes_of(casc, "Abergavenny Bowls Club"))


def test_casc_homonyms_get_distinct_stable_ids(casc: ImportResult) -> None:
    barrows = by_name(casc, "Barrow Cricket Club")
    assert len(barrows) == 2
    assert barrows[0]["@id"] != barrows[1]["@id"]
    again = import_files([str(CASC_SAMPLE)])
    assert [c.record["@id"] for c in again.clubs] == [c.record["@id"] for c in casc.clubs]
    for record in barrows:
        assert record["activity"][0]["@id"] == CRICKET


def test_casc_care_of_address_is_not_a_location(casc: ImportResult) -> None:
    (swim,) = by_name(casc, "Aberdeen Amateur Swimming Club")
    assert "location" not in swim
    assert any("care-of" in c for c in changes_of(casc, "Aberdeen Amateur Swimming Club"))


def test_casc_records_are_validated(casc: ImportResult) -> None:
    issues = {i.type for club in casc.clubs for i in club.issues}
    assert "no_contact_route" in issues  # the register has no website, email or phone
    assert all(c.issues for c in casc.clubs)


def test_full_casc_register() -> None:
    result = import_files([str(DATA / "registered-casc.csv")])
    assert result.rows == 7761
    assert len(result.clubs) + len(result.rejects) == 7761
    cricket = sum(
        1 for c in result.clubs if any(a["@id"] == CRICKET for a in c.record.get("activity", []))
    )
    assert cricket > 1300


def test_casc_json_country_object_flattened() -> None:
    result = import_files([str(CASC_JSON)])
    assert result.rows == 55 and len(result.clubs) + len(result.rejects) == 55
    countries = {
        c.record["location"]["address"].get("addressCountry")
        for c in result.clubs
        if "location" in c.record
    }
    assert countries == {"GB"}


def test_rifle_clubs_countries_urls_social() -> None:
    result = import_files([str(RIFLE)])
    assert result.rows == 850 and len(result.clubs) + len(result.rejects) == 850
    (alderney,) = by_name(result, "Alderney Shooting Club")
    assert alderney["location"]["address"]["addressCountry"] == "GG"
    (cobo,) = by_name(result, "COBO United Air Rifle Club")
    assert cobo["url"] == "http://www.cobo-arc.co.uk"
    with_social = [c.record for c in result.clubs if c.record.get("sameAs")]
    assert with_social and all(u.startswith("https://") for r in with_social for u in r["sameAs"])


@pytest.mark.parametrize(
    "path",
    sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix in (".csv", ".xlsx", ".json")),
    ids=lambda p: p.name,
)
def test_every_shared_list_accounts_for_every_row(path: Path) -> None:
    result = import_files([str(path)])
    assert len(result.clubs) + len(result.rejects) == result.rows
    if path.suffix == ".csv":  # counted independently of the reader
        with path.open(encoding="utf-8", newline="") as handle:
            data_rows = [r for r in csv.reader(handle) if any(c.strip() for c in r)][1:]
        assert result.rows == len(data_rows)
    elif path.suffix == ".json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        expected = len(doc) if isinstance(doc, list) else len(doc.get("items", [doc]))
        assert result.rows == expected
    for problem in result.rejects:
        assert problem.reason and problem.row >= 1


def test_openactive_example_workbook() -> None:
    result = import_files([str(DATA / "OpenActive-Clubs-Example.xlsx")])
    names = sorted(c.record["name"] for c in result.clubs)
    assert "Tonbridge Tiddlywinks" in names
    (club,) = by_name(result, "Tonbridge Tiddlywinks")
    places = club["location"] if isinstance(club["location"], list) else [club["location"]]
    assert {p["name"] for p in places} >= {"Tonbridge Tiddlybase 1"}
    geo = places[0]["geo"]
    assert (geo["latitude"], geo["longitude"]) == (51.11482, 0.24281)


def run_import(*args: str) -> Any:
    return CliRunner().invoke(cli, ["import", *args], catch_exceptions=False)


def test_cli_outputs_rejects_and_log(tmp_path: Path) -> None:
    out, rejects, log = tmp_path / "clubs.jsonl", tmp_path / "rejects.csv", tmp_path / "log.json"
    result = run_import(
        str(CASC_SAMPLE),
        "-o",
        str(out),
        "--rejects",
        str(rejects),
        "--log",
        str(log),
        "--base-url",
        "https://clubs.example.org",
    )
    records = [json.loads(line) for line in out.read_text().splitlines()]
    summary = json.loads(log.read_text())["summary"]
    assert summary["rows"] == 55 == summary["accepted"] + summary["rejected"]
    assert len(records) == summary["accepted"]
    assert all(r["@id"].startswith("https://clubs.example.org/clubs/") for r in records)
    assert "55 rows = " in result.output
    with rejects.open() as handle:
        assert next(csv.reader(handle)) == ["file", "sheet", "row", "column", "reason"]
    assert result.exit_code == (1 if summary["rejected"] else 0)


def test_cli_json_array_and_files(tmp_path: Path) -> None:
    run_import(str(CASC_SAMPLE), "-o", str(tmp_path / "clubs.json"), "-q")
    assert len(json.loads((tmp_path / "clubs.json").read_text())) == 55
    run_import(str(CASC_SAMPLE), "-o", str(tmp_path / "each") + "/", "-q")
    assert len(list((tmp_path / "each").glob("*.jsonld"))) == 55


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"Foo,Bar\n1,2\n", "wrong.csv", "no column with the clubs' names"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "locked.xlsx", "password-protected"),
        (b"not a workbook", "fake.xlsx", "not a readable .xlsx"),
        (b"[1, 2", "broken.json", "not valid JSON"),
    ],
)
def test_unreadable_files_exit_2_with_a_clear_message(
    tmp_path: Path, content: bytes, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = run_import(str(path), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_mapping_file_names_columns(tmp_path: Path) -> None:
    data = tmp_path / "ngb.csv"
    data.write_text(
        "Club Title;PC;Discipline;Web\nHilltop Harriers;ls6 3aa;Running;hilltop.example.org\n"
    )
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps({"name": "Club Title", "postcode": "PC", "activity": "Discipline"})
    )
    result = run_import(str(data), "--mapping", str(mapping), "-q")
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["location"]["address"]["postalCode"] == "LS6 3AA"
    assert record["activity"][0]["prefLabel"] == "Running"
    assert record["url"] == "https://hilltop.example.org"


def test_club_spec_json_ld_keeps_its_places(tmp_path: Path) -> None:
    from tests.helpers import ROOT

    result = import_files([str(ROOT / "examples" / "greenwich-yacht-club.jsonld")])
    (club,) = result.clubs
    place = club.record["location"]
    assert place["name"] == "Greenwich Yacht Club"
    assert place["address"]["postalCode"] == "SE10 0BW"
    assert place["geo"]["latitude"] == 51.4955
    assert [a["name"] for a in place["amenityFeature"]] == [
        "Changing Facilities",
        "Showers",
        "Parking",
    ]
    assert club.valid


def test_json_lines_and_odd_json_items(tmp_path: Path) -> None:
    out = tmp_path / "clubs.jsonl"
    run_import(str(CASC_SAMPLE), "-o", str(out), "-q")
    again = import_files([str(out)])
    assert again.rows == 55 and len(again.clubs) == 55  # our own output reads back in
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps([{"name": "A FC"}, "B FC", None, 3]))
    result = import_files([str(odd)])
    assert (result.rows, len(result.clubs), len(result.rejects)) == (4, 1, 3)
    assert all("not a club object" in r.reason for r in result.rejects)
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"clubs": [{"name": "A FC"}, {"name": "B FC"}]}))
    assert len(import_files([str(wrapped)]).clubs) == 2


def test_csv_extra_cells_and_multi_line_rows(tmp_path: Path) -> None:
    data = tmp_path / "clubs.csv"
    data.write_text(
        'Club Name,Town\n"Hilltop\nHarriers",Leeds\nBeta, Gamma Chess Club,York,extra\n'
    )
    result = import_files([str(data)])
    rows = {c.record["name"]: c for c in result.clubs}
    assert rows["Hilltop Harriers"].row.row == 2  # the line the row starts on
    beta = rows["Beta"]
    assert beta.row.row == 4
    assert any("beyond the last column" in c.reason for c in beta.changes)
