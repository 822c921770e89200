"""The schema parts that build on the core `clubs` table: each part (the harvester's feed
positions, the search index, the web tools' submissions) keeps its tables and its own numbered
migrations in its own package, for both backends, and `migrate()` applies the ones a store has
not had yet, recording each part's version in the `schema_parts` table.

A part's migrations are tuples of SQL statements (one tuple per migration, run in order, in
the same transaction as the core migrations); a part never changes the core tables.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, LiteralString

# The modules that declare a `PART`, in the order their migrations run.
PART_MODULES = (
    "openclubs.harvest.schema",
    "openclubs.search.schema",
    "openclubs.webtools.schema",
)

# Each backend's statements: (create the table, read a part's version, record a version).
_PARTS_SQL: dict[str, tuple[LiteralString, LiteralString, LiteralString]] = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS schema_parts (name TEXT PRIMARY KEY, version INTEGER NOT NULL)",
        "SELECT version FROM schema_parts WHERE name = ?",
        "INSERT INTO schema_parts (name, version) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET version = excluded.version",
    ),
    "postgres": (
        "CREATE TABLE IF NOT EXISTS schema_parts (name TEXT PRIMARY KEY, "
        "version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        "SELECT version FROM schema_parts WHERE name = %s",
        "INSERT INTO schema_parts (name, version) VALUES (%s, %s) "
        "ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, applied_at = now()",
    ),
}


@dataclass(frozen=True, slots=True)
class SchemaPart:
    name: str
    sqlite: tuple[tuple[str, ...], ...] = ()
    postgres: tuple[tuple[LiteralString, ...], ...] = ()


def schema_parts() -> list[SchemaPart]:
    parts: list[SchemaPart] = []
    for module_name in PART_MODULES:
        part = importlib.import_module(module_name).PART
        assert isinstance(part, SchemaPart)
        parts.append(part)
    return parts


def migrate_parts(execute: Callable[..., Any], backend: Literal["sqlite", "postgres"]) -> int:
    """Apply, through `execute(sql, params)` inside the caller's open transaction, the
    migrations of every part that this store has not had yet; returns how many ran."""
    create, read, record = _PARTS_SQL[backend]
    execute(create, ())
    applied = 0
    for part in schema_parts():
        row = execute(read, (part.name,)).fetchone()
        done = 0 if row is None else int(row[0])
        migrations = part.sqlite if backend == "sqlite" else part.postgres
        for number, statements in enumerate(migrations, start=1):
            if done < number:
                for statement in statements:
                    execute(statement, ())
                execute(record, (part.name, number))
                applied += 1
    return applied
