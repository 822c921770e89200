"""Running a `SearchQuery` against a store's search index, and keeping the index current.

The indexer follows the `clubs` table the way an RPDE consumer follows the feed: it reads
the clubs whose `(modified, key)` is after its checkpoint, in that order, and moves the
checkpoint with each batch, in the same transaction as the index writes. A store's
`modified` is strictly increasing in commit order (openclubs.store.sqlite and .postgres), so
reading `modified > checkpoint` never misses a change; a tombstone removes the club's
entries. `catch_up()` runs before each query: when nothing changed it costs one indexed
one-row read.

(A tombstone pruned before the indexer saw it would leave a stale entry; `rebuild()`
clears the index so the next catch-up reads every club again.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from openclubs.search.entries import Entry, entry_of
from openclubs.search.query import MAX_RADIUS_KM, SearchQuery
from openclubs.store.base import Store
from openclubs.store.sqlite import SQLiteStore, StoredClub
from openclubs.vocab import activity_list

DISTANCE_BANDS_KM = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)
NEAREST_ANYWAY = 5  # how many clubs beyond the radius to show when none are within it
BATCH = 1000
Hit = tuple[int, float | None, float | None, str, str]


class Backend(Protocol):
    def position(self) -> tuple[int, str]: ...
    def set_position(self, modified: int, key: str) -> None: ...
    def writing(self) -> Any: ...
    def codes(self) -> dict[str, int]: ...
    def replace(self, removed: Sequence[str], entries: Sequence[Entry]) -> None: ...
    def candidates(
        self, query: SearchQuery, codes: list[int] | None, radius: float
    ) -> list[Hit]: ...
    def activity_counts(self, clubs: Sequence[int]) -> dict[int, int]: ...
    def summaries(self, clubs: Sequence[int]) -> dict[int, tuple[str, str, dict[str, Any]]]: ...
    def count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Result:
    """One club found: its key (its page is /clubs/KEY), distance to the place searched
    (km, nearest of its places), whether that is beyond the radius asked for, when its record
    last changed, and what a result shows of it."""

    key: str
    distance_km: float | None
    beyond_radius: bool
    updated_at: str
    summary: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Facet:
    label: str
    count: int
    value: str  # the parameter value that narrows the search to this facet


@dataclass(slots=True)
class SearchResult:
    query: SearchQuery
    total: int
    results: list[Result]
    nearest_anyway: bool = False  # nothing within the radius: the nearest clubs beyond it
    activity_facets: list[Facet] = field(default_factory=list)
    distance_facets: list[Facet] = field(default_factory=list)


def backend_for(store: Store) -> Backend:
    if isinstance(store, SQLiteStore):
        from openclubs.search.sqlite_index import SQLiteIndex

        return SQLiteIndex(store)
    from openclubs.search.postgres_index import PostgresIndex
    from openclubs.store.postgres import PostgresStore

    if isinstance(store, PostgresStore):
        return PostgresIndex(store)
    raise TypeError(f"no search index for a {type(store).__name__}")


class Search:
    """Searching one store. Give each store (each connection) its own `Search`."""

    def __init__(self, store: Store, *, auto_catch_up: bool = True) -> None:
        self.store = store
        self.backend = backend_for(store)
        self.auto_catch_up = auto_catch_up

    # -- indexing ----------------------------------------------------------------------------

    def catch_up(self, batch: int = BATCH) -> int:
        """Index every club changed since the last catch-up; returns how many were read."""
        modified, key = self.backend.position()
        if not self.store.page(modified, key, 1):
            return 0
        done = 0
        with self.backend.writing():
            modified, key = self.backend.position()  # another process may have moved it
            while True:
                rows = self.store.page(modified, key, batch)
                if not rows:
                    break
                self.backend.replace(*_split(rows))
                modified, key = rows[-1].modified, rows[-1].key
                self.backend.set_position(modified, key)
                done += len(rows)
                if len(rows) < batch:
                    break
        return done

    def rebuild(self) -> int:
        """Empty the index and index every club again (after tombstones were pruned before
        the index saw them, or an Activity List refresh changed what labels mean)."""
        with self.backend.writing():
            self.backend.replace([key for key in self._indexed_keys()], [])
            self.backend.set_position(0, "")
        return self.catch_up()

    def _indexed_keys(self) -> Iterator[str]:
        for _, _, _, _, key in self.backend.candidates(SearchQuery(), None, MAX_RADIUS_KM):
            yield key

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        if self.auto_catch_up:
            self.catch_up()
        codes = self._codes(query)
        hits = self.backend.candidates(query, codes, query.radius_km)
        nearest_anyway = False
        if query.near is not None and not hits:
            radius = query.radius_km
            while not hits and radius < MAX_RADIUS_KM:
                radius = min(radius * 4, MAX_RADIUS_KM)
                hits = self.backend.candidates(query, codes, radius)
            nearest_anyway = bool(hits)
        hits.sort(key=_order(query))
        if nearest_anyway:
            hits = hits[:NEAREST_ANYWAY]
        page = hits[query.offset : query.offset + query.limit]
        shown = self.backend.summaries([h[0] for h in page]) if page else {}
        results = []
        for club, distance, _rank, _name, _key in page:
            key, updated_at, summary = shown[club]
            beyond = distance is not None and distance > query.radius_km
            results.append(Result(key, distance, beyond, updated_at, summary))
        result = SearchResult(query, len(hits), results, nearest_anyway)
        if hits:
            result.activity_facets = self._activity_facets([h[0] for h in hits])
            if query.near is not None and not nearest_anyway:
                result.distance_facets = _distance_facets(hits, query.radius_km)
        return result

    def _codes(self, query: SearchQuery) -> list[int] | None:
        """The activity codes a query asks for (None: any activity)."""
        if not query.activity_ids:
            return None
        codes = self.backend.codes()
        if any(a not in codes for a in query.activity_ids):
            codes.clear()  # another process may have indexed a new activity since
            codes = self.backend.codes()
        return sorted(codes[a] for a in query.activity_ids if a in codes)

    def _activity_facets(self, clubs: list[int]) -> list[Facet]:
        counts = self.backend.activity_counts(clubs)
        by_code = {code: activity for activity, code in self.backend.codes().items()}
        if any(code not in by_code for code in counts):
            self.backend.codes().clear()
            by_code = {code: activity for activity, code in self.backend.codes().items()}
        scheme = activity_list()
        facets = []
        for code, count in counts.items():
            concept = scheme.get(by_code.get(code, ""))
            if concept is not None:
                facets.append(Facet(concept.pref_label, count, concept.id))
        return sorted(facets, key=lambda f: (-f.count, f.label.casefold()))


def _split(rows: list[StoredClub]) -> tuple[list[str], list[Entry]]:
    removed = [r.key for r in rows if r.state != "updated" or r.data is None]
    entries = [
        entry_of(r.key, r.data, r.updated_at)
        for r in rows
        if r.state == "updated" and r.data is not None
    ]
    return removed, entries


def _order(query: SearchQuery) -> Any:
    """The sort key of a hit: distances compared to the metre (so both backends' last-digit
    differences never reorder), then name and key so that the order is total."""

    def by_distance(hit: Hit) -> tuple[float, str, str]:
        return (round(hit[1] if hit[1] is not None else 1e9, 3), hit[3], hit[4])

    def by_relevance(hit: Hit) -> tuple[float, str, str]:
        return (hit[2] if hit[2] is not None else 0.0, hit[3], hit[4])

    def by_name(hit: Hit) -> tuple[str, str]:
        return (hit[3], hit[4])

    if query.sort == "distance" and query.near is not None:
        return by_distance
    if query.sort == "relevance" and query.words:
        return by_relevance
    return by_name


def _distance_facets(hits: list[Hit], radius: float) -> list[Facet]:
    bands = [b for b in DISTANCE_BANDS_KM if b < radius] + [radius]
    distances = [round(h[1], 3) for h in hits if h[1] is not None]  # to the metre
    return [
        Facet(f"within {band:g} km", sum(1 for d in distances if d <= band), f"{band:g}")
        for band in bands
    ]
