"""A streamed import (each record passed on as soon as it is made) and a parallel one
(worker processes building and validating chunks of rows) give exactly what the in-memory,
single-process import gives: the same records, rejects, notes, changes and issues, in the
same order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from openclubs.cli.main import cli
from openclubs.importer import ImportResult, import_files, run
from openclubs.importer.output import vars_of
from openclubs.importer.run import ImportedClub
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
        split = run._Importer._split_csv(path, "auto", None)
        assert split is not None, name  # cut into pieces, not read here
        assert len(list(split[2])) > 20
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
    assert run._Importer._split_csv(path, "auto", None) is None
    one = import_files([str(path)])
    two = import_files([str(path)], workers=2)
    assert everything(two, two.clubs) == everything(one, one.clubs)
    assert one.summary()["accepted"] == 12
