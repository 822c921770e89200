"""The shared store: PostgreSQL 15 + PostGIS through psycopg 3, for many web workers and
harvesters on several machines. Same interface and behaviour as `SQLiteStore`.

The clubs table keeps the Club Spec JSON-LD in a `jsonb` column, and a PostGIS
`geography(Point)` column `geo` (the coordinates of the first place that has any; NULL when
none, and for tombstones) with a GIST index, for search. The feed reads the `(modified, key)`
index with a keyset query. `key` sorts with the "C" collation, byte order, whatever the
database's default collation is, so every backend pages in the same order.

How `modified` stays strictly increasing in commit order (docs/rpde-and-harvesting.md §1.7,
option (b), "serialise writers"): every write transaction starts by locking the one row of
`change_counter` (`SELECT … FOR UPDATE`) and takes its numbers from that row (`UPDATE
change_counter SET value = value + n RETURNING value`). A row lock is held until the
transaction commits or rolls back, so at most one write transaction at a time, on any machine
that uses the database, holds numbers that are not yet committed. A writer that waits for the
lock gets it only after the previous holder has committed, and then reads the counter's
committed value (READ COMMITTED re-reads a row it waited for), so its numbers are larger than
every number committed before it and it commits after all of them: number order is commit
order. PostgreSQL makes a commit visible before it releases that transaction's locks, so a
reader that sees a number N has already been able to see every smaller one, and a consumer that
has read up to N can never miss a change committed later with a number ≤ N. (A sequence or
`now()` would not do: they are assigned when a statement runs, not at commit, so concurrent
transactions can commit their numbers out of order.)

Taking the lock first also makes each write transaction's read-then-write steps (is this
record unchanged? which clubs of this source are gone?) run as if alone, as SQLite's
`BEGIN IMMEDIATE` does, and gives every writer the same single lock order (no deadlocks).
Readers take no lock and are never blocked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any, LiteralString

import orjson
import psycopg
from psycopg.types.json import Jsonb

from openclubs.store.export import number, places
from openclubs.store.schema import migrate_parts
from openclubs.store.sqlite import (
    TOMBSTONE_DAYS,
    StoredClub,
    WriteSummary,
    _hash,
    club_key,
    iter_current,
    unique_key,
)

# Each migration is a list of statements, run in one transaction with its schema_version row.
MIGRATIONS: tuple[tuple[LiteralString, ...], ...] = (
    (
        "CREATE EXTENSION IF NOT EXISTS postgis",
        """
        CREATE TABLE clubs (
            key TEXT COLLATE "C" PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL CHECK (state IN ('updated', 'deleted')),
            modified BIGINT NOT NULL UNIQUE,
            data JSONB,
            content_hash TEXT,
            source TEXT,
            provenance JSONB,
            issues JSONB NOT NULL DEFAULT '[]',
            geo GEOGRAPHY(Point, 4326),
            updated_at TIMESTAMPTZ NOT NULL
        )
        """,
        "CREATE INDEX clubs_feed ON clubs (modified, key)",
        "CREATE INDEX clubs_source ON clubs (source, state)",
        "CREATE INDEX clubs_geo ON clubs USING GIST (geo)",
        "CREATE TABLE change_counter (value BIGINT NOT NULL)",
        "INSERT INTO change_counter VALUES (0)",
    ),
)
# pg_advisory_xact_lock key that serialises concurrent `migrate()` calls.
_MIGRATE_LOCK = 0x6F70656E636C7562  # "openclub"
_CHUNK = 1000

# The JSON columns are read as text and parsed with orjson: faster than psycopg's loaders.
_COLUMNS = (
    "key, id, state, modified, data::text, source, provenance::text, issues::text, "
    """to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
)
_UPSERT = (
    "INSERT INTO clubs (key, id, state, modified, data, content_hash, source, provenance, "
    "issues, geo, updated_at) VALUES (%s, %s, 'updated', %s, %s, %s, %s, %s, %s, "
    "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s) "
    "ON CONFLICT (key) DO UPDATE SET id = EXCLUDED.id, state = EXCLUDED.state, "
    "modified = EXCLUDED.modified, data = EXCLUDED.data, content_hash = EXCLUDED.content_hash, "
    "source = EXCLUDED.source, provenance = EXCLUDED.provenance, issues = EXCLUDED.issues, "
    "geo = EXCLUDED.geo, updated_at = EXCLUDED.updated_at"
)
_TOMBSTONE = (
    "UPDATE clubs SET state = 'deleted', data = NULL, content_hash = NULL, geo = NULL, "
    "modified = %s, updated_at = %s WHERE key = %s AND state = 'updated'"
)

Record = tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _jsonb(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value, dumps=_json_text)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def first_point(record: dict[str, Any]) -> tuple[float, float] | None:
    """(longitude, latitude) of the first place of a club that has usable coordinates."""
    for place in places(record):
        geo = place.get("geo")
        if not isinstance(geo, dict):
            continue
        lat, lon = number(geo.get("latitude")), number(geo.get("longitude"))
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            return lon, lat
    return None


class PostgresStore:
    """The store in a PostgreSQL database (with PostGIS), given a `postgresql://` URL.

    One connection per store, in autocommit mode: each read is one statement, each write one
    transaction. Writes from several threads on one store take turns; give each worker its
    own store for concurrency."""

    def __init__(self, dsn: str, *, timeout: float = 30.0) -> None:
        self.dsn = dsn
        self._db = psycopg.connect(dsn, autocommit=True, application_name="openclubs")
        # READ COMMITTED whatever the server's default: a writer that waited for the counter's
        # lock must then read the counter as committed (see the module docstring).
        self._db.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        # Like SQLite's busy timeout: a writer gives up after waiting this long for the lock.
        self._db.execute(
            "SELECT set_config('lock_timeout', %s, false)", (f"{int(timeout * 1000)}ms",)
        )
        self._lock = threading.RLock()

    def close(self) -> None:
        self._db.close()

    # -- schema ------------------------------------------------------------------------------

    def version(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            if row is None or not row[0]:
                return 0
            row = self._db.execute(
                "SELECT coalesce(max(version), 0) FROM schema_version"
            ).fetchone()
            return 0 if row is None else int(row[0])

    def migrate(self) -> int:
        """Bring the schema up to date; returns the number of migrations applied. Safe to run
        from several processes at once (they take turns on an advisory lock)."""
        applied = 0
        with self._lock, self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            current = self.version()
            for number, statements in enumerate(MIGRATIONS, start=1):
                if current < number:
                    for statement in statements:
                        self._db.execute(statement)
                    self._db.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
                    applied += 1
            applied += migrate_parts(self._db.execute, "postgres")
        return applied

    def part_versions(self) -> dict[str, int]:
        """The migration number each schema part is at."""
        with self._lock:
            row = self._db.execute("SELECT to_regclass('schema_parts') IS NOT NULL").fetchone()
            if row is None or not row[0]:
                return {}
            rows = self._db.execute("SELECT name, version FROM schema_parts").fetchall()
        return {str(name): int(version) for name, version in rows}

    @contextmanager
    def _write(self) -> Iterator[psycopg.Cursor[Any]]:
        """One write transaction, holding the change counter's row lock from its start to its
        commit (see the module docstring)."""
        with self._lock, self._db.transaction(), self._db.cursor() as cursor:
            cursor.execute("SELECT value FROM change_counter FOR UPDATE")
            yield cursor

    @staticmethod
    def _reserve(cursor: psycopg.Cursor[Any], count: int) -> int:
        """Take `count` consecutive change numbers; returns the first."""
        cursor.execute("UPDATE change_counter SET value = value + %s RETURNING value", (count,))
        row = cursor.fetchone()
        assert row is not None
        return int(row[0]) - count + 1

    # -- writing -----------------------------------------------------------------------------

    def upsert(
        self,
        records: Iterable[Record],
        source: str | None = None,
        *,
        replace_source: bool = False,
    ) -> WriteSummary:
        """Write (record, provenance, issues) triples in one transaction. An unchanged record
        keeps its `modified` (the feed does not churn). With `replace_source`, clubs of that
        source that are not in `records` become deletions (tombstones)."""
        created = updated = unchanged = deleted = 0
        seen: set[str] = set()
        items = iter(records)
        with self._write() as cursor:
            while chunk := list(islice(items, _CHUNK)):
                for key, outcome in self._write_chunk(cursor, chunk, source):
                    seen.add(key)
                    if outcome == "created":
                        created += 1
                    elif outcome == "updated":
                        updated += 1
                    else:
                        unchanged += 1
            if replace_source and source is not None:
                cursor.execute(
                    "SELECT key FROM clubs WHERE source = %s AND state = 'updated' ORDER BY key",
                    (source,),
                )
                gone = [key for (key,) in cursor.fetchall() if key not in seen]
                if gone:
                    self._tombstone(cursor, gone)
                deleted = len(gone)
        return WriteSummary(created, updated, unchanged, deleted)

    def _keys(self, cursor: Any, ids: list[str]) -> dict[str, str]:
        """The key of each @id: the one it has in the store, else a new unique one."""
        cursor.execute("SELECT id, key FROM clubs WHERE id = ANY(%s)", (ids,))
        keys: dict[str, str] = {club_id: key for club_id, key in cursor}
        new = [club_id for club_id in dict.fromkeys(ids) if club_id not in keys]
        if new:
            cursor.execute(
                "SELECT key, id FROM clubs WHERE key = ANY(%s)", ([club_key(i) for i in new],)
            )
            taken: dict[str, str] = {key: club_id for key, club_id in cursor}
            for club_id in new:
                key = unique_key(club_id, taken.get)
                taken[key] = club_id
                keys[club_id] = key
        return keys

    def delete(self, club_id_or_key: str) -> bool:
        """Mark a club deleted (a tombstone stays in the feed); False if there is none."""
        with self._write() as cursor:
            cursor.execute(
                "SELECT key FROM clubs WHERE (key = %s OR id = %s) AND state = 'updated' LIMIT 1",
                (club_id_or_key, club_id_or_key),
            )
            row = cursor.fetchone()
            if row is None:
                return False
            self._tombstone(cursor, [str(row[0])])
            return True

    def _tombstone(self, cursor: psycopg.Cursor[Any], keys: list[str]) -> None:
        first = self._reserve(cursor, len(keys))
        now = _now()
        cursor.executemany(
            _TOMBSTONE, [(first + offset, now, key) for offset, key in enumerate(keys)]
        )

    def prune(self, days: float = TOMBSTONE_DAYS, now: float | None = None) -> int:
        """Remove tombstones older than `days` (never fewer than the 7 RPDE requires)."""
        days = max(days, TOMBSTONE_DAYS)
        cutoff = datetime.fromtimestamp(
            (now or datetime.now(UTC).timestamp()) - days * 86400, UTC
        ).replace(microsecond=0)
        with self._write() as cursor:
            cursor.execute(
                "DELETE FROM clubs WHERE state = 'deleted' AND updated_at < %s RETURNING key",
                (cutoff,),
            )
            keys = [str(row[0]) for row in cursor.fetchall()]
            if keys:  # the search index may not have read these tombstones yet
                from openclubs.search.postgres_index import forget

                forget(cursor, keys)
            return len(keys)

    # -- reading -----------------------------------------------------------------------------

    def get(self, club_id_or_key: str) -> StoredClub | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM clubs WHERE key = %s OR id = %s LIMIT 1",
                (club_id_or_key, club_id_or_key),
            ).fetchone()
        return None if row is None else _club(row)

    def page(
        self, after_modified: int | None, after_key: str | None, limit: int
    ) -> list[StoredClub]:
        """One RPDE page: `WHERE (modified, key) > (@afterTimestamp, @afterId) ORDER BY
        modified, key`, one query (one range scan of the feed index)."""
        with self._lock:
            if after_modified is None:
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM clubs ORDER BY modified, key LIMIT %s", (limit,)
                ).fetchall()
            else:
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM clubs WHERE (modified, key) > (%s, %s) "
                    "ORDER BY modified, key LIMIT %s",
                    (after_modified, after_key or "", limit),
                ).fetchall()
        return [_club(r) for r in rows]

    def page_raw(
        self, after_modified: int | None, after_key: str | None, limit: int
    ) -> list[tuple[str, str, int, bytes | None]]:
        """The same page as `page`, as (key, state, modified, data as JSON bytes): what the
        feed needs, without building every record as Python objects. (jsonb's text form: the
        same JSON, with its own key order and spacing.)"""
        with self._lock:
            if after_modified is None:
                rows = self._db.execute(
                    "SELECT key, state, modified, data::text FROM clubs "
                    "ORDER BY modified, key LIMIT %s",
                    (limit,),
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT key, state, modified, data::text FROM clubs "
                    "WHERE (modified, key) > (%s, %s) ORDER BY modified, key LIMIT %s",
                    (after_modified, after_key or "", limit),
                ).fetchall()
        return [(k, s, int(m), None if d is None else d.encode()) for k, s, m, d in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) FROM clubs GROUP BY state").fetchall()
        return {str(state): int(n) for state, n in rows}

    def last_modified(self) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', "
                """'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM clubs"""
            ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def iter_clubs(self, batch: int = 1000) -> Iterator[StoredClub]:
        """Every current (not deleted) club, in feed order, streamed."""
        return iter_current(self.page, batch)

    # -- harvesting ---------------------------------------------------------------------------
    # For openclubs.harvest: one write transaction holding the change counter's lock (as every
    # write does, so change numbers stay commit-ordered) in which the harvester reads and writes
    # its own tables (openclubs.harvest.schema) and puts or withdraws clubs, so that a page's
    # items and the feed's checkpoint are committed together or not at all.

    @contextmanager
    def harvest_transaction(self) -> Iterator[PostgresHarvestTx]:
        """A write transaction for the harvester (committed on exit, rolled back on error)."""
        with self._write() as cursor:
            yield PostgresHarvestTx(self, cursor)

    def harvest_query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read of the harvester's tables, outside any transaction (`?` placeholders)."""
        with self._lock:
            return list(self._db.execute(_pg(sql), tuple(params)).fetchall())

    def _put_clubs(
        self, cursor: psycopg.Cursor[Any], records: Sequence[Record], source: str | None
    ) -> list[str]:
        """Records as `upsert` writes them, inside the caller's transaction."""
        return [outcome for _, outcome in self._write_chunk(cursor, records, source)]

    def _write_chunk(
        self, cursor: psycopg.Cursor[Any], records: Sequence[Record], source: str | None
    ) -> list[tuple[str, str]]:
        """Write (record, provenance, issues) triples inside the caller's write transaction;
        returns (key, "created" | "updated" | "unchanged") for each. An unchanged record keeps
        its `modified` (the feed does not churn); where it came from is refreshed."""
        if not records:
            return []
        keyed = self._keys(cursor, [record["@id"] for record, _, _ in records])
        cursor.execute(
            "SELECT key, state, content_hash FROM clubs WHERE key = ANY(%s)",
            (list(keyed.values()),),
        )
        known: dict[str, tuple[str, str | None]] = {
            key: (state, digest) for key, state, digest in cursor
        }
        outcomes: list[tuple[str, str]] = []
        changed: list[tuple[str, dict[str, Any], Any, list[Any], str]] = []
        refreshed: list[tuple[Any, ...]] = []
        for record, provenance, issues in records:
            key = keyed[record["@id"]]
            digest = _hash(record)
            prior = known.get(key)
            if prior == ("updated", digest):
                refreshed.append((source, _jsonb(provenance), _jsonb(issues), key))
                outcomes.append((key, "unchanged"))
                continue
            outcomes.append((key, "created" if prior is None else "updated"))
            known[key] = ("updated", digest)
            changed.append((key, record, provenance, issues, digest))
        if refreshed:
            cursor.executemany(
                "UPDATE clubs SET source = %s, provenance = %s, issues = %s WHERE key = %s",
                refreshed,
            )
        if changed:
            first = self._reserve(cursor, len(changed))
            now = _now()
            rows = []
            for offset, (key, record, provenance, issues, digest) in enumerate(changed):
                lon, lat = first_point(record) or (None, None)
                rows.append(
                    (
                        key,
                        record["@id"],
                        first + offset,
                        _jsonb(record),
                        digest,
                        source,
                        _jsonb(provenance),
                        _jsonb(issues),
                        lon,
                        lat,
                        now,
                    )
                )
            cursor.executemany(_UPSERT, rows)
        return outcomes


def _club(row: tuple[Any, ...]) -> StoredClub:
    key, club_id, state, modified, data, source, provenance, issues, updated_at = row
    return StoredClub(
        key=key,
        id=club_id,
        state=state,
        modified=int(modified),
        data=orjson.loads(data) if data is not None else None,
        source=source,
        provenance=orjson.loads(provenance) if provenance is not None else None,
        issues=orjson.loads(issues) if issues is not None else [],
        updated_at=updated_at,
    )


# -- harvesting -----------------------------------------------------------------------------------


def _pg(sql: str) -> LiteralString:
    """The harvester's SQL (`?` placeholders, no `%`) in psycopg's placeholder style."""
    return sql.replace("?", "%s")  # type-checkers read str as LiteralString


class PostgresHarvestTx:
    """The harvester's view of one open write transaction (`PostgresStore.harvest_transaction`).
    SQL uses `?` placeholders on both backends."""

    def __init__(self, store: PostgresStore, cursor: psycopg.Cursor[Any]) -> None:
        self._store = store
        self._cursor = cursor

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(_pg(sql), tuple(params))
        return list(self._cursor.fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(_pg(sql), tuple(params))
        return int(self._cursor.rowcount)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(r) for r in rows]
        if batch:
            self._cursor.executemany(_pg(sql), batch)

    def put_clubs(self, records: Sequence[Record], source: str | None) -> list[str]:
        """Create or update clubs as `upsert` does (an unchanged record keeps its `modified`);
        returns "created", "updated" or "unchanged" for each."""
        return self._store._put_clubs(self._cursor, records, source)

    def remove_clubs(self, club_ids: Iterable[str]) -> int:
        """Tombstone the current clubs with these @ids; returns how many there were."""
        ids = list(dict.fromkeys(club_ids))
        if not ids:
            return 0
        self._cursor.execute(
            "SELECT key FROM clubs WHERE id = ANY(%s) AND state = 'updated' ORDER BY key", (ids,)
        )
        keys = [str(key) for (key,) in self._cursor.fetchall()]
        if keys:
            self._store._tombstone(self._cursor, keys)
        return len(keys)
