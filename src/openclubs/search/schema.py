"""The search index's tables.

The index is derived data: everything in it is rebuilt from the `clubs` table by the indexer
(openclubs.search.indexer), which reads the clubs changed since its checkpoint
(`search_state`), so these tables never need a backup. Both backends hold the same rows:

- `search_clubs`: one row per current club: what the filters test (gender, age range, a name
  to sort by) and `summary`, the JSON a result shows (so a results page never decodes a
  whole record);
- `search_activities`: (club, activity code) for every Activity List concept a club names;
  codes come from `search_activity_codes`, so a refreshed Activity List never renumbers them;
- `search_features`: (club, kind, value) for accessibility support, amenities and the
  bodies a club is a member of;
- the places: every point a club meets at. On SQLite an R*Tree `search_geo` whose first
  dimension is the activity code (a club with N activities and M places has N×M entries,
  a club without a known activity has code 0), so "Judo near SE10" is one range query on
  the tree; `search_points` holds each entry's club, code and exact coordinates (the tree
  keeps 32-bit boxes, and reading R*Tree auxiliary columns costs ten times a rowid look-up),
  from which the tree is rebuilt in a good order after bulk loads (SQLiteIndex.pack). On
  PostgreSQL a PostGIS `geography` column with a GIST index;
- the text: an FTS5 table `search_text` on SQLite, a `tsvector` column with a GIN index on
  PostgreSQL, both over the same pre-normalised words.

Migrations are appended, never edited once released (see openclubs.store.schema)."""

from __future__ import annotations

from openclubs.store.schema import SchemaPart

_SQLITE_1 = (
    "CREATE TABLE search_state (name TEXT PRIMARY KEY, last_modified INTEGER NOT NULL, "
    "last_key TEXT NOT NULL)",
    "CREATE TABLE search_activity_codes (code INTEGER PRIMARY KEY, activity TEXT NOT NULL UNIQUE)",
    "CREATE TABLE search_clubs (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, "
    "name_sort TEXT NOT NULL, gender TEXT NOT NULL, age_min REAL, age_max REAL, "
    "updated_at TEXT NOT NULL, summary TEXT NOT NULL)",
    "CREATE TABLE search_activities (club INTEGER NOT NULL, code INTEGER NOT NULL, "
    "PRIMARY KEY (club, code)) WITHOUT ROWID",
    "CREATE INDEX search_activities_code ON search_activities (code, club)",
    "CREATE TABLE search_features (kind TEXT NOT NULL, value TEXT NOT NULL, "
    "club INTEGER NOT NULL, PRIMARY KEY (kind, value, club)) WITHOUT ROWID",
    "CREATE INDEX search_features_club ON search_features (club)",
    "CREATE TABLE search_points (id INTEGER PRIMARY KEY, club INTEGER NOT NULL)",
    "CREATE INDEX search_points_club ON search_points (club)",
    "CREATE VIRTUAL TABLE search_geo USING rtree(id, code0, code1, lat0, lat1, lon0, lon1, "
    "+club INTEGER, +lat REAL, +lon REAL)",
    "CREATE VIRTUAL TABLE search_text USING fts5(words, tokenize = 'unicode61')",
)

# 2: the tree without auxiliary columns (exact coordinates and the code move to
# search_points, so that the tree can be repacked from them); the index is derived data, so
# it is emptied and the next catch-up rebuilds it from the clubs table.
_SQLITE_2 = (
    "DROP TABLE search_geo",
    "DROP TABLE search_points",
    "CREATE TABLE search_points (id INTEGER PRIMARY KEY, club INTEGER NOT NULL, "
    "code INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL)",
    "CREATE INDEX search_points_club ON search_points (club)",
    "CREATE VIRTUAL TABLE search_geo USING rtree(id, code0, code1, lat0, lat1, lon0, lon1)",
    "DELETE FROM search_clubs",
    "DELETE FROM search_activities",
    "DELETE FROM search_features",
    "DELETE FROM search_text",
    "DELETE FROM search_state",
)

# 3: clubs in name order, for listing an activity (or everything) without a place: the
# first page is then read in order instead of sorting every match.
_SQLITE_3 = ("CREATE INDEX search_clubs_name ON search_clubs (name_sort, key)",)

_POSTGRES_1 = (
    "CREATE TABLE search_state (name TEXT PRIMARY KEY, last_modified BIGINT NOT NULL, "
    'last_key TEXT COLLATE "C" NOT NULL)',
    "CREATE TABLE search_activity_codes (code SERIAL PRIMARY KEY, activity TEXT NOT NULL UNIQUE)",
    'CREATE TABLE search_clubs (id BIGINT PRIMARY KEY, key TEXT COLLATE "C" NOT NULL '
    'UNIQUE, name_sort TEXT COLLATE "C" NOT NULL, gender TEXT NOT NULL, '
    "age_min DOUBLE PRECISION, age_max DOUBLE PRECISION, updated_at TEXT NOT NULL, "
    "summary TEXT NOT NULL, words TSVECTOR NOT NULL)",
    "CREATE INDEX search_clubs_words ON search_clubs USING GIN (words)",
    "CREATE TABLE search_activities (club BIGINT NOT NULL, code INTEGER NOT NULL, "
    "PRIMARY KEY (club, code))",
    "CREATE INDEX search_activities_code ON search_activities (code, club)",
    "CREATE TABLE search_features (kind TEXT NOT NULL, value TEXT NOT NULL, "
    "club BIGINT NOT NULL, PRIMARY KEY (kind, value, club))",
    "CREATE INDEX search_features_club ON search_features (club)",
    "CREATE TABLE search_places (club BIGINT NOT NULL, geo GEOGRAPHY(Point, 4326) NOT NULL)",
    "CREATE INDEX search_places_club ON search_places (club)",
    "CREATE INDEX search_places_geo ON search_places USING GIST (geo)",
)

# PostgreSQL's migration 2 changes nothing: it keeps both backends at the same number.
PART = SchemaPart(
    name="search",
    sqlite=(_SQLITE_1, _SQLITE_2, _SQLITE_3),
    postgres=(
        _POSTGRES_1,
        ("SELECT 1",),
        ("CREATE INDEX search_clubs_name ON search_clubs (name_sort, key)",),
    ),
)
