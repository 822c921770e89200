"""Parity with the official OpenActive data-model-validator (dmv).

Every record in ``tests/parity/`` is run through openclubs and through the official validator
(``build/shared/peers/dmv.js --activity-probe``, installed by ``scripts/setup.sh``). Only
FAILURES are compared, keyed by a normalised JSONPath. Each path where exactly one of the two
reports a failure is a *difference*; the set of differences must equal, exactly, the rows of
the table in ``docs/divergences.md``. A new divergence (a rule changed on either side) and a
fixed one (a listed row no longer seen) both fail, with the rows to add or remove.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openclubs.validate import validate
from openclubs.vocab.store import ACTIVITY_LIST_FILE, bundled_text

pytestmark = pytest.mark.peers

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "parity"
DIVERGENCES = ROOT / "docs" / "divergences.md"
PEERS = ROOT / "build" / "shared" / "peers"
DMV = PEERS / "dmv.js"
NODE_MODULES = PEERS / "node" / "node_modules"
WHO = ("official", "openclubs")

CORPUS_FILES = sorted(CORPUS.glob("*.json"))


# --- normalised paths ---------------------------------------------------------------------

_INDEX = re.compile(r"\[(\d+)\]")
_KEYS = re.compile(r"""\[((?:'[^']*'|"[^"]*")(?:\s*,\s*(?:'[^']*'|"[^"]*"))*)\]""")
_QUOTED = re.compile(r"""'([^']*)'|"([^"]*)\"""")
_ROOT_ITEM = re.compile(r"^\$\[(\d+)\]")


def normalise(path: str) -> str:
    """A JSONPath in dotted form without `@`, the same for both validators.

    ``$.location['@id']`` (openclubs) and ``$.location.id`` (official) both become
    ``location.id``; ``$.activity[0]["@id"]`` becomes ``activity.0.id``; the official
    validator's group path ``$.location["address","geo"]`` becomes ``location.address|geo``;
    the root is ``$``.
    """
    if not path.startswith("$"):
        raise ValueError(f"not a JSONPath: {path!r}")
    body = _KEYS.sub(
        lambda m: "." + "|".join(a or b for a, b in _QUOTED.findall(m.group(1))), path[1:]
    )
    body = _INDEX.sub(r".\1", body)
    parts = [part.removeprefix("@") for part in body.split(".") if part]
    return ".".join(parts) or "$"


# --- docs/divergences.md -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    file: str
    path: str
    who: str
    rule: str
    clause: str
    heading: str
    line: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.file, self.path, self.who)


_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row; `\\|` is a literal bar inside a cell."""
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [cell.strip().replace("\\|", "|") for cell in _CELL_SPLIT.split(inner)]


def read_table(text: str) -> list[Row]:
    """The divergence rows: every table row whose first cell names a corpus file."""
    rows: list[Row] = []
    heading = ""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            continue
        if not line.lstrip().startswith("|"):
            continue
        cells = _cells(line)
        first = cells[0].strip("`")
        if not first.endswith(".json"):
            continue  # a header or separator row
        if len(cells) != 5:
            raise AssertionError(
                f"docs/divergences.md line {number}: expected 5 cells "
                f"(file | path | fails | official rule | club spec), got {len(cells)}"
            )
        rows.append(
            Row(
                first,
                cells[1].strip("`"),
                cells[2].strip("`"),
                cells[3],
                cells[4],
                heading,
                number,
            )
        )
    return rows


def listed_rows() -> list[Row]:
    return read_table(DIVERGENCES.read_text(encoding="utf-8"))


# --- running the two validators ------------------------------------------------------------


def _record(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _peer_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (run scripts/setup.sh on a machine with Node.js)"
    if not (NODE_MODULES / "@openactive" / "data-model-validator").is_dir():
        return f"the official validator is not installed in {NODE_MODULES} (run scripts/setup.sh)"
    if not DMV.is_file():
        return f"{DMV} is missing (run scripts/setup.sh)"
    return None


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """The official validator's messages for each corpus file, from ONE node process over a
    JSON array of all the records (the same messages as one run per file, minus the
    array-level 'Arrays are not supported' warning; paths are prefixed with `$[i]`)."""
    reason = _peer_missing()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("parity")
    batch = work / "corpus.json"
    batch.write_text(json.dumps([_record(f) for f in CORPUS_FILES]), encoding="utf-8")
    # The same Activity List snapshot as openclubs' bundled one.
    activity_list = work / ACTIVITY_LIST_FILE
    activity_list.write_bytes(bundled_text(ACTIVITY_LIST_FILE))
    done = subprocess.run(
        ["node", str(DMV), str(batch), "--activity-probe", "--activity-list", str(activity_list)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode not in (0, 1):
        pytest.fail(
            f"dmv.js exited with {done.returncode} (one record that crashes the official "
            "validator spoils the whole batch; see 'Not compared' in docs/divergences.md):\n"
            + done.stderr[-3000:]
        )
    messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in done.stdout.splitlines():
        message = json.loads(line)
        match = _ROOT_ITEM.match(message["path"])
        if match is None:
            assert message["severity"] != "failure", f"failure on the whole batch: {message}"
            continue
        name = CORPUS_FILES[int(match.group(1))].name
        messages[name].append({**message, "path": "$" + message["path"][match.end() :]})
    return messages


def official_failures(messages: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Normalised path -> the official rule/type of each failure there."""
    found: dict[str, list[str]] = defaultdict(list)
    for m in messages:
        if m["severity"] == "failure":
            label = f"{m['rule']} {m['type']}"
            if m.get("probe"):
                label += " (activity probe)"
            found[normalise(m["path"])].append(label)
    return found


def openclubs_failures(record: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for issue in validate(record).issues:
        if issue.severity == "failure":
            found[normalise(issue.path)].append(issue.type)
    return found


# --- tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", "$"),
        ("$.location['@id']", "location.id"),
        ("$.location.id", "location.id"),
        ('$.activity[0]["@id"]', "activity.0.id"),
        ("$.activity[0]['@id']", "activity.0.id"),
        ("$.location.address.addressCountry", "location.address.addressCountry"),
        ('$.location["address","geo"]', "location.address|geo"),
        ('$["@context"]', "context"),
        ("$.sameAs[2]", "sameAs.2"),
    ],
)
def test_normalise(path: str, expected: str) -> None:
    assert normalise(path) == expected


def test_corpus_is_small_and_valid_json() -> None:
    assert 10 <= len(CORPUS_FILES) <= 30, "keep the corpus small: dmv takes ~0.2 s a record"
    for f in CORPUS_FILES:
        assert isinstance(_record(f), dict), f"{f.name} must hold one club record"


def test_divergence_table_is_well_formed() -> None:
    rows = listed_rows()
    assert rows, "docs/divergences.md has no divergence rows"
    names = {f.name for f in CORPUS_FILES}
    problems = []
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        where = f"docs/divergences.md line {row.line}"
        if row.file not in names:
            problems.append(f"{where}: {row.file} is not in tests/parity/")
        if row.who not in WHO:
            problems.append(f"{where}: 'fails' must be official or openclubs, not {row.who!r}")
        if normalise("$." + row.path if row.path != "$" else "$") != row.path:
            problems.append(f"{where}: path {row.path!r} is not in normalised form")
        if not row.rule or not row.clause:
            problems.append(f"{where}: the rule and the club spec clause must be filled in")
        if row.key in seen:
            problems.append(f"{where}: duplicate row {row.key}")
        seen.add(row.key)
    assert not problems, "\n".join(problems)


def _suggested_row(name: str, path: str, who: str, why: list[str]) -> str:
    rule = ", ".join(sorted(set(why))) if who == "official" else "—"
    ours = "" if who == "official" else f"openclubs: {', '.join(sorted(set(why)))}; "
    cell = path.replace("|", "\\|")
    return f"| {name} | `{cell}` | {who} | {rule} | {ours}§? why openclubs is right |"


@pytest.mark.parametrize("corpus_file", CORPUS_FILES, ids=lambda p: p.name)
def test_failures_match_official_except_listed_divergences(
    corpus_file: Path,
    official: dict[str, list[dict[str, Any]]],
    vocab_cache: Path,
) -> None:
    name = corpus_file.name
    theirs = official_failures(official.get(name, []))
    ours = openclubs_failures(_record(corpus_file))
    actual: dict[tuple[str, str, str], list[str]] = {}
    for path in theirs.keys() - ours.keys():
        actual[(name, path, "official")] = theirs[path]
    for path in ours.keys() - theirs.keys():
        actual[(name, path, "openclubs")] = ours[path]
    listed = {row.key: row for row in listed_rows() if row.file == name}

    new = sorted(actual.keys() - listed.keys())
    gone = sorted(listed.keys() - actual.keys())
    if new or gone:
        lines = [f"{name}: the failures differ from docs/divergences.md."]
        if new:
            lines.append("New differences (fix the validator, or add these rows with a reason):")
            lines += ["  " + _suggested_row(*key, actual[key]) for key in new]
        if gone:
            lines.append("Listed but no longer seen (remove these rows if this is a fix):")
            lines += [f"  line {listed[key].line}: {key} [{listed[key].heading}]" for key in gone]
        lines.append(f"official failures: {dict(theirs)}")
        lines.append(f"openclubs failures: {dict(ours)}")
        pytest.fail("\n".join(lines), pytrace=False)
