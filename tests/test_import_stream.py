"""A streamed import (each record passed on as soon as it is made) and a parallel one
(worker processes building and validating chunks of rows) give exactly what the in-memory,
single-process import gives: the same records, rejects, notes, changes and issues, in the
same order."""

from __future__ import annotations

import gc
import hashlib
import sqlite3
import warnings
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from openclubs.cli.main import cli
from openclubs.importer import ImportResult, import_files, run
from openclubs.importer.output import vars_of
from openclubs.importer.run import ImportedClub
from openclubs.ingest.tabular import csv_layout
from tests.helpers import EXAMPLES, SHARED

REGISTER = SHARED / "data" / "registered-casc.csv"
SAMPLE = EXAMPLES / "16-hmrc-registered-casc-sample.csv"
RIFLE = EXAMPLES / "18-uk-rifle-clubs-clubfinder.csv"
# the sample repeats clubs of the register: the second copies are rejected after building
FILES = [str(REGISTER), str(SAMPLE), str(RIFLE)]


def everything(result: ImportResult, clubs: list[ImportedClub]) -> dict[str, Any]:
    return {
        "summary": result.summary(),
        "records": [c.log_entry() | {"record": c.record} for c in clubs],
        "rejects": [vars_of(p) for p in result.rejects],
        "notes": [vars_of(p) for p in result.notes],
        "unreadable": result.unreadable,
    }


def test_streamed_and_parallel_imports_match_the_in_memory_one() -> None:
    kept = import_files(FILES)
    expected = everything(kept, kept.clubs)
    assert any("the same club as" in r["reason"] for r in expected["rejects"])
    assert expected["summary"]["rows"] == 7761 + 55 + 850
    for workers in (1, 2):
        passed: list[ImportedClub] = []
        streamed = import_files(FILES, sink=passed.append, workers=workers)
        assert streamed.clubs == []  # handed over, not kept
        assert everything(streamed, passed) == expected


def test_parallel_import_with_reject_invalid_and_an_unreadable_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.csv")
    files = [str(SAMPLE), missing, str(RIFLE)]
    one = import_files(files, reject_invalid=True)
    two = import_files(files, reject_invalid=True, workers=2)
    assert everything(two, two.clubs) == everything(one, one.clubs)
    assert one.unreadable == [f"{missing}: no such file"]
    assert any(r.reason.startswith("invalid record (") for r in two.rejects)


def test_cli_workers_write_byte_identical_files(tmp_path: Path) -> None:
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / workers
        out.mkdir()
        args = ["import", *FILES, "--workers", workers, "-q", "--rejects", str(out / "r.csv")]
        streamed = CliRunner().invoke(cli, [*args, "-o", str(out / "clubs.jsonl")])
        logged = CliRunner().invoke(
            cli, [*args, "-o", str(out / "clubs.json"), "--log", str(out / "log.json")]
        )
        assert streamed.exit_code == logged.exit_code == 1  # some rows rejected
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    assert outputs[0]["clubs.jsonl"].count(b"\n") > 8000


def test_csv_in_utf_16_with_crlf_lines(tmp_path: Path) -> None:
    """Read from the disk as it is wanted, a file in another encoding (a spreadsheet's
    "Unicode text" export) still decodes, and a quoted cell over two lines still gives the
    line its row starts on."""
    text = "Club Name,Town,Sport\r\n" + "".join(
        f'"Société Pétanque Club {n}",Sèvres,Pétanque\r\n' for n in range(40)
    )
    text += '"Café\r\nBowls Club",Besançon,Bowls\r\nLe Ménil Athlétisme,Nîmes,Athletics\r\n'
    data = tmp_path / "clubs.csv"
    data.write_bytes(text.encode("utf-16"))
    result = import_files([str(data)])
    names = {c.record["name"]: c.row.row for c in result.clubs}
    assert names["Société Pétanque Club 0"] == 2
    assert names["Café Bowls Club"] == 42
    assert names["Le Ménil Athlétisme"] == 44
    assert result.rows == 42 and result.rejects == []


def _tricky_register(rows: int) -> str:
    """A register whose rows defeat a naive cut at line ends: quoted cells over several
    lines, doubled quotes, a quote inside an unquoted cell, blank and empty rows."""
    out = ["Organisation Name,Address Line 1,Address Line 2,Town,Postcode,Sport"]
    for n in range(rows):
        kind = n % 6
        if kind == 0:
            out.append(f'"BARROW ""OLD BOYS"" CRICKET CLUB {n}",1 Station Road,,Kendal,LA9 4AB,')
        elif kind == 1:
            out.append(f'5" GUN RIFLE CLUB {n},"The Range\nMoor Lane\n\nUnit {n}",,Leeds,LS6 2AB,')
        elif kind == 2:
            out.append("")
            out.append(",,,,,")
            out.append(f"Ashford Tennis Club {n},Park Lane,Ore,Hastings,tn34 1ab,Tennis")
        elif kind == 3:
            out.append(f'"Café ""Élan"", Bowls\n{n}",,,Sèvres,,Bowls')
        elif kind == 4:
            out.append(f'Millfield Hockey Club {n},"Pitch ""A""",Mill Lane,Leeds,LS1 4AP,Hockey')
        else:
            out.append(f'"RIVERSIDE ROWING CLUB {n}","",Boathouse,"Kendal, Cumbria",,')
    return "\n".join(out) + "\n"


def test_csv_cut_into_small_pieces_gives_what_one_process_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers read CSV files in pieces cut at line ends outside quoted cells. With pieces
    of a few dozen bytes every row is cut around, in three line-end styles and two
    encodings, and the import still equals the one-process import row for row."""
    monkeypatch.setattr(run, "PIECE_BYTES", 48)
    text = _tricky_register(60)
    for name, data in (
        ("lf.csv", text.encode()),
        ("crlf.csv", text.replace("\n", "\r\n").encode()),
        ("latin1.csv", text.encode("latin-1")),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        _, split = run._Importer._split_csv(path, "auto", None)
        assert split is not None, name  # cut into pieces, not read here
        assert len(list(split[1])) > 20
        one = import_files([str(path)])
        two = import_files([str(path)], workers=2)
        assert everything(two, two.clubs) == everything(one, one.clubs), name
        by_name = {c.record["name"]: c.row.row for c in two.clubs}
        assert by_name['Barrow "Old Boys" Cricket Club 0'] == 2
        assert by_name['5" Gun Rifle Club 1'] == 3  # its address spans lines 3-6
        assert by_name["Ashford Tennis Club 2"] == 9  # after a blank and an empty row
        assert by_name['Café "Élan", Bowls 3'] == 10
        assert one.summary()["rows"] == 60


def test_csv_with_lone_carriage_returns_is_read_by_the_main_process(tmp_path: Path) -> None:
    """Old Mac line ends cannot be cut at "\\n": such a file is read row by row here, and
    the parallel import still gives the same result."""
    path = tmp_path / "mac.csv"
    path.write_bytes(_tricky_register(12).replace("\n", "\r").encode())
    layout, split = run._Importer._split_csv(path, "auto", None)
    assert layout is not None and split is None
    one = import_files([str(path)])
    two = import_files([str(path)], workers=2)
    assert everything(two, two.clubs) == everything(one, one.clubs)
    assert one.summary()["accepted"] == 12


# --- review of the parallel import (issue 4): dialects, @ids, over-long cells ---


def _dialect_register(delimiter: str, rows: int, spaced: bool = False) -> str:
    """A club register in one delimiter: quoted cells over several lines and holding the
    delimiter, doubled quotes, a quote inside an unquoted cell, blank rows, an extra cell.
    `spaced`: a space after each delimiter, as some exports write (the sniffer then skips
    initial spaces)."""
    d = delimiter + (" " if spaced else "")
    out = [d.join(["Organisation Name", "Address Line 1", "Town", "Postcode", "Sport"])]
    for n in range(rows):
        kind = n % 5
        if kind == 0:
            cells = [f'"BARROW ""OLD BOYS"" CRICKET CLUB {n}"', "1 Station Road", "Kendal"]
            out.append(d.join([*cells, "LA9 4AB", "Cricket"]))
        elif kind == 1:
            address = f'"The Range\nMoor Lane{delimiter} Unit {n}\n"'
            out.append(d.join([f'5" Gun Rifle Club {n}', address, "Leeds", "LS6 2AB", ""]))
        elif kind == 2:
            out.extend(["", delimiter * 4])
            out.append(
                d.join([f"Ashford Tennis Club {n}", "Park Lane", "Hastings", "tn34 1ab", ""])
            )
        elif kind == 3:
            out.append(d.join([f'"Café Élan{delimiter} Bowls\n{n}"', '""', "Sèvres", "", "Bowls"]))
        else:
            cells = [f"St John's Judo Club {n}", "Mill Lane", "Bristol", "BS1 5TR", "Judo"]
            out.append(d.join([*cells, "extra cell"]))
    return "\n".join(out) + "\n"


def test_csv_dialects_cut_into_pieces_give_what_one_process_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every dialect the sniffer finds in registers is cut where the csv reader would end a
    row: semicolons, tabs and bars, spaces after the delimiter, quotes not doubled in the
    sniffed sample (doublequote=False), a byte order mark with CRLF, cp1252, and a header
    over two lines after blank lines. Pieces of 64 bytes put a cut near every row."""
    monkeypatch.setattr(run, "PIECE_BYTES", 64)
    plain = "".join(f'"Plain Tennis Club {n}",Road,Leeds,LS1 1AA,Tennis\n' for n in range(450))
    register = _dialect_register(",", 30)
    header, _, body = register.partition("\n")
    files = {
        "semicolon.csv": (_dialect_register(";", 30).encode(), {"delimiter": ";"}),
        "tab.tsv.csv": (_dialect_register("\t", 30).encode(), {"delimiter": "\t"}),
        "bar.csv": (_dialect_register("|", 30).encode(), {"delimiter": "|"}),
        "spaced.csv": (
            _dialect_register(",", 30, spaced=True).encode(),
            {"skipinitialspace": True},
        ),
        "undoubled.csv": ((header + "\n" + plain + body).encode(), {"doublequote": False}),
        "bom-crlf.csv": (register.replace("\n", "\r\n").encode("utf-8-sig"), {}),
        "cp1252.csv": (register.replace("É", "E").encode("cp1252"), {"errors": "replace"}),
        "header2.csv": (
            ("\n\n" + register.replace("Organisation Name", '"Organisation\nName"')).encode(),
            {},
        ),
    }
    paths = []
    for name, (data, expected) in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        layout = csv_layout(path)
        assert layout.splittable, name
        for attribute, value in expected.items():
            assert getattr(layout, attribute) == value, (name, attribute)
        paths.append(str(path))
    one = import_files(paths)
    two = import_files(paths, workers=2)
    assert everything(two, two.clubs) == everything(one, one.clubs)
    rows = {(Path(c.row.file).name, c.record["name"]): c.row.row for c in two.clubs}
    assert rows["semicolon.csv", '5" Gun Rifle Club 1'] == 3  # its address: lines 3-5
    assert rows["semicolon.csv", "Ashford Tennis Club 2"] == 8  # after a blank, an empty row
    # the same clubs in several files: later copies are rejected, pointing at the first
    repeats = {(Path(p.file).name, p.row): p.reason for p in two.rejects}
    first = f"{tmp_path / 'semicolon.csv'}, row 2 (same name and place"
    assert first in repeats["header2.csv", 5]  # its header spans lines 3-4
    assert first in repeats["spaced.csv", 2]
    assert rows["undoubled.csv", "Plain Tennis Club 449"] == 451
    assert one.summary()["rows"] == 7 * 30 + 480
    assert {p.reason for p in one.notes} == set() and one.unreadable == []


def test_parallel_import_keeps_the_ids_of_earlier_versions() -> None:
    """@ids must not change between versions, or a re-import into a store creates every club
    again: these are the @ids the importer gave the register, sample and rifle clubs before
    the CSV pieces and compiled classes came in (commit 034381e), in order."""
    ids: list[str] = []
    result = import_files(FILES, sink=lambda club: ids.append(club.record["@id"]), workers=2)
    assert result.accepted == len(ids) == 8609
    assert ids[0] == "http://127.0.0.1:8000/clubs/1066-rifle-pistol-club-10f932ea"
    assert ids[4000] == "http://127.0.0.1:8000/clubs/leigh-cricket-club-daf5d717"
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
    assert digest == "f180d23f0821814f64a337e3653cb99eebd5af3fc7a2bbba7ddfe0912815f263"


@pytest.mark.parametrize("quoted", [True, False], ids=["quoted", "unquoted"])
def test_a_cell_longer_than_the_csv_limit_is_no_traceback(tmp_path: Path, quoted: bool) -> None:
    """A register with club notes pasted into one cell (141,600 characters: over the csv
    module's field limit). Both imports must account for every row the same way, without
    an exception: the long row imported or rejected with its location, the others kept."""
    notes = "Founded 1887; bowls and croquet on the green by the river. " * 2400
    rows = [f"Kendal Bowls Club {n},{n} Station Road,Kendal,LA9 4AB" for n in range(40)]
    rows[20] = (
        f'Leeds Chess Club,"{notes}",Leeds,LS1 1AA'
        if quoted
        else (f"Leeds Chess Club,{notes},Leeds,LS1 1AA")
    )
    path = tmp_path / "register.csv"
    path.write_text("Organisation Name,Address Line 1,Town,Postcode\n" + "\n".join(rows) + "\n")
    two = import_files([str(path)], workers=2)
    one = import_files([str(path)])
    assert everything(two, two.clubs) == everything(one, one.clubs)
    assert one.rows == 40 and one.accepted + len(one.rejects) == 40
    assert any(c.record["name"] == "Leeds Chess Club" for c in one.clubs)  # not lost


def test_db_import_with_workers_stores_what_one_process_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--db` needs every record's provenance (its changes) and issues, which workers send
    back packed: the store holds the same rows either way, and importing the same files
    again with workers changes nothing (the same @ids, so no second copies)."""
    monkeypatch.setattr(run, "PIECE_BYTES", 4096)  # the sample and the rifle clubs cut too
    files = [str(SAMPLE), str(RIFLE), str(SHARED / "data" / "OpenActive-Clubs-Example.xlsx")]

    def stored(db: Path) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(db)) as connection:
            query = "SELECT id, state, data, source, provenance, issues FROM clubs ORDER BY id"
            return connection.execute(query).fetchall()

    for workers in ("1", "2", "2"):  # the second run with workers imports the same again
        db = tmp_path / ("one.sqlite" if workers == "1" else "two.sqlite")
        args = ["import", *files, "--db", str(db), "--source", "registers", "-q"]
        result = CliRunner().invoke(cli, [*args, "--workers", workers])
        assert result.exit_code == 1, result.output  # the sample repeats some clubs
    one, two = stored(tmp_path / "one.sqlite"), stored(tmp_path / "two.sqlite")
    assert one == two and len(one) > 850
    provenance = orjson.loads(one[0][4])
    assert provenance["changes"] and provenance["file"] in files
    with closing(sqlite3.connect(tmp_path / "two.sqlite")) as connection:
        (modified,) = connection.execute("SELECT max(modified) FROM clubs").fetchone()
    assert modified == len(two)  # the second import changed no record


def test_csv_without_names_with_workers_is_unreadable_and_leaves_no_file_open(
    tmp_path: Path,
) -> None:
    """A register without a column of names cannot be imported: with workers too it is
    listed as unreadable with the headers it has, and the file opened to cut it is closed
    (an unclosed file is a ResourceWarning, an error under these tests' warning filter)."""
    path = tmp_path / "towns.csv"
    path.write_text("Town,Postcode\n" + "".join(f"Leeds,LS{n} 1AA\n" for n in range(1, 30)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        two = import_files([str(path)], workers=2)
        gc.collect()
    one = import_files([str(path)])
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    assert two.unreadable == one.unreadable
    assert (
        "no column with the clubs' names (row 1 has the headers 'Town', 'Postcode')"
        in (one.unreadable[0])
    )
