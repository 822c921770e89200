"""The search index on PostgreSQL: PostGIS `geography` points with a GIST index, a
`tsvector` with a GIN index, and the same plain tables as on SQLite
(openclubs.search.schema).

Distances are great-circle distances on PostGIS's sphere (`use_spheroid => false`), the
same figure SQLite's haversine gives, so both backends answer a query with the same clubs
in the same order. Text is matched as prefixes of the pre-normalised words under the
`simple` configuration (no stemming), as FTS5's unicode61 tokenizer matches them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, LiteralString

import orjson
import psycopg
from psycopg import sql

from openclubs.search.entries import Entry
from openclubs.search.query import SearchQuery
from openclubs.store.postgres import PostgresStore

Hit = tuple[int, float | None, float | None, str, str, str | None]  # see engine.Hit
_ORIGIN: LiteralString = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"


def forget(
    db: psycopg.Connection[Any] | psycopg.Cursor[Any], keys: Sequence[str]
) -> dict[str, int]:
    """Remove the clubs with these keys from the index, on `db` inside the caller's
    transaction; returns the removed clubs' numbers by key (see sqlite_index.forget: the
    store's `prune` calls it for the tombstones it deletes)."""
    known = {
        str(key): int(club)
        for club, key in db.execute(
            "SELECT id, key FROM search_clubs WHERE key = ANY(%s)", (list(keys),)
        ).fetchall()
    }
    if known:
        ids = list(known.values())
        for table in ("search_places", "search_activities", "search_features"):
            db.execute(
                sql.SQL("DELETE FROM {} WHERE club = ANY(%s)").format(sql.Identifier(table)),
                (ids,),
            )
        db.execute("DELETE FROM search_clubs WHERE id = ANY(%s)", (ids,))
    return known


class PostgresIndex:
    """The search tables of one `PostgresStore`, on the store's own connection."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.db: psycopg.Connection[Any] = store._db  # one connection per store
        self.lock = store._lock
        self._codes: dict[str, int] = {}

    # -- the indexer's side ------------------------------------------------------------------

    def position(self) -> tuple[int, str]:
        with self.lock:
            row = self.db.execute(
                "SELECT last_modified, last_key FROM search_state WHERE name = 'clubs'"
            ).fetchone()
        return (0, "") if row is None else (int(row[0]), str(row[1]))

    def set_position(self, modified: int, key: str) -> None:
        self.db.execute(
            "INSERT INTO search_state (name, last_modified, last_key) VALUES ('clubs', %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET last_modified = EXCLUDED.last_modified, "
            "last_key = EXCLUDED.last_key",
            (modified, key),
        )

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One transaction; the first indexer to arrive holds a row lock on the checkpoint,
        so indexers in several processes take turns instead of indexing the same clubs."""
        with self.lock, self.db.transaction():
            self.db.execute(
                "INSERT INTO search_state (name, last_modified, last_key) "
                "VALUES ('clubs', 0, '') ON CONFLICT (name) DO NOTHING"
            )
            self.db.execute("SELECT 1 FROM search_state WHERE name = 'clubs' FOR UPDATE")
            try:
                yield
            except BaseException:
                self._codes.clear()
                raise

    def codes(self) -> dict[str, int]:
        if not self._codes:
            with self.lock:
                rows = self.db.execute("SELECT activity, code FROM search_activity_codes")
                self._codes = {str(a): int(c) for a, c in rows}
        return self._codes

    def _code(self, activity: str) -> int:
        codes = self.codes()
        code = codes.get(activity)
        if code is None:
            row = self.db.execute(
                "INSERT INTO search_activity_codes (activity) VALUES (%s) "
                "ON CONFLICT (activity) DO UPDATE SET activity = EXCLUDED.activity "
                "RETURNING code",
                (activity,),
            ).fetchone()
            assert row is not None
            code = codes[activity] = int(row[0])
        return code

    def replace(self, removed: Sequence[str], entries: Sequence[Entry]) -> None:
        """Drop the clubs with keys in `removed` or among `entries`, then add `entries`
        (inside `writing()`)."""
        db = self.db
        known = forget(db, [*removed, *(e.key for e in entries)])
        if not entries:
            return
        row = db.execute("SELECT coalesce(max(id), 0) FROM search_clubs").fetchone()
        assert row is not None
        next_club = int(row[0]) + 1
        clubs: list[tuple[Any, ...]] = []
        activities: list[tuple[int, int]] = []
        features: list[tuple[str, str, int]] = []
        places: list[tuple[int, float, float]] = []
        for entry in entries:
            club = known.get(entry.key)
            if club is None:
                club, next_club = next_club, next_club + 1
            clubs.append((*entry.club_row(club), entry.words))
            activities.extend((club, self._code(a)) for a in dict.fromkeys(entry.activities))
            features.extend((kind, value, club) for kind, value in entry.features)
            places.extend((club, lon, lat) for lat, lon in entry.points)
        with db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_clubs VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
                "to_tsvector('simple', %s))",
                clubs,
            )
            if activities:
                cursor.executemany(
                    "INSERT INTO search_activities VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    activities,
                )
            if features:
                cursor.executemany(
                    "INSERT INTO search_features VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    features,
                )
            if places:
                cursor.executemany(
                    "INSERT INTO search_places VALUES "
                    "(%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)",
                    places,
                )

    def pack(self) -> None:
        """After a bulk load: fresh planner statistics (GIST and GIN indexes need no
        rebuilding for the order rows arrived in)."""
        for table in ("search_clubs", "search_places", "search_activities", "search_features"):
            self.db.execute(f"ANALYZE {table}")

    # -- the query's side --------------------------------------------------------------------

    def candidates(
        self, query: SearchQuery, codes: list[int] | None, radius: float, cap: int | None = None
    ) -> list[Hit]:
        """Every club matching `query` (with `codes` as the activity filter and `radius` as
        the distance limit), as (club, distance km, rank, sort name, key); with `cap`, and
        no place, only the first `cap` in the query's order (relevance or name; names in
        code-point order, as Python and SQLite compare them)."""
        params: dict[str, Any] = {}
        if codes is not None:
            params["codes"] = codes
        if query.near is not None:
            params.update(lat=query.near.latitude, lon=query.near.longitude, metres=radius * 1000)
            activity = (
                " AND p.club IN (SELECT club FROM search_activities WHERE code = ANY(%(codes)s))"
                if codes is not None
                else ""
            )
            source = (
                "(SELECT p.club, round((min(ST_Distance(p.geo, "
                f"{_ORIGIN}, false)) / 1000)::numeric, 3)::float8 AS distance, "
                "NULL::float8 AS rank FROM search_places p "
                f"WHERE ST_DWithin(p.geo, {_ORIGIN}, %(metres)s, false){activity} "
                "GROUP BY p.club) s"
            )
        elif codes is not None:
            source = (
                "(SELECT DISTINCT club, NULL::float8 AS distance, NULL::float8 AS rank "
                "FROM search_activities WHERE code = ANY(%(codes)s)) s"
            )
        else:
            source = (
                "(SELECT id AS club, NULL::float8 AS distance, NULL::float8 AS rank "
                "FROM search_clubs) s"
            )
        rank = "s.rank"
        where = ["TRUE"]
        if query.words:
            params["ts"] = " & ".join(f"'{w}':*" for w in query.words)
            where.append("c.words @@ to_tsquery('simple', %(ts)s)")
            rank = "-ts_rank(c.words, to_tsquery('simple', %(ts)s))"
        if query.age is not None:
            params["age"] = query.age
            where.append("c.age_min <= %(age)s AND c.age_max >= %(age)s")
        if query.genders:
            params["genders"] = list(query.genders)
            where.append("c.gender = ANY(%(genders)s)")
        for number, (kind, value) in enumerate(query.features()):
            params[f"k{number}"], params[f"v{number}"] = kind, value
            where.append(
                f"EXISTS (SELECT 1 FROM search_features f WHERE f.kind = %(k{number})s AND "
                f"f.value = %(v{number})s AND f.club = c.id)"
            )
        statement = (
            f"SELECT s.club, s.distance, {rank}, c.name_sort, c.key FROM {source} "
            f"JOIN search_clubs c ON c.id = s.club WHERE {' AND '.join(where)}"
        )
        if cap is not None and query.near is None:
            order = f"{rank}, " if query.sort == "relevance" and query.words else ""
            statement += (
                f' ORDER BY {order}c.name_sort COLLATE "C", c.key COLLATE "C" LIMIT {int(cap)}'
            )
        with self.lock:
            rows = self.db.execute(statement, params).fetchall()
        return [
            (
                int(club),
                None if d is None else float(d),
                None if r is None else float(r),
                n,
                k,
                None,
            )
            for club, d, r, n, k in rows
        ]

    def browse(
        self, codes: list[int] | None, limit: int, offset: int
    ) -> tuple[int, list[Hit], dict[int, int]]:
        """Clubs with one of `codes` (every club when None), in name order, without reading
        them all: (how many, the page, count by code)."""
        with self.lock:
            if codes is None:
                row = self.db.execute("SELECT count(*) FROM search_clubs").fetchone()
                rows = self.db.execute(
                    "SELECT id, name_sort, key FROM search_clubs ORDER BY name_sort, key "
                    "LIMIT %s OFFSET %s",
                    (limit, offset),
                ).fetchall()
                counted = self.db.execute(
                    "SELECT code, count(*) FROM search_activities GROUP BY code"
                ).fetchall()
            else:
                row = self.db.execute(
                    "SELECT count(DISTINCT club) FROM search_activities WHERE code = ANY(%s)",
                    (codes,),
                ).fetchone()
                rows = self.db.execute(
                    "SELECT id, name_sort, key FROM search_clubs c WHERE EXISTS (SELECT 1 "
                    "FROM search_activities a WHERE a.club = c.id AND a.code = ANY(%s)) "
                    "ORDER BY name_sort, key LIMIT %s OFFSET %s",
                    (codes, limit, offset),
                ).fetchall()
                counted = self.db.execute(
                    "SELECT code, count(*) FROM search_activities WHERE code = ANY(%s) "
                    "GROUP BY code",
                    (codes,),
                ).fetchall()
        page: list[Hit] = [(int(i), None, None, str(n), str(k), None) for i, n, k in rows]
        total = 0 if row is None else int(row[0])
        return total, page, {int(code): int(n) for code, n in counted}

    def activity_counts(self, clubs: Sequence[int], codes: list[int] | None) -> dict[int, int]:
        """code → how many of `clubs` have it (only `codes`, when given)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT code, count(*) FROM search_activities WHERE club = ANY(%s) "
                "AND (%s::int[] IS NULL OR code = ANY(%s::int[])) GROUP BY code",
                (list(clubs), codes, codes),
            ).fetchall()
        return {int(code): int(n) for code, n in rows}

    def summaries(self, clubs: Sequence[int]) -> dict[int, tuple[str, str, dict[str, Any]]]:
        with self.lock:
            rows = self.db.execute(
                "SELECT id, key, updated_at, summary FROM search_clubs WHERE id = ANY(%s)",
                (list(clubs),),
            ).fetchall()
        return {int(i): (str(k), str(u), orjson.loads(s)) for i, k, u, s in rows}

    def names(self, clubs: Sequence[int]) -> dict[int, tuple[str, str]]:
        """club → (sort name, key)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT id, name_sort, key FROM search_clubs WHERE id = ANY(%s)", (list(clubs),)
            ).fetchall()
        return {int(i): (str(n), str(k)) for i, n, k in rows}

    def count(self) -> int:
        with self.lock:
            row = self.db.execute("SELECT count(*) FROM search_clubs").fetchone()
        return 0 if row is None else int(row[0])
