"""Where clubs are kept: one interface, the embedded SQLite store (PostgreSQL to come)."""

from openclubs.store.sqlite import SQLiteStore, StoredClub, WriteSummary, club_key

__all__ = ["SQLiteStore", "StoredClub", "WriteSummary", "club_key"]
