"""The embedded store: SQLite (standard library), WAL, one writer at a time.

Each club keeps its stable `@id`, a short `key` (its feed item id and page address), its Club
Spec JSON-LD, its source and provenance, its latest validation issues, a state (updated or
deleted) and an RPDE `modified`.

How `modified` stays strictly increasing in commit order (docs/rpde-and-harvesting.md §1.7):
every write runs in a `BEGIN IMMEDIATE` transaction, which SQLite grants to one connection
at a time, and takes its numbers from a counter row inside that transaction. A transaction
that starts later therefore commits later and gets larger numbers, so a consumer that has
read up to N can never miss a change committed afterwards with a number ≤ N.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from openclubs.store.schema import migrate_parts

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE clubs (
        key TEXT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('updated', 'deleted')),
        modified INTEGER NOT NULL UNIQUE,
        data BLOB,
        content_hash TEXT,
        source TEXT,
        provenance TEXT,
        issues TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX clubs_feed ON clubs (modified, key);
    CREATE INDEX clubs_source ON clubs (source, state);
    CREATE TABLE change_counter (value INTEGER NOT NULL);
    INSERT INTO change_counter VALUES (0);
    """,
)
TOMBSTONE_DAYS = 7
HARVEST_CHECKPOINT_PAGES = 16384  # WAL pages (64 MB) between checkpoints while harvesting
Record = tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class StoredClub:
    key: str
    id: str
    state: str
    modified: int
    data: dict[str, Any] | None
    source: str | None
    provenance: dict[str, Any] | None
    issues: list[dict[str, Any]]
    updated_at: str


@dataclass(frozen=True, slots=True)
class WriteSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


def club_key(club_id: str) -> str:
    """The short key of a club: the last path segment of its @id when that is a plain slug
    (as the importer makes them), else a hash of the @id."""
    tail = club_id.rstrip("/").rpartition("/")[2]
    if tail and len(tail) <= 100 and all(c.isalnum() or c in "-_." for c in tail):
        return tail
    return "c" + hashlib.sha1(club_id.encode()).hexdigest()[:16]


def iter_current(
    page: Callable[[int | None, str | None, int], list[StoredClub]], batch: int = 1000
) -> Iterator[StoredClub]:
    """Every current (not deleted) club of a store, in feed order, `batch` at a time."""
    after_modified: int | None = None
    after_key: str | None = None
    while True:
        rows = page(after_modified, after_key, batch)
        for club in rows:
            if club.state == "updated":
                yield club
        if len(rows) < batch:
            return
        after_modified, after_key = rows[-1].modified, rows[-1].key


def unique_key(club_id: str, id_with_key: Callable[[str], str | None]) -> str:
    """The key for a club new to the store: its `club_key`, unless another club (another
    @id, e.g. on another host) has that key already, then the key plus a hash of the @id."""
    key = club_key(club_id)
    other = id_with_key(key)
    if other is None or other == club_id:
        return key
    return f"{key}-{hashlib.sha1(club_id.encode()).hexdigest()[:8]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


class SQLiteStore:
    """The store on one SQLite file (WAL mode; readers never block the writer)."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")

    def close(self) -> None:
        self._db.close()

    # -- schema ------------------------------------------------------------------------------

    def version(self) -> int:
        row = self._db.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def migrate(self) -> int:
        """Bring the schema up to date (the core tables, then each schema part's, see
        `openclubs.store.schema`); returns the number of migrations applied."""
        applied = 0
        with self._write():
            for number, script in enumerate(MIGRATIONS, start=1):
                if self.version() < number:
                    for statement in script.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={number}")
                    applied += 1
            applied += migrate_parts(self._db.execute, "sqlite")
        return applied

    def part_versions(self) -> dict[str, int]:
        """The migration number each schema part is at."""
        if not self._has_table("schema_parts"):
            return {}
        rows = self._db.execute("SELECT name, version FROM schema_parts").fetchall()
        return {str(name): int(version) for name, version in rows}

    def _has_table(self, name: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _next_modified(self) -> int:
        row = self._db.execute(
            "UPDATE change_counter SET value = value + 1 RETURNING value"
        ).fetchone()
        return int(row[0])

    # -- writing -----------------------------------------------------------------------------

    def upsert(
        self,
        records: Iterable[tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]],
        source: str | None = None,
        *,
        replace_source: bool = False,
    ) -> WriteSummary:
        """Write (record, provenance, issues) triples in one transaction. An unchanged record
        keeps its `modified` (the feed does not churn). With `replace_source`, clubs of that
        source that are not in `records` become deletions (tombstones)."""
        created = updated = unchanged = deleted = 0
        seen: set[str] = set()
        with self._write() as db:
            for record, provenance, issues in records:
                club_id = record["@id"]
                row = db.execute(
                    "SELECT key, state, content_hash FROM clubs WHERE id = ?", (club_id,)
                ).fetchone()
                if row is None:
                    key = unique_key(club_id, self._id_with_key)
                else:
                    key, row = row[0], row[1:]
                seen.add(key)
                digest = _hash(record)
                if row is not None and row[0] == "updated" and row[1] == digest:
                    # the same record: its feed position stays; where it came from is refreshed
                    db.execute(
                        "UPDATE clubs SET source=?, provenance=?, issues=? WHERE key=?",
                        (
                            source,
                            orjson.dumps(provenance).decode(),
                            orjson.dumps(issues).decode(),
                            key,
                        ),
                    )
                    unchanged += 1
                    continue
                values = (
                    record["@id"],
                    "updated",
                    self._next_modified(),
                    orjson.dumps(record),
                    digest,
                    source,
                    orjson.dumps(provenance).decode(),
                    orjson.dumps(issues).decode(),
                    _now(),
                    key,
                )
                if row is None:
                    db.execute(
                        "INSERT INTO clubs (id, state, modified, data, content_hash, source, "
                        "provenance, issues, updated_at, key) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        values,
                    )
                    created += 1
                else:
                    db.execute(
                        "UPDATE clubs SET id=?, state=?, modified=?, data=?, content_hash=?, "
                        "source=?, provenance=?, issues=?, updated_at=? WHERE key=?",
                        values,
                    )
                    updated += 1
            if replace_source and source is not None:
                gone = [
                    r[0]
                    for r in db.execute(
                        "SELECT key FROM clubs WHERE source = ? AND state = 'updated' ORDER BY key",
                        (source,),
                    )
                    if r[0] not in seen
                ]
                for key in gone:
                    self._tombstone(key)
                deleted = len(gone)
        return WriteSummary(created, updated, unchanged, deleted)

    def _id_with_key(self, key: str) -> str | None:
        row = self._db.execute("SELECT id FROM clubs WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def delete(self, club_id_or_key: str) -> bool:
        """Mark a club deleted (a tombstone stays in the feed); False if there is none."""
        with self._write():
            key = self._key_of(club_id_or_key)
            if key is None:
                return False
            self._tombstone(key)
            return True

    def _tombstone(self, key: str) -> None:
        self._db.execute(
            "UPDATE clubs SET state='deleted', data=NULL, content_hash=NULL, modified=?, "
            "updated_at=? WHERE key=? AND state='updated'",
            (self._next_modified(), _now(), key),
        )

    def _key_of(self, club_id_or_key: str) -> str | None:
        row = self._db.execute(
            "SELECT key FROM clubs WHERE (key = ? OR id = ?) AND state = 'updated'",
            (club_id_or_key, club_id_or_key),
        ).fetchone()
        return None if row is None else str(row[0])

    def prune(self, days: float = TOMBSTONE_DAYS, now: float | None = None) -> int:
        """Remove tombstones older than `days` (never fewer than the 7 RPDE requires)."""
        days = max(days, TOMBSTONE_DAYS)
        cutoff = datetime.fromtimestamp((now or time.time()) - days * 86400, UTC)
        stamp = cutoff.isoformat(timespec="seconds").replace("+00:00", "Z")
        with self._write() as db:
            keys = [
                str(row[0])
                for row in db.execute(
                    "DELETE FROM clubs WHERE state = 'deleted' AND updated_at < ? RETURNING key",
                    (stamp,),
                ).fetchall()
            ]
            if keys:  # the search index may not have read these tombstones yet
                from openclubs.search.sqlite_index import forget

                forget(db, keys)
            return len(keys)

    # -- reading -----------------------------------------------------------------------------

    def get(self, club_id_or_key: str) -> StoredClub | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM clubs WHERE key = ? OR id = ?",
            (club_id_or_key, club_id_or_key),
        ).fetchone()
        return None if row is None else _club(row)

    def page(
        self, after_modified: int | None, after_key: str | None, limit: int
    ) -> list[StoredClub]:
        """One RPDE page: `WHERE (modified = @afterTimestamp AND id > @afterId) OR (modified >
        @afterTimestamp) ORDER BY modified, id`, one query, written as the equivalent row-value
        comparison `(modified, key) > (?, ?)` so that SQLite seeks the (modified, key) index
        instead of scanning it (the last page costs what the first does)."""
        if after_modified is None:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM clubs ORDER BY modified, key LIMIT ?", (limit,)
            )
        else:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM clubs WHERE (modified, key) > (?, ?) "
                "ORDER BY modified, key LIMIT ?",
                (after_modified, after_key or "", limit),
            )
        return [_club(r) for r in rows]

    def page_raw(
        self, after_modified: int | None, after_key: str | None, limit: int
    ) -> list[tuple[str, str, int, bytes | None]]:
        """The same page as `page`, as (key, state, modified, data as stored JSON bytes): what
        the feed needs, without decoding and re-encoding every record."""
        if after_modified is None:
            rows = self._db.execute(
                "SELECT key, state, modified, data FROM clubs ORDER BY modified, key LIMIT ?",
                (limit,),
            )
        else:
            rows = self._db.execute(
                "SELECT key, state, modified, data FROM clubs WHERE (modified, key) > (?, ?) "
                "ORDER BY modified, key LIMIT ?",
                (after_modified, after_key or "", limit),
            )
        return rows.fetchall()  # already (str, str, int, bytes | None): SQLite's own types

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, count(*) FROM clubs GROUP BY state")
        return {str(state): int(n) for state, n in rows}

    def last_modified(self) -> str | None:
        row = self._db.execute("SELECT max(updated_at) FROM clubs").fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def iter_clubs(self, batch: int = 1000) -> Iterator[StoredClub]:
        """Every current (not deleted) club, in feed order, streamed."""
        return iter_current(self.page, batch)

    # -- harvesting ---------------------------------------------------------------------------
    # For openclubs.harvest: one write transaction (the same BEGIN IMMEDIATE as every write, so
    # change numbers stay commit-ordered) in which the harvester reads and writes its own tables
    # (openclubs.harvest.schema) and puts or withdraws clubs, so that a page's items and the
    # feed's checkpoint are committed together or not at all.

    _harvest_tuned = False  # the connection's WAL checkpoints are set for harvesting

    @contextmanager
    def harvest_transaction(self) -> Iterator[SQLiteHarvestTx]:
        """A write transaction for the harvester (committed on exit, rolled back on error).

        A harvest commits about a megabyte a page. With SQLite's default, the WAL is copied
        back into the database (and synced) every 1,000 WAL pages (4 MB), i.e. every few
        harvested pages, copying the same index pages again each time; checkpointing every
        `HARVEST_CHECKPOINT_PAGES` instead (once a connection has harvested) makes that copy
        rarer, and a page's commit about 6 µs an item cheaper. Durability is unchanged: each
        commit is in the WAL, which a reopened database replays (a SIGKILL loses nothing)."""
        if not self._harvest_tuned:
            self._db.execute(f"PRAGMA wal_autocheckpoint={HARVEST_CHECKPOINT_PAGES}")
            self._harvest_tuned = True
        with self._write():
            yield SQLiteHarvestTx(self)

    def harvest_query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read of the harvester's tables, outside any transaction (`?` placeholders)."""
        return list(self._db.execute(sql, tuple(params)).fetchall())

    def _put_clubs(self, records: Sequence[Record], source: str | None) -> list[str]:
        """Records as `upsert` writes them (an unchanged one keeps its `modified`), inside the
        caller's transaction, a page at a time: one look-up, one reservation of change
        numbers, one batch of writes."""
        db = self._db
        ids = list(dict.fromkeys(record["@id"] for record, _, _ in records))
        known: dict[str, tuple[str, str, str | None]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for club_id, key, state, digest in db.execute(
                f"SELECT id, key, state, content_hash FROM clubs WHERE id IN ({marks})", chunk
            ):
                known[club_id] = (key, state, digest)
        keys = {club_id: _harvest_key(club_id) for club_id in ids if club_id not in known}
        taken: dict[str, str] = {}
        wanted = list(dict.fromkeys(keys.values()))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, club_id in db.execute(
                f"SELECT key, id FROM clubs WHERE key IN ({marks})", chunk
            ):
                taken[key] = club_id
        outcomes: list[str] = []
        refreshed: list[tuple[Any, ...]] = []
        changed: list[tuple[str, bool, dict[str, Any], Any, Any, str]] = []
        for record, provenance, issues in records:
            club_id = record["@id"]
            digest = _hash(record)
            prior = known.get(club_id)
            if prior is not None and prior[1] == "updated" and prior[2] == digest:
                refreshed.append(
                    (
                        source,
                        orjson.dumps(provenance).decode(),
                        orjson.dumps(issues).decode(),
                        prior[0],
                    )
                )
                outcomes.append("unchanged")
                continue
            if prior is None:
                key = keys[club_id]
                other = taken.get(key)
                if other is not None and other != club_id:  # rare: `unique_key`'s own rule
                    key = unique_key(club_id, taken.get)
                taken[key] = club_id
            else:
                key = prior[0]
            outcomes.append("created" if prior is None else "updated")
            known[club_id] = (key, "updated", digest)
            changed.append((key, prior is None, record, provenance, issues, digest))
        if refreshed:
            db.executemany(
                "UPDATE clubs SET source=?, provenance=?, issues=? WHERE key=?", refreshed
            )
        if not changed:
            return outcomes
        row = db.execute(
            "UPDATE change_counter SET value = value + ? RETURNING value", (len(changed),)
        ).fetchone()
        first = int(row[0]) - len(changed) + 1
        now = _now()
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for offset, (key, is_new, record, provenance, issues, digest) in enumerate(changed):
            values = (
                record["@id"],
                "updated",
                first + offset,
                orjson.dumps(record),
                digest,
                source,
                orjson.dumps(provenance).decode(),
                orjson.dumps(issues).decode(),
                now,
                key,
            )
            (inserts if is_new else updates).append(values)
        if inserts:
            db.executemany(
                "INSERT INTO clubs (id, state, modified, data, content_hash, source, "
                "provenance, issues, updated_at, key) VALUES (?,?,?,?,?,?,?,?,?,?)",
                inserts,
            )
        if updates:
            db.executemany(
                "UPDATE clubs SET id=?, state=?, modified=?, data=?, content_hash=?, "
                "source=?, provenance=?, issues=?, updated_at=? WHERE key=?",
                updates,
            )
        return outcomes


_COLUMNS = "key, id, state, modified, data, source, provenance, issues, updated_at"


def _club(row: tuple[Any, ...]) -> StoredClub:
    key, club_id, state, modified, data, source, provenance, issues, updated_at = row
    return StoredClub(
        key=key,
        id=club_id,
        state=state,
        modified=int(modified),
        data=orjson.loads(data) if data is not None else None,
        source=source,
        provenance=orjson.loads(provenance) if provenance else None,
        issues=orjson.loads(issues) if issues else [],
        updated_at=updated_at,
    )


# -- harvesting -----------------------------------------------------------------------------------

_SLUG = re.compile(r"[A-Za-z0-9_.-]{1,100}\Z")


def _harvest_key(club_id: str) -> str:
    """`club_key`, with a fast path for the usual ASCII slug (a regular expression instead of
    a test per character: `club_key` is the rule, and gives the same answer)."""
    tail = club_id.rstrip("/").rpartition("/")[2]
    return tail if _SLUG.match(tail) else club_key(club_id)


class SQLiteHarvestTx:
    """The harvester's view of one open write transaction (`SQLiteStore.harvest_transaction`).
    SQL uses `?` placeholders on both backends."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._db = store._db

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._db.execute(sql, tuple(params)).fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._db.execute(sql, tuple(params)).rowcount)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, [tuple(r) for r in rows])

    def put_clubs(self, records: Sequence[Record], source: str | None) -> list[str]:
        """Create or update clubs as `upsert` does (an unchanged record keeps its `modified`);
        returns "created", "updated" or "unchanged" for each."""
        return self._store._put_clubs(records, source)

    def remove_clubs(self, club_ids: Iterable[str]) -> int:
        """Tombstone the current clubs with these @ids; returns how many there were."""
        removed = 0
        for club_id in club_ids:
            row = self._db.execute(
                "SELECT key FROM clubs WHERE id = ? AND state = 'updated'", (club_id,)
            ).fetchone()
            if row is not None:
                self._store._tombstone(str(row[0]))
                removed += 1
        return removed
