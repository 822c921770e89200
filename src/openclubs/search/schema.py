"""The search index's tables.

Migrations are appended, never edited once released (see openclubs.store.schema)."""

from __future__ import annotations

from openclubs.store.schema import SchemaPart

PART = SchemaPart(name="search", sqlite=(), postgres=())
