"""The search index on SQLite: an R*Tree over (activity code, latitude, longitude), FTS5 for
text, plain tables for the rest (openclubs.search.schema).

A radius query reads the R*Tree with the bounding box of the circle (per activity code when
an activity is asked for, so "Judo within 10 km" touches only Judo entries near the centre),
then keeps the points whose exact great-circle distance (haversine, on the same sphere as
PostGIS's `use_spheroid => false`) is within the radius; a club's distance is its nearest
place's. The R*Tree keeps its boxes in 32-bit floats rounded outwards, so the box never
loses a point; the exact test uses the 64-bit coordinates kept beside each entry.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

from openclubs.search.entries import Entry
from openclubs.search.query import SearchQuery
from openclubs.store.sqlite import SQLiteStore

EARTH_RADIUS_KM = 6371.0087714  # the WGS 84 mean radius, as PostGIS's sphere uses
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
ALL_CODES = (0, 2**30)
_STRIP = "CAST((lat + 90) * 50 AS INTEGER)"  # strips of 0.02° of latitude (2.2 km)
_GEO_TABLE = "CREATE VIRTUAL TABLE search_geo USING rtree(id, code0, code1, lat0, lat1, lon0, lon1)"
Hit = tuple[int, float | None, float | None, str, str, str | None]  # see engine.Hit

_HAVERSINE = (
    f"2 * {EARTH_RADIUS_KM} * asin(min(1.0, sqrt(power(sin(radians(lat - :lat) / 2), 2) + "
    "cos(radians(:lat)) * cos(radians(lat)) * power(sin(radians(lon - :lon) / 2), 2))))"
)


def code_ranges(codes: Sequence[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7] → [(1, 3), (7, 7)]: one R*Tree range per run of consecutive codes."""
    ranges: list[tuple[int, int]] = []
    for code in sorted(set(codes)):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) enclosing every point within `radius_km` of (lat, lon)."""
    dlat = radius_km / KM_PER_DEGREE
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    widest = max(abs(south), abs(north))
    if widest >= 89.9:
        return south, north, -180.0, 180.0
    dlon = radius_km / (KM_PER_DEGREE * math.cos(math.radians(widest)))
    if dlon >= 180:
        return south, north, -180.0, 180.0
    return south, north, lon - dlon, lon + dlon  # beyond ±180 is never needed in the UK


def forget(db: sqlite3.Connection, keys: Sequence[str]) -> dict[str, int]:
    """Remove the clubs with these keys from the index, on `db` inside the caller's
    transaction; returns the removed clubs' numbers by key. The store's `prune` calls it as
    it deletes tombstones, so that a tombstone pruned before a catch-up read it cannot leave
    its club findable (the catch-up reading from its checkpoint would never see it)."""
    encoded = orjson.dumps(list(keys)).decode()
    known = {
        str(key): int(club)
        for club, key in db.execute(
            "SELECT id, key FROM search_clubs WHERE key IN (SELECT value FROM json_each(?))",
            (encoded,),
        )
    }
    if known:
        ids = orjson.dumps(list(known.values())).decode()
        each = "(SELECT value FROM json_each(?))"
        db.execute(
            "DELETE FROM search_geo WHERE id IN "
            f"(SELECT id FROM search_points WHERE club IN {each})",
            (ids,),
        )
        for table, column in (
            ("search_points", "club"),
            ("search_activities", "club"),
            ("search_features", "club"),
            ("search_text", "rowid"),
            ("search_clubs", "id"),
        ):
            db.execute(f"DELETE FROM {table} WHERE {column} IN {each}", (ids,))
    return known


class SQLiteIndex:
    """The search tables of one `SQLiteStore`, on the store's own connection."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.db = store._db  # the same connection: one writer, and no second file handle
        # Reads through a memory map rather than copied pages: a radius query touches a few
        # thousand index entries (SQLite caps the map at its compile-time maximum).
        self.db.execute(f"PRAGMA mmap_size = {8 << 30}")
        self._codes: dict[str, int] = {}

    # -- the indexer's side ------------------------------------------------------------------

    def position(self) -> tuple[int, str]:
        row = self.db.execute(
            "SELECT last_modified, last_key FROM search_state WHERE name = 'clubs'"
        ).fetchone()
        return (0, "") if row is None else (int(row[0]), str(row[1]))

    def set_position(self, modified: int, key: str) -> None:
        self.db.execute(
            "INSERT INTO search_state (name, last_modified, last_key) VALUES ('clubs', ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET last_modified = excluded.last_modified, "
            "last_key = excluded.last_key",
            (modified, key),
        )

    @contextmanager
    def writing(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            self._codes.clear()
            raise
        self.db.execute("COMMIT")

    def codes(self) -> dict[str, int]:
        """Activity id → code, as the table has them."""
        if not self._codes:
            rows = self.db.execute("SELECT activity, code FROM search_activity_codes")
            self._codes = {str(a): int(c) for a, c in rows}
        return self._codes

    def _code(self, activity: str) -> int:
        codes = self.codes()
        code = codes.get(activity)
        if code is None:
            code = max(codes.values(), default=0) + 1
            self.db.execute(
                "INSERT INTO search_activity_codes (code, activity) VALUES (?, ?)",
                (code, activity),
            )
            codes[activity] = code
        return code

    def replace(self, removed: Sequence[str], entries: Sequence[Entry]) -> None:
        """Drop the clubs with keys in `removed` or among `entries`, then add `entries`
        (inside `writing()`)."""
        db = self.db
        known = forget(db, [*removed, *(e.key for e in entries)])
        if not entries:
            return
        row = db.execute("SELECT coalesce(max(id), 0) FROM search_clubs").fetchone()
        next_club = int(row[0]) + 1
        row = db.execute("SELECT coalesce(max(id), 0) FROM search_points").fetchone()
        next_point = int(row[0]) + 1
        clubs: list[tuple[Any, ...]] = []
        activities: list[tuple[int, int]] = []
        features: list[tuple[str, str, int]] = []
        points: list[tuple[int, int, int, float, float]] = []
        geo: list[tuple[Any, ...]] = []
        texts: list[tuple[int, str]] = []
        for entry in entries:
            club = known.get(entry.key)
            if club is None:
                club, next_club = next_club, next_club + 1
            clubs.append(entry.club_row(club))
            codes = [self._code(a) for a in entry.activities]
            activities.extend((club, code) for code in codes)
            features.extend((kind, value, club) for kind, value in entry.features)
            for lat, lon in entry.points:
                for code in codes or [0]:
                    points.append((next_point, club, code, lat, lon))
                    geo.append((next_point, code, code, lat, lat, lon, lon))
                    next_point += 1
            texts.append((club, entry.words))
        db.executemany("INSERT INTO search_clubs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", clubs)
        db.executemany("INSERT OR IGNORE INTO search_activities VALUES (?, ?)", activities)
        db.executemany("INSERT OR IGNORE INTO search_features VALUES (?, ?, ?)", features)
        db.executemany("INSERT INTO search_points VALUES (?, ?, ?, ?, ?)", points)
        db.executemany("INSERT INTO search_geo VALUES (?, ?, ?, ?, ?, ?, ?)", geo)
        db.executemany("INSERT INTO search_text (rowid, words) VALUES (?, ?)", texts)

    def pack(self) -> None:
        """Rewrite the places in (activity, latitude strip, longitude) order and rebuild the
        R*Tree from them in that order (inside `writing()`). Entries inserted in random
        order (a bulk load, a register imported club by club) make tree nodes that overlap,
        so that a query visits most of the tree, and scatter a neighbourhood's points over
        the whole file. On a million clubs, packing made finding "Football within 2.5 km of
        central London" (1,440 entries) take 0.4 ms instead of 10 ms."""
        db = self.db
        db.execute(
            "CREATE TABLE search_points_packed (id INTEGER PRIMARY KEY, club INTEGER NOT NULL, "
            "code INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL)"
        )
        db.execute(
            "INSERT INTO search_points_packed (club, code, lat, lon) SELECT club, code, lat, "
            f"lon FROM search_points ORDER BY code, {_STRIP}, lon"
        )
        db.execute("DROP TABLE search_points")
        db.execute("ALTER TABLE search_points_packed RENAME TO search_points")
        db.execute("CREATE INDEX search_points_club ON search_points (club)")
        db.execute("DROP TABLE search_geo")
        db.execute(_GEO_TABLE)
        db.execute(
            "INSERT INTO search_geo SELECT id, code, code, lat, lat, lon, lon FROM "
            "search_points ORDER BY id"
        )

    # -- the query's side --------------------------------------------------------------------

    def candidates(
        self, query: SearchQuery, codes: list[int] | None, radius: float, cap: int | None = None
    ) -> list[Hit]:
        """Every club matching `query` (with `codes` as the activity filter and `radius` as
        the distance limit), as (club, distance km, rank, sort name, key); with `cap`, and
        no place, only the first `cap` in the query's order (relevance or name)."""
        params: dict[str, Any] = {}
        fts = " ".join(f'"{w}"*' for w in query.words)
        if query.near is not None:
            lat, lon = query.near.latitude, query.near.longitude
            south, north, west, east = bounding_box(lat, lon, radius)
            params.update(lat=lat, lon=lon, radius=radius, s=south, n=north, w=west, e=east)
            boxes = []
            for number, (low, high) in enumerate(
                code_ranges(codes) if codes is not None else [ALL_CODES]
            ):
                params[f"c{number}"], params[f"d{number}"] = low, high
                boxes.append(
                    f"SELECT id FROM search_geo WHERE code0 >= :c{number} AND "
                    f"code1 <= :d{number} AND lat1 >= :s AND lat0 <= :n AND lon1 >= :w "
                    "AND lon0 <= :e"
                )
            source = (
                f"(SELECT p.club, round(min({_HAVERSINE}), 3) AS distance, NULL AS rank, "
                "group_concat(DISTINCT p.code) AS codes FROM "
                f"({' UNION ALL '.join(boxes)}) g CROSS JOIN search_points p ON p.id = g.id "
                "GROUP BY p.club HAVING distance <= :radius) s"
            )
        elif codes is not None:
            params["codes"] = orjson.dumps(codes).decode()
            source = (
                "(SELECT DISTINCT club, NULL AS distance, NULL AS rank, NULL AS codes "
                "FROM search_activities WHERE code IN (SELECT value FROM json_each(:codes))) s"
            )
        elif fts:
            params["fts"] = fts
            source = (
                "(SELECT rowid AS club, NULL AS distance, bm25(search_text) AS rank, NULL AS codes "
                "FROM search_text WHERE search_text MATCH :fts) s"
            )
        else:
            source = (
                "(SELECT id AS club, NULL AS distance, NULL AS rank, NULL AS codes "
                "FROM search_clubs) s"
            )
        rank = "s.rank"
        join = ""
        if fts and "fts" not in params:
            params["fts"] = fts
            join = (
                "JOIN (SELECT rowid AS club, bm25(search_text) AS rank FROM search_text "
                "WHERE search_text MATCH :fts) t ON t.club = s.club"
            )
            rank = "t.rank"
        where = ["1"]
        if query.age is not None:
            params["age"] = query.age
            where.append("c.age_min <= :age AND c.age_max >= :age")
        if query.genders:
            params["genders"] = orjson.dumps(query.genders).decode()
            where.append("c.gender IN (SELECT value FROM json_each(:genders))")
        for number, (kind, value) in enumerate(query.features()):
            params[f"k{number}"], params[f"v{number}"] = kind, value
            where.append(
                f"EXISTS (SELECT 1 FROM search_features f WHERE f.kind = :k{number} AND "
                f"f.value = :v{number} AND f.club = c.id)"
            )
        if len(where) == 1 and not join and query.sort == "distance" and "fts" not in params:
            # nothing to test on the club row, and the order needs only the distance: the
            # names for ties are read for the page alone (see Search._name_ties)
            sql = f"SELECT s.club, s.distance, s.rank, '', '', s.codes FROM {source}"
        else:
            sql = (
                f"SELECT s.club, s.distance, {rank}, c.name_sort, c.key, s.codes FROM {source} "
                f"{join} "
                f"JOIN search_clubs c ON c.id = s.club WHERE {' AND '.join(where)}"
            )
            if cap is not None and query.near is None:
                order = f"{rank}, " if query.sort == "relevance" and fts else ""
                sql += f" ORDER BY {order}c.name_sort, c.key LIMIT {int(cap)}"
        return [
            (int(club), distance, rank_value, str(name), str(key), codes_text)
            for club, distance, rank_value, name, key, codes_text in self.db.execute(sql, params)
        ]

    def browse(
        self, codes: list[int] | None, limit: int, offset: int
    ) -> tuple[int, list[Hit], dict[int, int]]:
        """Clubs with one of `codes` (every club when None), in name order, without reading
        them all: (how many, the page, count by code)."""
        if codes is None:
            row = self.db.execute("SELECT count(*) FROM search_clubs").fetchone()
            rows = self.db.execute(
                "SELECT id, name_sort, key FROM search_clubs INDEXED BY search_clubs_name "
                "ORDER BY name_sort, key LIMIT ? OFFSET ?",
                (limit, offset),
            )
            counted = self.db.execute("SELECT code, count(*) FROM search_activities GROUP BY code")
        else:
            wanted = orjson.dumps(codes).decode()
            each = "(SELECT value FROM json_each(?))"
            row = self.db.execute(
                f"SELECT count(DISTINCT club) FROM search_activities WHERE code IN {each}",
                (wanted,),
            ).fetchone()
            rows = self.db.execute(
                "SELECT id, name_sort, key FROM search_clubs AS c INDEXED BY search_clubs_name "
                "WHERE EXISTS (SELECT 1 FROM search_activities a WHERE a.club = c.id AND "
                f"a.code IN {each}) ORDER BY name_sort, key LIMIT ? OFFSET ?",
                (wanted, limit, offset),
            )
            counted = self.db.execute(
                f"SELECT code, count(*) FROM search_activities WHERE code IN {each} GROUP BY code",
                (wanted,),
            )
        page: list[Hit] = [(int(i), None, None, str(n), str(k), None) for i, n, k in rows]
        return int(row[0]), page, {int(code): int(n) for code, n in counted}

    def activity_counts(self, clubs: Sequence[int], codes: list[int] | None) -> dict[int, int]:
        """code → how many of `clubs` have it (only `codes`, when given)."""
        rows = self.db.execute(
            "SELECT code, count(*) FROM search_activities WHERE club IN "
            "(SELECT value FROM json_each(?)) AND (? IS NULL OR code IN "
            "(SELECT value FROM json_each(?))) GROUP BY code",
            (
                orjson.dumps(list(clubs)).decode(),
                None if codes is None else 1,
                orjson.dumps(codes or []).decode(),
            ),
        )
        return {int(code): int(n) for code, n in rows}

    def summaries(self, clubs: Sequence[int]) -> dict[int, tuple[str, str, dict[str, Any]]]:
        """club → (key, updated_at, summary)."""
        rows = self.db.execute(
            "SELECT id, key, updated_at, summary FROM search_clubs WHERE id IN "
            "(SELECT value FROM json_each(?))",
            (orjson.dumps(list(clubs)).decode(),),
        )
        return {int(i): (str(k), str(u), orjson.loads(s)) for i, k, u, s in rows}

    def names(self, clubs: Sequence[int]) -> dict[int, tuple[str, str]]:
        """club → (sort name, key)."""
        rows = self.db.execute(
            "SELECT id, name_sort, key FROM search_clubs WHERE id IN "
            "(SELECT value FROM json_each(?))",
            (orjson.dumps(list(clubs)).decode(),),
        )
        return {int(i): (str(n), str(k)) for i, n, k in rows}

    def count(self) -> int:
        row = self.db.execute("SELECT count(*) FROM search_clubs").fetchone()
        return int(row[0])
