"""The schema parts that build on the core `clubs` table: each part (the harvester's feed
positions, the search index, the web tools' submissions) keeps its tables and its own numbered
migrations in its own package, for both backends, and `migrate()` applies the ones a store has
not had yet, recording each part's version in the `schema_parts` table.

A part's migrations are tuples of SQL statements (one tuple per migration, run in order, in
the same transaction as the core migrations); a part never changes the core tables.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import LiteralString

# The modules that declare a `PART`, in the order their migrations run.
PART_MODULES = (
    "openclubs.harvest.schema",
    "openclubs.search.schema",
    "openclubs.webtools.schema",
)

SQLITE_PARTS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_parts (name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)
POSTGRES_PARTS_TABLE: LiteralString = (
    "CREATE TABLE IF NOT EXISTS schema_parts (name TEXT PRIMARY KEY, version INTEGER NOT NULL, "
    "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)


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
