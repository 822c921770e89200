"""The store's behaviours on both backends, SQLite and PostgreSQL + PostGIS (the `store`
fixture runs each test on each): upserts, tombstones, the RPDE order, prune, concurrent
writers with polling consumers, and that the two backends give the same answers."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from openclubs.store import SQLiteStore, StoredClub
from openclubs.store.base import Store, open_store
from openclubs.store.postgres import MIGRATIONS, PostgresStore, first_point
from openclubs.store.schema import schema_parts
from tests.helpers import SHARED
from tests.test_store import BASE, club, walk

# The core migrations and every schema part's (harvest, search, web tools), on PostgreSQL.
ALL_MIGRATIONS = len(MIGRATIONS) + sum(len(part.postgres) for part in schema_parts())


def location(store: Store) -> str:
    """What `open_store` takes to open another connection to the same store."""
    if isinstance(store, SQLiteStore):
        return store.path
    assert isinstance(store, PostgresStore)
    return store.dsn


def test_open_store_picks_the_backend(store: Store) -> None:
    other = open_store(location(store))
    try:
        assert type(other) is type(store)
        assert other.version() == 1
    finally:
        other.close()


def test_migrate_is_idempotent(store: Store) -> None:
    assert store.version() == 1
    assert store.migrate() == 0
    backend = "postgres" if isinstance(store, PostgresStore) else "sqlite"
    expected = {part.name: len(getattr(part, backend)) for part in schema_parts()}
    assert store.part_versions() == expected and set(expected) >= {"harvest", "search"}
    assert store.counts() == {} and store.last_modified() is None
    assert store.page(None, None, 10) == []


def test_upsert_unchanged_changed_and_tombstones(store: Store) -> None:
    first = store.upsert([(club(n), {"row": n}, []) for n in range(10)], "list-a")
    assert (first.created, first.updated, first.unchanged, first.deleted) == (10, 0, 0, 0)
    before = {c.key: c.modified for c in walk(store)[0]}
    again = store.upsert([(club(n), {"row": n}, []) for n in range(10)], "list-a")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)
    assert {c.key: c.modified for c in walk(store)[0]} == before
    changed = store.upsert(
        [(club(n, "Renamed" if n == 3 else None), {"row": n}, []) for n in range(10) if n != 7],
        "list-a",
        replace_source=True,
    )
    assert (changed.created, changed.updated, changed.unchanged, changed.deleted) == (0, 1, 8, 1)
    gone = store.get("club-00007")
    assert gone is not None and gone.state == "deleted" and gone.data is None
    assert gone.source == "list-a" and gone.provenance == {"row": 7}
    renamed = store.get(f"{BASE}/clubs/club-00003")
    assert renamed is not None and renamed.data is not None and renamed.data["name"] == "Renamed"
    assert renamed.data == club(3, "Renamed") and renamed.provenance == {"row": 3}
    assert gone.modified > max(before.values()) and renamed.modified > max(before.values())
    assert store.counts() == {"updated": 9, "deleted": 1}
    assert store.delete("club-00007") is False  # already a tombstone
    assert store.delete("club-99999") is False
    # a deleted club that comes back is updated again, with a new position in the feed
    back = store.upsert([(club(7), {"row": 7}, [{"rule": "x"}])], "list-a")
    assert (back.created, back.updated) == (0, 1)
    revived = store.get("club-00007")
    assert revived is not None and revived.state == "updated" and revived.data == club(7)
    assert revived.issues == [{"rule": "x"}] and revived.modified > gone.modified
    stamp = store.last_modified()
    assert stamp is not None and len(stamp) == 20 and stamp.endswith("Z")
    assert [c.key for c in store.iter_clubs(batch=3)] == [
        c.key for c in walk(store)[0] if c.state == "updated"
    ]


def test_duplicates_in_one_upsert_are_taken_in_order(store: Store) -> None:
    summary = store.upsert(
        [(club(1), None, []), (club(1), None, []), (club(1, "Second"), None, [])], "x"
    )
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 1)
    (only,) = walk(store)[0]
    assert only.data is not None and only.data["name"] == "Second" and only.modified == 2


def test_other_sources_are_not_deleted(store: Store) -> None:
    store.upsert([(club(1), None, [])], "a")
    store.upsert([(club(2), None, [])], "b", replace_source=True)
    assert store.counts() == {"updated": 2}


def test_feed_order_and_positions(store: Store) -> None:
    store.upsert([(club(n), None, []) for n in range(120)], "x")
    clubs, end = walk(store, limit=17)
    assert len(clubs) == 120
    keys = [(c.modified, c.key) for c in clubs]
    assert keys == sorted(keys) and len(set(keys)) == 120
    assert [c.modified for c in clubs] == list(range(1, 121))
    assert store.page(10**15, "club-00002", 10) == []  # a far-future position is fine
    assert store.page(2**63 - 1, "zzz", 10) == []  # as far as a signed 64-bit integer goes
    assert walk(store, end)[0] == []
    raw = store.page_raw(clubs[9].modified, clubs[9].key, 30)
    assert [(k, s, m) for k, s, m, _ in raw] == [(c.key, c.state, c.modified) for c in clubs[10:40]]
    assert [orjson.loads(d) for *_, d in raw if d is not None] == [c.data for c in clubs[10:40]]
    assert [r[:3] for r in store.page_raw(None, None, 3)] == [
        (c.key, c.state, c.modified) for c in clubs[:3]
    ]
    store.delete(clubs[0].key)
    assert store.page_raw(clubs[-1].modified, clubs[-1].key, 5) == [
        (clubs[0].key, "deleted", 121, None)
    ]
    assert store.page_raw(10**15, "x", 5) == []
    middle = store.page(clubs[49].modified, clubs[49].key, 5)
    assert middle == clubs[50:55]
    assert store.page(clubs[49].modified, None, 5) == clubs[49:54]


def test_prune_keeps_recent_tombstones(store: Store) -> None:
    store.upsert([(club(n), None, []) for n in range(3)], "x")
    store.delete("club-00001")
    assert store.prune() == 0  # younger than 7 days
    assert store.prune(days=1) == 0  # never fewer than 7 days
    assert store.prune(now=time.time() + 6 * 86400) == 0
    assert store.prune(now=time.time() + 8 * 86400) == 1
    assert store.counts() == {"updated": 2}
    assert store.get("club-00001") is None


def test_a_writer_waits_for_the_one_before_it_to_commit(store: Store) -> None:
    """Commit order: while one write transaction is open, another writer waits, readers see
    neither, and the later writer's numbers are larger than the earlier one's."""
    store.upsert([(club(0), None, [])], "x")
    other = open_store(location(store))
    release, started = threading.Event(), threading.Event()
    done: list[str] = []

    def slow_records() -> Any:
        yield club(1), None, []
        started.set()
        assert release.wait(30)
        yield club(2), None, []

    def first_writer() -> None:
        store.upsert(slow_records(), "x")
        done.append("first")

    def second_writer() -> None:
        other.upsert([(club(3), None, [])], "x")
        done.append("second")

    one = threading.Thread(target=first_writer)
    two = threading.Thread(target=second_writer)
    reader = open_store(location(store))
    try:
        one.start()
        assert started.wait(30)
        two.start()
        time.sleep(0.5)
        assert done == []  # the second writer is waiting for the first to commit
        assert [c.key for c in walk(reader)[0]] == ["club-00000"]
        release.set()
        one.join(30)
        two.join(30)
        assert done == ["first", "second"]
        order = [(c.key, c.modified) for c in walk(reader)[0]]
        assert order == [("club-00000", 1), ("club-00001", 2), ("club-00002", 3), ("club-00003", 4)]
    finally:
        release.set()
        for thread in (one, two):
            if thread.ident is not None:
                thread.join(30)
        reader.close()
        other.close()


def test_concurrent_writers_and_polling_consumers(store: Store) -> None:
    """Several writers, each with its own connection, update and delete while two consumers
    poll from the start; when the writers stop, each consumer's copy equals the store,
    deletions included."""
    db = location(store)
    store.upsert([(club(n), None, []) for n in range(200)], "seed")
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        mine, rng = open_store(db), random.Random(seed)
        try:
            for step in range(150):
                n = rng.randrange(260)
                if rng.random() < 0.2:
                    mine.delete(f"club-{n:05d}")
                elif rng.random() < 0.1:
                    batch = [(club(m, f"Club {m} b{seed}.{step}"), None, []) for m in (n, n + 1)]
                    mine.upsert(batch, "w")
                else:
                    mine.upsert([(club(n, f"Club {n} v{seed}.{step}"), None, [])], "w")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)
        finally:
            mine.close()

    def consumer(copy: dict[str, dict[str, Any] | None]) -> None:
        mine = open_store(db)
        position: tuple[int | None, str | None] = (None, None)
        try:
            while True:
                finished = stop.is_set()
                items, position = walk(mine, position, limit=25)
                for item in items:
                    copy[item.key] = item.data
                if finished:
                    return
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)
        finally:
            mine.close()

    copies: list[dict[str, dict[str, Any] | None]] = [{}, {}]
    readers = [threading.Thread(target=consumer, args=(c,)) for c in copies]
    writers = [threading.Thread(target=writer, args=(s,)) for s in range(4)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    assert errors == []
    everything = walk(store)[0]
    truth = {c.key: c.data for c in everything}
    assert any(data is None for data in truth.values())  # deletions happened
    assert [c.modified for c in everything] == sorted(c.modified for c in everything)
    for copy in copies:
        assert copy == truth


# -- the two backends agree ----------------------------------------------------------------


def _comparable(club: StoredClub) -> tuple[Any, ...]:
    return (
        club.key,
        club.id,
        club.state,
        club.modified,
        club.data,
        club.source,
        club.provenance,
        club.issues,
    )


def _same(mine: StoredClub, theirs: StoredClub) -> bool:
    """Equal, but for the number of a tombstone (see below)."""
    if mine.state == "deleted" == theirs.state:
        return _comparable(mine)[:3] + _comparable(mine)[4:] == (
            _comparable(theirs)[:3] + _comparable(theirs)[4:]
        )
    return _comparable(mine) == _comparable(theirs)


def test_both_backends_give_the_same_answers(tmp_path: Path, postgres_dsn: str) -> None:
    """The same random run of writes on SQLite and on PostgreSQL leaves the same feed."""
    lite, pg = open_store(str(tmp_path / "clubs.sqlite3")), open_store(postgres_dsn)
    try:
        for backend in (lite, pg):
            backend.migrate()
        rng = random.Random(7)
        for step in range(60):
            source = rng.choice(["a", "b", None])
            chosen = rng.sample(range(40), rng.randrange(1, 12))
            batch = [
                (
                    club(n, f"Club {n} {rng.randrange(3)}"),
                    {"row": n, "step": step} if rng.random() < 0.7 else None,
                    [{"rule": "r", "n": n}] if rng.random() < 0.3 else [],
                )
                for n in chosen
            ]
            replace = rng.random() < 0.3
            deletion = f"club-{rng.randrange(40):05d}"
            results = []
            for backend in (lite, pg):
                results.append(
                    (
                        backend.upsert(batch, source, replace_source=replace),
                        backend.delete(deletion) if step % 4 == 0 else None,
                        backend.counts(),
                    )
                )
            assert results[0] == results[1]
        feeds = [walk(b, limit=7)[0] for b in (lite, pg)]
        assert len(feeds[0]) > 20
        for feed in feeds:
            assert [c.modified for c in feed] == sorted({c.modified for c in feed})
        # Tombstones made by one replace_source upsert may be numbered in another order
        # (SQLite does not order them); everything else is identical, numbers included.
        by_key = [{c.key: c for c in feed} for feed in feeds]
        assert by_key[0].keys() == by_key[1].keys()
        for key, mine in by_key[0].items():
            assert _same(mine, by_key[1][key])
        for key in ("club-00003", f"{BASE}/clubs/club-00011", "club-00039", "nothing"):
            mine, theirs = lite.get(key), pg.get(key)
            assert (mine is None) == (theirs is None) == (key == "nothing")
            if mine is not None and theirs is not None:
                assert _same(mine, theirs)
        assert [_comparable(c) for c in lite.iter_clubs(5)] == [
            _comparable(c) for c in pg.iter_clubs(5)
        ]
    finally:
        lite.close()
        pg.close()


# -- PostgreSQL only: the schema --------------------------------------------------------------


def test_postgres_schema_geo_and_indexes(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn)
    try:
        assert store.version() == 0
        assert store.migrate() == ALL_MIGRATIONS and store.migrate() == 0
        assert store.version() == 1
        assert store.part_versions() == {p.name: len(p.postgres) for p in schema_parts()}
        placeless = {**club(2), "location": {"@type": "Place", "name": "Nowhere"}}
        second = {
            **club(3),
            "location": [{"@type": "Place", "name": "No geo"}, club(3)["location"]],
        }
        store.upsert([(club(1), None, []), (placeless, None, []), (second, None, [])], "x")
        with psycopg.connect(postgres_dsn) as db:
            rows = db.execute(
                "SELECT key, ST_X(geo::geometry), ST_Y(geo::geometry) FROM clubs ORDER BY key"
            ).fetchall()
            assert rows == [
                ("club-00001", -0.12, pytest.approx(51.5001)),
                ("club-00002", None, None),
                ("club-00003", -0.12, pytest.approx(51.5003)),
            ]
            near = db.execute(
                "SELECT key FROM clubs WHERE ST_DWithin(geo, "
                "ST_SetSRID(ST_MakePoint(-0.12, 51.5001), 4326)::geography, 10)"
            ).fetchall()
            assert near == [("club-00001",)]
            indexes = dict(
                db.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'clubs'")
            )
            assert "USING gist (geo)" in indexes["clubs_geo"]
            assert "(modified, key)" in indexes["clubs_feed"]
            assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
            kinds = dict(
                db.execute(
                    "SELECT column_name, udt_name FROM information_schema.columns "
                    "WHERE table_name = 'clubs'"
                )
            )
            assert kinds["data"] == "jsonb" and kinds["geo"] == "geography"
            assert kinds["modified"] == "int8"
        store.delete("club-00001")
        with psycopg.connect(postgres_dsn) as db:
            row = db.execute("SELECT geo FROM clubs WHERE key = 'club-00001'").fetchone()
            assert row == (None,)
    finally:
        store.close()


def test_first_point() -> None:
    assert first_point(club(5)) == (-0.12, 51.5005)
    assert first_point({"location": {"geo": {"latitude": "52.1", "longitude": "-1"}}}) == (
        -1.0,
        52.1,
    )
    for bad in ({"latitude": 91, "longitude": 0}, {"latitude": True, "longitude": 0}, "x", {}):
        assert first_point({"location": [{"geo": bad}]}) is None
    assert first_point({"name": "no place"}) is None


def test_postgres_writer_gives_up_after_its_timeout(postgres_dsn: str) -> None:
    """Like SQLite's busy timeout; and the transactions are READ COMMITTED whatever the
    server's default isolation level."""
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        database = admin.execute("SELECT current_database()").fetchone()
        assert database is not None
        admin.execute(
            f"ALTER DATABASE {database[0]} SET default_transaction_isolation = 'serializable'"
        )
    store, impatient = PostgresStore(postgres_dsn), PostgresStore(postgres_dsn, timeout=0.2)
    try:
        store.migrate()
        with store._write() as cursor:
            cursor.execute("SHOW transaction_isolation")
            assert cursor.fetchone() == ("read committed",)
            # the impatient store's lock timeout, not a wait for ever: LockNotAvailable
            with pytest.raises(psycopg.errors.LockNotAvailable):
                impatient.upsert([(club(1), None, [])], "x")
        assert impatient.upsert([(club(1), None, [])], "x").created == 1
    finally:
        store.close()
        impatient.close()


def test_concurrent_migrations_on_postgres(postgres_dsn: str) -> None:
    results: list[int] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        store = PostgresStore(postgres_dsn)
        try:
            results.append(store.migrate())
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)
        finally:
            store.close()

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(results) == [0, 0, 0, ALL_MIGRATIONS]


def test_cli_import_and_export_on_postgres(postgres_dsn: str, tmp_path: Path) -> None:
    """`--db postgresql://...` reaches the PostgreSQL store through the same commands."""
    from tests.test_store import run

    sample = str(SHARED / "data" / "examples" / "16-hmrc-registered-casc-sample.csv")
    assert "schema version 1" in run("db", "init", "--db", postgres_dsn).output
    first = run("import", sample, "--db", postgres_dsn, "--source", "casc", "--base-url", BASE)
    assert "55 new, 0 changed, 0 unchanged, 0 deleted" in first.output
    exported = run("export", "--db", postgres_dsn, "--format", "jsonld").stdout.splitlines()
    assert len(exported) == 55


def test_same_slug_on_two_hosts_stays_two_clubs(store: Store) -> None:
    a = club(1) | {"@id": "https://a.example.org/clubs/rovers", "name": "Rovers A"}
    b = club(2) | {"@id": "https://b.example.org/clubs/rovers", "name": "Rovers B"}
    summary = store.upsert([(a, None, []), (b, None, [])], "x")
    assert (summary.created, summary.updated) == (2, 0)
    assert store.counts() == {"updated": 2}
    first, second = store.get(a["@id"]), store.get(b["@id"])
    assert first is not None and second is not None and first.key != second.key
    assert first.data is not None and first.data["name"] == "Rovers A"
    again = store.upsert([(a, None, []), (b, None, [])], "x")  # same keys found again
    assert again.unchanged == 2 and store.counts() == {"updated": 2}


def test_unchanged_record_under_a_new_source_belongs_to_it(store: Store) -> None:
    """A list renamed ("list.csv" -> "ngb") then shrunk: the club that left is deleted."""
    store.upsert([(club(1), {"row": 1}, []), (club(2), {"row": 2}, [])], "list.csv")
    moved = store.upsert([(club(1), {"row": 1}, []), (club(2), {"row": 2}, [])], "ngb")
    assert moved.unchanged == 2
    kept = store.get(club(1)["@id"])
    assert kept is not None and kept.source == "ngb"
    shrunk = store.upsert([(club(1), {"row": 5}, [{"type": "x"}])], "ngb", replace_source=True)
    assert (shrunk.unchanged, shrunk.deleted) == (1, 1)
    after = store.get(club(1)["@id"])
    assert after is not None and after.provenance == {"row": 5} and after.issues == [{"type": "x"}]
    gone = store.get(club(2)["@id"])
    assert gone is not None and gone.state == "deleted"
