"""The one store interface, and `open_store`, which picks the backend from the `--db` value."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from openclubs.store.sqlite import TOMBSTONE_DAYS, SQLiteStore, StoredClub, WriteSummary

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Store(Protocol):
    """What every backend offers (`SQLiteStore`, `PostgresStore`), with the same behaviour."""

    def close(self) -> None: ...

    def version(self) -> int: ...

    def migrate(self) -> int: ...

    def part_versions(self) -> dict[str, int]: ...

    def upsert(
        self,
        records: Iterable[tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]],
        source: str | None = None,
        *,
        replace_source: bool = False,
    ) -> WriteSummary: ...

    def delete(self, club_id_or_key: str) -> bool: ...

    def prune(self, days: float = TOMBSTONE_DAYS, now: float | None = None) -> int: ...

    def get(self, club_id_or_key: str) -> StoredClub | None: ...

    def page(
        self, after_modified: int | None, after_key: str | None, limit: int
    ) -> list[StoredClub]: ...

    def page_raw(
        self, after_modified: int | None, after_key: str | None, limit: int
    ) -> list[tuple[str, str, int, bytes | None]]: ...

    def counts(self) -> dict[str, int]: ...

    def last_modified(self) -> str | None: ...

    def iter_clubs(self, batch: int = 1000) -> Iterator[StoredClub]: ...

    # -- harvesting (openclubs.harvest) --

    def harvest_transaction(self) -> AbstractContextManager[HarvestTx]: ...

    def harvest_query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


# -- harvesting ---------------------------------------------------------------------------------


class HarvestTx(Protocol):
    """One open write transaction of a store, as the harvester uses it: SQL on its own tables
    (`?` placeholders on both backends), and clubs put or withdrawn taking change numbers as
    `upsert` does. Everything commits together when the `harvest_transaction` block ends."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def put_clubs(
        self,
        records: Sequence[tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]],
        source: str | None,
    ) -> list[str]: ...

    def remove_clubs(self, club_ids: Iterable[str]) -> int: ...


def is_postgres(db: str) -> bool:
    return db.startswith(POSTGRES_SCHEMES)


def open_store(db: str) -> Store:
    """A `postgresql://` (or `postgres://`) URL opens a `PostgresStore`; anything else is a
    SQLite file path. The store is not migrated: call `migrate()` (`openclubs db init`)."""
    if is_postgres(db):
        from openclubs.store.postgres import PostgresStore  # psycopg only when it is used

        return PostgresStore(db)
    return SQLiteStore(db)
