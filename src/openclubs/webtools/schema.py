"""The web tools' tables: submissions waiting for a moderator.

Migrations are appended, never edited once released (see openclubs.store.schema)."""

from __future__ import annotations

from openclubs.store.schema import SchemaPart

PART = SchemaPart(name="webtools", sqlite=(), postgres=())
