"""Clubs submitted from /build, pending until a moderator approves (into the store) or
rejects them at /admin.

The table lives in the store's own database (webtools/schema.py, both backends) and is read
and written through the store's connection: each operation is one statement, so it is atomic
on its own in either backend's autocommit mode.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from openclubs.store.base import Store
from openclubs.store.sqlite import SQLiteStore

MAX_PENDING = 500  # a bound on what anonymous visitors can leave for the moderators
COLUMNS = "id, created_at, status, name, record, issues, decided_at, club_key"


@dataclass(frozen=True, slots=True)
class Submission:
    id: int
    created_at: str
    status: str
    name: str
    record: dict[str, Any]
    issues: list[dict[str, Any]]
    decided_at: str | None
    club_key: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _loads(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _time(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return None if value is None else str(value)


def _row(row: tuple[Any, ...]) -> Submission:
    ident, created, status, name, record, issues, decided, key = row
    return Submission(
        int(ident),
        _time(created) or "",
        str(status),
        str(name),
        _loads(record),
        _loads(issues),
        _time(decided),
        key,
    )


class Submissions:
    """The submissions table of one store (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sqlite = isinstance(store, SQLiteStore)

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A cursor on the store's connection; SQL is written with ? and turned into %s for
        PostgreSQL (the statements here hold no other question marks)."""
        store: Any = self.store
        if self.sqlite:
            yield store._db
            return
        with store._lock, store._db.cursor() as cursor:
            yield cursor

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        with self._cursor() as cursor:
            result = cursor.execute(sql, params)
            rows = result.fetchall() if result.description is not None else []
        return [tuple(r) for r in rows]

    def add(self, record: dict[str, Any], issues: list[dict[str, Any]]) -> int | None:
        """Store a pending submission; its number, or None when too many are waiting."""
        if self.count("pending") >= MAX_PENDING:
            return None
        name = record.get("name") if isinstance(record.get("name"), str) else ""
        values: tuple[Any, ...] = (
            str(name)[:200],
            orjson.dumps(record).decode(),
            orjson.dumps(issues).decode(),
        )
        if self.sqlite:
            rows = self._execute(
                "INSERT INTO webtools_submissions (created_at, name, record, issues) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (_now(), *values),
            )
        else:
            rows = self._execute(
                "INSERT INTO webtools_submissions (name, record, issues) "
                "VALUES (?, ?::jsonb, ?::jsonb) RETURNING id",
                values,
            )
        return int(rows[0][0])

    def count(self, status: str) -> int:
        rows = self._execute(
            "SELECT count(*) FROM webtools_submissions WHERE status = ?", (status,)
        )
        return int(rows[0][0])

    def in_status(self, status: str = "pending", limit: int = 200) -> list[Submission]:
        rows = self._execute(
            f"SELECT {COLUMNS} FROM webtools_submissions WHERE status = ? ORDER BY id LIMIT ?",
            (status, limit),
        )
        return [_row(r) for r in rows]

    def get(self, ident: int) -> Submission | None:
        rows = self._execute(f"SELECT {COLUMNS} FROM webtools_submissions WHERE id = ?", (ident,))
        return _row(rows[0]) if rows else None

    def decide(self, ident: int, status: str, club_key: str | None = None) -> bool:
        """Mark a pending submission approved or rejected; False when it was not pending."""
        now: Any = _now() if self.sqlite else datetime.now(UTC)
        rows = self._execute(
            "UPDATE webtools_submissions SET status = ?, decided_at = ?, club_key = ? "
            "WHERE id = ? AND status = 'pending' RETURNING id",
            (status, now, club_key, ident),
        )
        return bool(rows)
