"""The token-protected write API: validated on write, refused with the report, all or nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openclubs.publish.app import create_app
from openclubs.publish.settings import Settings
from openclubs.store import SQLiteStore
from tests.helpers import ROOT

BASE = "https://clubs.example.org"
GREENWICH = json.loads((ROOT / "examples" / "greenwich-yacht-club.jsonld").read_text())


def club(n: int, name: str | None = None) -> dict[str, Any]:
    """A valid club record (the repository's Greenwich example) under a new @id."""
    record = copy.deepcopy(GREENWICH)
    record["@id"] = f"{BASE}/clubs/club-{n:04d}"
    record["name"] = name or f"Test Club {n}"
    return record


TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "clubs.sqlite3")
    db.migrate()
    yield db
    db.close()


def client_for(store: SQLiteStore, token: str | None = TOKEN) -> TestClient:
    return TestClient(create_app(store, Settings(base_url=BASE, write_token=token)))


def feed(client: TestClient) -> list[dict[str, Any]]:
    return list(client.get("/feeds/organizations").json()["items"])


def test_post_put_delete(store: SQLiteStore) -> None:
    client = client_for(store)
    created = client.post("/api/clubs", json=club(1), headers=AUTH)
    assert created.status_code == 201
    assert created.headers["location"] == f"{BASE}/clubs/club-0001"
    assert client.get("/clubs/club-0001.json").json()["name"] == "Test Club 1"
    assert client.post("/api/clubs", json=club(1), headers=AUTH).status_code == 409
    first = feed(client)[0]["modified"]
    renamed = client.put("/api/clubs/club-0001", json=club(1, name="Renamed"), headers=AUTH)
    assert renamed.status_code == 200
    (item,) = feed(client)
    assert item["data"]["name"] == "Renamed" and item["modified"] > first
    assert client.delete("/api/clubs/club-0001", headers=AUTH).status_code == 204
    (item,) = feed(client)
    assert item["state"] == "deleted" and "data" not in item
    assert client.delete("/api/clubs/club-0001", headers=AUTH).status_code == 404


def test_invalid_record_is_refused_with_the_report_and_nothing_written(
    store: SQLiteStore,
) -> None:
    client = client_for(store)
    bad = club(2)
    del bad["activity"]
    bad["location"]["address"]["addressCountry"] = "UK"
    response = client.post("/api/clubs", json=bad, headers=AUTH)
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False and body["status"] == 422
    assert {(e["type"], e["path"]) for e in body["errors"]} == {
        ("missing_required_property", "$.activity"),
        ("invalid_country_code", "$.location.address.addressCountry"),
    }
    assert feed(client) == [] and store.counts() == {}


@pytest.mark.parametrize(
    ("token", "headers", "status"),
    [
        (None, AUTH, 403),
        (TOKEN, {}, 401),
        (TOKEN, {"Authorization": "Bearer wrong"}, 401),
        (TOKEN, {"Authorization": f"Basic {TOKEN}"}, 401),
    ],
)
def test_refused_without_the_token(
    store: SQLiteStore, token: str | None, headers: dict[str, str], status: int
) -> None:
    client = client_for(store, token)
    assert client.post("/api/clubs", json=club(3), headers=headers).status_code == status
    assert client.delete("/api/clubs/club-0003", headers=headers).status_code == status
    assert store.counts() == {}


def test_bad_bodies(store: SQLiteStore) -> None:
    client = client_for(store)
    raw = client.post("/api/clubs", content=b'{"name": ', headers=AUTH)
    assert raw.status_code == 400 and "not JSON" in raw.json()["error"]
    assert client.post("/api/clubs", json=[club(4)], headers=AUTH).status_code == 400
    no_id = club(4)
    del no_id["@id"]
    assert client.post("/api/clubs", json=no_id, headers=AUTH).status_code == 422
    moved = client.put("/api/clubs/other-key", json=club(4), headers=AUTH)
    assert moved.status_code == 422


def test_edge_cases_of_keys_tokens_and_ids(store: SQLiteStore) -> None:
    client = client_for(store)
    odd = club(9)
    odd["@id"] = f"{BASE}/clubs/łódź-yacht-club"
    created = client.post("/api/clubs", json=odd, headers=AUTH)
    assert created.status_code == 201
    assert created.headers["location"].endswith("/clubs/%C5%82%C3%B3d%C5%BA-yacht-club")
    non_ascii = {"Authorization": "Bearer s\u00e9cret".encode("latin-1")}
    assert client.post("/api/clubs", json=club(10), headers=non_ascii).status_code == 401
    client.post("/api/clubs", json=club(11), headers=AUTH)
    hijack = club(11)
    hijack["@id"] = "https://evil.example/clubs/club-0011"
    refused = client.put("/api/clubs/club-0011", json=hijack, headers=AUTH)
    assert refused.status_code == 422 and "cannot change" in refused.json()["error"]
    assert client.delete("/api/clubs/club-0011", headers=AUTH).status_code == 204
    revived = client.put("/api/clubs/club-0011", json=club(11), headers=AUTH)
    assert revived.status_code == 201


def test_wrong_tokens_lock_the_address_out_for_a_while(store: SQLiteStore) -> None:
    """Guessing the write token: after 5 wrong bearer tokens in 15 minutes the address gets
    429 with Retry-After, even with the right token, until the oldest guess is 15 minutes
    old; requests without a token are not guesses, and other addresses are not affected."""
    from openclubs.webtools.limits import WindowLimiter

    now = [5000.0]
    app = create_app(store, Settings(base_url=BASE, write_token=TOKEN))
    app.state.write_token_failures = WindowLimiter(5, 900.0, clock=lambda: now[0])
    guesser = TestClient(app, client=("203.0.113.9", 50000))
    for _ in range(8):  # no Authorization header: refused, not counted
        assert guesser.post("/api/clubs", json=club(1)).status_code == 401
    for n in range(5):  # the 5th wrong token is the last one allowed: 429 from then on
        answer = guesser.post("/api/clubs", json=club(1), headers={"Authorization": f"Bearer {n}"})
        assert answer.status_code == (401 if n < 4 else 429)
    locked = guesser.post("/api/clubs", json=club(1), headers=AUTH)
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "900"
    assert locked.json()["error"].startswith("Too many wrong tokens from your address")
    other = TestClient(app, client=("198.51.100.7", 50000))
    assert other.post("/api/clubs", json=club(2), headers=AUTH).status_code == 201
    now[0] += 600
    assert guesser.post("/api/clubs", json=club(1), headers=AUTH).headers["retry-after"] == "300"
    now[0] += 300
    assert guesser.post("/api/clubs", json=club(1), headers=AUTH).status_code == 201
