"""Running a `SearchQuery` against a store's search index, and keeping the index current.

The indexer follows the `clubs` table the way an RPDE consumer follows the feed: it reads
the clubs whose `(modified, key)` is after its checkpoint, in that order, and moves the
checkpoint with each batch, in the same transaction as the index writes. A store's
`modified` is strictly increasing in commit order (openclubs.store.sqlite and .postgres), so
reading `modified > checkpoint` never misses a change; a tombstone removes the club's
entries. `catch_up()` runs before each query: when nothing changed it costs one indexed
one-row read.

A tombstone pruned before the indexer saw it cannot leave a stale entry: the store's
`prune` removes the index entries of the clubs it deletes, in its own transaction
(sqlite_index.forget, postgres_index.forget). `rebuild()` clears the index so the next
catch-up reads every club again (after an Activity List refresh).
"""

from __future__ import annotations

from bisect import bisect_right
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
TOTAL_CAP = 200  # a search counts exactly up to this many clubs (see _near_first, _capped)
RADIUS_STEPS = 4  # the first circle read has 1/2**RADIUS_STEPS of the radius
BATCH = 1000
PACK_AFTER = 10_000  # a catch-up of this many clubs, and a fifth of the index, repacks it
# club, distance (km, to the metre), rank, sort name, key, and the activity codes of the
# club's entries that matched when the backend read them with the places ("1,18"; else None)
Hit = tuple[int, float | None, float | None, str, str, str | None]


class Backend(Protocol):
    def position(self) -> tuple[int, str]: ...
    def set_position(self, modified: int, key: str) -> None: ...
    def writing(self) -> Any: ...
    def codes(self) -> dict[str, int]: ...
    def replace(self, removed: Sequence[str], entries: Sequence[Entry]) -> None: ...
    def pack(self) -> None: ...
    def candidates(
        self, query: SearchQuery, codes: list[int] | None, radius: float, cap: int | None = None
    ) -> list[Hit]: ...
    def activity_counts(self, clubs: Sequence[int], codes: list[int] | None) -> dict[int, int]: ...
    def summaries(self, clubs: Sequence[int]) -> dict[int, tuple[str, str, dict[str, Any]]]: ...
    def names(self, clubs: Sequence[int]) -> dict[int, tuple[str, str]]: ...
    def browse(
        self, codes: list[int] | None, limit: int, offset: int
    ) -> tuple[int, list[Hit], dict[int, int]]: ...
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
    total_exact: bool = True  # False: `total` (and the facets) count the clubs within
    counted_within_km: float | None = None  # this radius, and there are more beyond it
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

    def __init__(
        self, store: Store, *, auto_catch_up: bool = True, total_cap: int = TOTAL_CAP
    ) -> None:
        self.store = store
        self.backend = backend_for(store)
        self.auto_catch_up = auto_catch_up
        self.total_cap = total_cap

    # -- indexing ----------------------------------------------------------------------------

    def catch_up(self, batch: int = BATCH) -> int:
        """Index every club changed since the last catch-up; returns how many were read.
        Each batch is its own transaction (its entries and the moved checkpoint together),
        so a long catch-up never holds the store's write lock for long, and an interrupted
        one resumes where it stopped."""
        modified, key = self.backend.position()
        if not self.store.page(modified, key, 1):
            return 0
        done = 0
        while True:
            with self.backend.writing():
                modified, key = self.backend.position()  # another process may have moved it
                rows = self.store.page(modified, key, batch)
                if rows:
                    self.backend.replace(*_split(rows))
                    self.backend.set_position(rows[-1].modified, rows[-1].key)
            done += len(rows)
            if len(rows) < batch:
                break
        if done >= PACK_AFTER and done * 5 >= self.backend.count():
            with self.backend.writing():
                self.backend.pack()  # a bulk load: rebuild the spatial index in a good order
        return done

    def rebuild(self) -> int:
        """Empty the index and index every club again (after an Activity List refresh
        changed what labels mean, or to repair an index by hand)."""
        with self.backend.writing():
            self.backend.replace([key for key in self._indexed_keys()], [])
            self.backend.set_position(0, "")
        done = self.catch_up()
        with self.backend.writing():
            self.backend.pack()
        return done

    def _indexed_keys(self) -> Iterator[str]:
        for hit in self.backend.candidates(SearchQuery(), None, MAX_RADIUS_KM):
            yield hit[4]

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        if self.auto_catch_up:
            self.catch_up()
        codes = self._codes(query)
        if codes == []:  # an activity (and everything narrower) that no club has
            return SearchResult(query, 0, [])
        if _is_browse(query):
            return self._browse(query, codes)
        if query.near is None:
            hits, capped = self._capped(query, codes)
            counted_within = None
        else:
            (hits, counted_within), capped = self._near_first(query, codes), False
        nearest_anyway = False
        if query.near is not None and not hits:
            radius = query.radius_km
            while not hits and radius < MAX_RADIUS_KM:
                radius = min(radius * 4, MAX_RADIUS_KM)
                hits = self.backend.candidates(query, codes, radius)
            nearest_anyway = bool(hits)
        hits.sort(key=_order(query))
        if nearest_anyway:
            hits = self._name_ties(hits, 0, NEAREST_ANYWAY)[:NEAREST_ANYWAY]
        else:
            hits = self._name_ties(hits, query.offset, query.limit)
        page = hits[query.offset : query.offset + query.limit]
        shown = self.backend.summaries([h[0] for h in page]) if page else {}
        results = []
        for club, distance, *_ in page:
            key, updated_at, summary = shown[club]
            beyond = distance is not None and distance > query.radius_km
            results.append(Result(key, distance, beyond, updated_at, summary))
        result = SearchResult(query, len(hits), results, nearest_anyway, total_exact=not capped)
        if counted_within is not None and not nearest_anyway:
            result.total_exact = counted_within >= query.radius_km
            result.counted_within_km = counted_within
        if hits:
            result.activity_facets = self._activity_facets(hits, codes)
            if query.near is not None and not nearest_anyway:
                bound = counted_within if counted_within is not None else query.radius_km
                result.distance_facets = _distance_facets(hits, bound)
        return result

    def _browse(self, query: SearchQuery, codes: list[int] | None) -> SearchResult:
        """An activity (or nothing) without a place, text or filter: a list in name order,
        read from the name index a page at a time, with counts from the activity index."""
        total, page, counts = self.backend.browse(codes, query.limit, query.offset)
        shown = self.backend.summaries([h[0] for h in page]) if page else {}
        results = []
        for hit in page:
            key, updated_at, summary = shown[hit[0]]
            results.append(Result(key, None, False, updated_at, summary))
        result = SearchResult(query, total, results)
        result.activity_facets = self._facets_from_counts(counts)
        return result

    def _capped(self, query: SearchQuery, codes: list[int] | None) -> tuple[list[Hit], bool]:
        """The hits of a query without a place, and whether there are more. The backend
        reads them in the query's order (relevance, or name) and stops after `total_cap`
        (or the page asked for), plus one to tell whether more match: the page is exact,
        and the total and the facets are then "at least" figures. A common word across a
        million clubs costs what a few hundred results cost, not what every match would."""
        need = max(self.total_cap, query.offset + query.limit)
        hits = self.backend.candidates(query, codes, query.radius_km, need + 1)
        return hits[:need], len(hits) > need

    def _near_first(
        self, query: SearchQuery, codes: list[int] | None
    ) -> tuple[list[Hit], float | None]:
        """The hits of a query, and for a search by place the radius they were counted
        within. Searching by place reads circles of growing radius (1/16, 1/8, ... of the
        radius asked for) and stops once one holds `total_cap` clubs (or the page asked
        for): its clubs are then certainly the nearest ones, so the page is exact, and only
        the total and the facets are "at least" figures. A dense city costs what a few
        hundred clubs cost, not what every club in the radius would."""
        assert query.near is not None
        need = max(self.total_cap, query.offset + query.limit)
        radius = query.radius_km
        steps = [radius / 2**k for k in range(RADIUS_STEPS, 0, -1)] + [radius]
        hits: list[Hit] = []
        for step in steps:
            hits = self.backend.candidates(query, codes, step)
            if len(hits) >= need or step == radius:
                return hits, step
        return hits, radius

    def _name_ties(self, hits: list[Hit], offset: int, limit: int) -> list[Hit]:
        """Hits sorted by distance without their names (the backend skipped reading them):
        name the ones at the same distance (to the metre) as a club on the page, and sort
        again, so that clubs equally near are in name order as on every backend."""
        page = hits[offset : offset + limit]
        if not page or page[0][3] or page[0][1] is None:
            return hits
        wanted = {h[1] for h in page}
        tied = [h[0] for h in hits if h[1] in wanted]
        names = self.backend.names(tied)
        named = [(h[0], h[1], h[2], *names[h[0]], h[5]) if h[0] in names else h for h in hits]
        named.sort(key=_order_by_distance)
        return named

    def _codes(self, query: SearchQuery) -> list[int] | None:
        """The activity codes a query asks for (None: any activity)."""
        if not query.activity_ids:
            return None
        codes = self.backend.codes()
        if any(a not in codes for a in query.activity_ids):
            codes.clear()  # another process may have indexed a new activity since
            codes = self.backend.codes()
        return sorted(codes[a] for a in query.activity_ids if a in codes)

    def _activity_facets(self, hits: list[Hit], codes: list[int] | None) -> list[Facet]:
        """Matching clubs counted by activity: the activities asked for (the concept and the
        narrower ones) when the search names one, else every activity of the clubs."""
        counts: dict[int, int] = {}
        if all(h[5] is not None for h in hits):  # the codes came with the places
            for hit in hits:
                for code in {int(c) for c in (hit[5] or "").split(",") if c}:
                    counts[code] = counts.get(code, 0) + 1
        else:
            counts = self.backend.activity_counts([h[0] for h in hits], codes)
        return self._facets_from_counts(counts)

    def _facets_from_counts(self, counts: dict[int, int]) -> list[Facet]:
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


def _is_browse(query: SearchQuery) -> bool:
    """A query that only lists (an activity's) clubs by name: no place, text or filter."""
    return (
        query.near is None
        and not query.words
        and query.age is None
        and not query.genders
        and not query.accessibility
        and not query.amenities
        and not query.member_of
    )


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

    def by_relevance(hit: Hit) -> tuple[float, str, str]:
        return (hit[2] if hit[2] is not None else 0.0, hit[3], hit[4])

    def by_name(hit: Hit) -> tuple[str, str]:
        return (hit[3], hit[4])

    if query.sort == "distance" and query.near is not None:
        return _order_by_distance
    if query.sort == "relevance" and query.words:
        return by_relevance
    return by_name


def _order_by_distance(hit: Hit) -> tuple[float, str, str, int]:
    """Distance (the backends give it to the metre, so that their last-digit differences
    never reorder), then name and key; the club's number orders hits read without names."""
    return (hit[1] if hit[1] is not None else 1e9, hit[3], hit[4], hit[0])


def _distance_facets(hits: list[Hit], radius: float) -> list[Facet]:
    bands = [b for b in DISTANCE_BANDS_KM if b < radius] + [radius]
    distances = sorted(h[1] for h in hits if h[1] is not None)
    return [
        Facet(f"within {band:g} km", bisect_right(distances, band), f"{band:g}") for band in bands
    ]
