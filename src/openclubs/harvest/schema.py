"""The harvester's tables: each feed's position (its checkpoint), status and counts.

Migrations are appended, never edited once released (see openclubs.store.schema)."""

from __future__ import annotations

from openclubs.store.schema import SchemaPart

PART = SchemaPart(name="harvest", sqlite=(), postgres=())
