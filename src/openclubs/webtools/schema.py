"""The web tools' tables: submissions waiting for a moderator.

Migrations are appended, never edited once released (see openclubs.store.schema)."""

from __future__ import annotations

from openclubs.store.schema import SchemaPart

PART = SchemaPart(
    name="webtools",
    sqlite=(
        (
            "CREATE TABLE webtools_submissions ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " created_at TEXT NOT NULL,"
            " status TEXT NOT NULL DEFAULT 'pending'"
            " CHECK (status IN ('pending', 'approved', 'rejected')),"
            " name TEXT NOT NULL,"
            " record TEXT NOT NULL,"
            " issues TEXT NOT NULL,"
            " decided_at TEXT,"
            " club_key TEXT)",
            "CREATE INDEX webtools_submissions_status ON webtools_submissions (status, id)",
        ),
    ),
    postgres=(
        (
            "CREATE TABLE webtools_submissions ("
            " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " created_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
            " status TEXT NOT NULL DEFAULT 'pending'"
            " CHECK (status IN ('pending', 'approved', 'rejected')),"
            " name TEXT NOT NULL,"
            " record JSONB NOT NULL,"
            " issues JSONB NOT NULL,"
            " decided_at TIMESTAMPTZ,"
            " club_key TEXT)",
            "CREATE INDEX webtools_submissions_status ON webtools_submissions (status, id)",
        ),
    ),
)
