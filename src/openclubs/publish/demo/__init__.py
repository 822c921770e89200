"""Demo data for ``openclubs serve --demo``: a few fictional clubs across the UK (web and
email addresses under example.org, telephone numbers from Ofcom's drama ranges), with real
OpenActive Activity List ids. Their ids are rebased onto the server's /clubs/ address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from openclubs.store.base import Store
from openclubs.store.sqlite import club_key
from openclubs.validate import check_record

FOLDER = Path(__file__).resolve().parent
SOURCE = "demo"


def demo_records(base_url: str) -> list[tuple[str, dict[str, Any]]]:
    """(file name, record) for every demo club, its @id rebased to BASE/clubs/KEY."""
    out = []
    for path in sorted(FOLDER.glob("*.jsonld")):
        record = orjson.loads(path.read_bytes())
        record["@id"] = f"{base_url.rstrip('/')}/clubs/{club_key(record['@id'])}"
        out.append((path.name, record))
    return out


def load_demo(store: Store, base_url: str) -> int:
    """Import the demo clubs when the store is empty; returns how many were written."""
    if sum(store.counts().values()):
        return 0
    summary = store.upsert(
        (
            (record, {"file": f"openclubs/publish/demo/{name}"}, _issues(record))
            for name, record in demo_records(base_url)
        ),
        SOURCE,
    )
    return summary.created


def _issues(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [issue.to_dict() for issue in check_record(record)]
