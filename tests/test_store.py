"""The SQLite store: upserts, tombstones, the RPDE order, concurrency, exports, the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from openclubs.cli.main import cli
from openclubs.importer import import_files
from openclubs.store import SQLiteStore, StoredClub
from tests.helpers import SHARED

BASE = "https://clubs.example.org"


def club(n: int, name: str | None = None) -> dict[str, Any]:
    return {
        "@context": "https://openactive.io/",
        "@type": "SportsClub",
        "@id": f"{BASE}/clubs/club-{n:05d}",
        "name": name or f"Club {n}",
        "location": {
            "@type": "Place",
            "name": f"Ground {n}",
            "geo": {"@type": "GeoCoordinates", "latitude": 51.5 + n / 1e4, "longitude": -0.12},
        },
    }


def open_store(tmp_path: Path) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "clubs.sqlite3")
    store.migrate()
    return store


def walk(
    store: SQLiteStore, after: tuple[int | None, str | None] = (None, None), limit: int = 50
) -> tuple[list[StoredClub], tuple[int | None, str | None]]:
    """Read the feed order from a position to the end, as a consumer would."""
    seen: list[StoredClub] = []
    position = after
    while True:
        page = store.page(position[0], position[1], limit)
        if not page:
            return seen, position
        seen.extend(page)
        position = (page[-1].modified, page[-1].key)


# The store's own behaviour (upserts, tombstones, order, prune, concurrency) is tested on
# both backends in tests/test_store_backends.py; this file tests it through imports and the CLI.


def test_casc_imported_twice_feed_shows_exactly_the_changes(tmp_path: Path) -> None:
    """The full register imported, then imported again with one club changed and two gone:
    a consumer that walked the served feed to its end and polls again sees exactly those."""
    from fastapi.testclient import TestClient

    from openclubs.publish.app import create_app
    from openclubs.publish.settings import Settings

    register = SHARED / "data" / "registered-casc.csv"
    store = open_store(tmp_path)
    client = TestClient(create_app(store, Settings(base_url=BASE)))

    def load(path: Path) -> dict[int, str]:
        result = import_files([str(path)], base_url=BASE)
        store.upsert(
            ((c.record, c.provenance(), []) for c in result.clubs), "casc", replace_source=True
        )
        return {c.row.row: c.record["@id"] for c in result.clubs}

    def walk_feed(url: str) -> tuple[list[dict[str, Any]], str]:
        items: list[dict[str, Any]] = []
        while True:
            page = client.get(url).json()
            items += page["items"]
            if not page["items"] and page["next"] == url:
                return items, url
            url = page["next"]

    ids_by_row = load(register)
    everything, position = walk_feed(BASE + "/feeds/organizations")
    assert len(everything) == 7761
    lines = register.read_text(encoding="utf-8").splitlines(keepends=True)
    assert "Rock Lane" in lines[1]
    changed = lines[:]
    changed[1] = changed[1].replace("Rock Lane", "Rock Lane North")  # line 2: one address
    gone = {ids_by_row[21], ids_by_row[32]}  # lines 21 and 32 leave the register
    del changed[31], changed[20]
    edited = tmp_path / "registered-casc.csv"
    edited.write_text("".join(changed), encoding="utf-8")
    load(edited)
    later, _ = walk_feed(position)
    assert sorted(i["state"] for i in later) == ["deleted", "deleted", "updated"]
    deleted = {i["id"] for i in later if i["state"] == "deleted"}
    assert deleted == {gone_id.rpartition("/")[2] for gone_id in gone}
    (updated,) = [i for i in later if i["state"] == "updated"]
    assert updated["data"]["@id"] == ids_by_row[2]
    assert "Rock Lane North" in json.dumps(updated["data"])


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_db_import_export(tmp_path: Path) -> None:
    db = str(tmp_path / "clubs.sqlite3")
    assert "schema version 1" in run("db", "init", "--db", db).output
    sample = str(SHARED / "data" / "examples" / "16-hmrc-registered-casc-sample.csv")
    first = run("import", sample, "--db", db, "--source", "casc", "--base-url", BASE)
    assert "55 new, 0 changed, 0 unchanged, 0 deleted" in first.output
    second = run("import", sample, "--db", db, "--source", "casc", "--base-url", BASE)
    assert "0 new, 0 changed, 55 unchanged, 0 deleted" in second.output
    jsonl = run("export", "--db", db, "--format", "jsonld")
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(records) == 55 and all(r["@id"].startswith(BASE) for r in records)
    table = list(csv.DictReader(io.StringIO(run("export", "--db", db, "--format", "csv").stdout)))
    assert {row["name"] for row in table} >= {"Barrow Cricket Club", "1829 Hockey"}
    geo = json.loads(run("export", "--db", db, "--format", "geojson").stdout)
    assert geo["type"] == "FeatureCollection"
    assert "0 tombstones removed" in run("db", "prune", "--db", db).output


def test_an_import_that_reads_no_rows_deletes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "clubs.sqlite3")
    full, empty = tmp_path / "ngb.csv", tmp_path / "ngb-empty.csv"
    full.write_text("Club Name,Postcode\nHilltop Harriers,LS6 3AA\nValley Judo,CF10 1AA\n")
    empty.write_text("Club Name,Postcode\n")
    assert "2 new" in run("import", str(full), "--db", db, "--source", "ngb").output
    result = run("import", str(empty), "--db", db, "--source", "ngb")
    assert "0 deleted" in result.output and "nothing was deleted" in result.output
    store = SQLiteStore(db)
    assert store.counts() == {"updated": 2}
