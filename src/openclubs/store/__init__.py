"""Where clubs are kept: one interface (`Store`), two backends: the embedded SQLite store
and PostgreSQL 15 + PostGIS (`open_store("postgresql://...")`)."""

from openclubs.store.base import Store, is_postgres, open_store
from openclubs.store.sqlite import SQLiteStore, StoredClub, WriteSummary, club_key

__all__ = [
    "SQLiteStore",
    "Store",
    "StoredClub",
    "WriteSummary",
    "club_key",
    "is_postgres",
    "open_store",
]
