"""Club search: known answers on a fixed dataset (the openactive-clubs example workbook's
clubs, the Club Specification's Greenwich Yacht Club, the demo clubs, and generated clubs
placed at known distances from the yacht club), on both store backends; the indexer follows
updates and deletions; and the same queries give the same answers on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from openclubs.importer import import_files
from openclubs.ingest.html import json_ld_blocks
from openclubs.ingest.jsontext import parse_json
from openclubs.publish.demo import demo_records
from openclubs.search.engine import Search, SearchResult
from openclubs.search.place import Locator
from openclubs.search.query import QueryError, SearchQuery, parse_query
from openclubs.search.sqlite_index import EARTH_RADIUS_KM, bounding_box, code_ranges
from openclubs.store.base import Store, open_store
from openclubs.vocab import activity_list
from tests.helpers import EXAMPLES, SHARED

BASE = "http://clubs.test"
CENTRE = (51.4955, 0.018473)  # Greenwich Yacht Club's place in the spec's Example 3
OA = "https://openactive.io/activity-list"


def destination(lat: float, lon: float, bearing: float, km: float) -> tuple[float, float]:
    """The point `km` along a great circle from (lat, lon) at `bearing` degrees."""
    p1, l1, b, d = math.radians(lat), math.radians(lon), math.radians(bearing), km / EARTH_RADIUS_KM
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return round(math.degrees(p2), 7), round(math.degrees(l2), 7)


def activity(label: str) -> dict[str, str]:
    concept = activity_list().find(label)
    assert concept is not None, label
    return concept.reference()


def place(km: float, bearing: float, name: str, **extra: Any) -> dict[str, Any]:
    lat, lon = destination(*CENTRE, bearing, km)
    geo = {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon}
    return {"@type": "Place", "name": name, "geo": geo, **extra}


def club(key: str, name: str, activities: list[str], where: Any, **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://openactive.io/",
        "@type": "SportsClub",
        "@id": f"{BASE}/clubs/{key}",
        "name": name,
        "activity": [activity(a) for a in activities],
        "location": where,
        "url": f"https://{key}.example.org/",
        **extra,
    }


LEARNING = {
    "@type": "Concept",
    "@id": "https://openactive.io/accessibility-support#67902468-fd49-4238-8650-20a22d7f0e40",
    "prefLabel": "Learning impairment",
}


def generated_clubs() -> list[dict[str, Any]]:
    """Clubs at known great-circle distances from CENTRE."""
    return [
        club(
            "judo-1km",
            "Riverside Judo Club",
            ["Judo"],
            place(1, 0, "Riverside Dojo"),
            ageRange={"@type": "QuantitativeValue", "minValue": 5},
        ),
        club(
            "girls-karate-2km",
            "Peninsula Girls Karate",
            ["Karate"],
            place(2, 90, "Hall"),
            genderRestriction="https://openactive.io/FemaleOnly",
            ageRange={"@type": "QuantitativeValue", "minValue": 8, "maxValue": 16},
            accessibilitySupport=[LEARNING],
            email="sensei@girls-karate.example.org",
        ),
        club(
            "karate-3km",
            "Blackheath Karate Club",
            ["Karate"],
            place(3, 180, "Church Hall"),
            genderRestriction="NoRestriction",
            ageRange={"minValue": 16},
        ),
        club(
            "soccer-5km",
            "Deptford Soccer Club",
            ["Football"],
            place(5, 270, "The Park"),
            genderRestriction="oa:NoRestriction",
            ageRange={"minValue": 5, "maxValue": 11},
        ),
        club("football-8km", "Lewisham Football Club", ["Football"], place(8, 225, "Ground")),
        club("tennis-12km", "Eltham Tennis Club", ["Tennis"], place(12, 135, "Courts")),
        club(
            "two-places",
            "Two Sites Judo",
            ["Judo"],
            [place(30, 0, "Far Hall"), place(4, 45, "Near Hall")],
        ),
        club(
            "script-6km",
            "<script>alert(1)</script>",
            ["Judo"],
            place(6, 315, "<b>Hall</b>"),
            description="A club whose name is markup & must be shown as text.",
        ),
        club("judo-50km", "Faraway Judo", ["Judo"], place(50, 0, "Far Dojo")),
        club(
            "kendo-no-geo",
            "Kendo Without A Map",
            ["Kendo"],
            {"@type": "Place", "address": {"@type": "PostalAddress", "postalCode": "SE10 9AA"}},
            address={"@type": "PostalAddress", "postalCode": "SE10 0AA"},
        ),
    ]


@cache
def greenwich_yacht_club() -> dict[str, Any]:
    (path,) = EXAMPLES.glob("03-*")
    (block,) = json_ld_blocks(path.read_text(encoding="utf-8"))
    record = parse_json(block.text).value
    assert record["name"] == "Greenwich Yacht Club"
    return dict(record)


@cache
def workbook_clubs() -> list[dict[str, Any]]:
    result = import_files([str(SHARED / "data" / "OpenActive-Clubs-Example.xlsx")])
    return [c.record for c in result.clubs]


def dataset() -> list[dict[str, Any]]:
    return [
        *generated_clubs(),
        copy.deepcopy(greenwich_yacht_club()),
        *copy.deepcopy(workbook_clubs()),
        *(record for _, record in demo_records(BASE)),
    ]


def load(store: Store) -> Search:
    store.upsert((record, None, []) for record in dataset())
    return Search(store)


def ask(search: Search, **params: Any) -> SearchResult:
    given = {
        k.rstrip("_"): [str(v) for v in (value if isinstance(value, list) else [value])]
        for k, value in params.items()
    }
    return search.search(parse_query(given, Locator(None, None)))


def keys(result: SearchResult) -> list[str]:
    return [r.key for r in result.results]


def distances(result: SearchResult) -> list[float | None]:
    return [None if r.distance_km is None else round(r.distance_km, 3) for r in result.results]


NEAR = f"{CENTRE[0]},{CENTRE[1]}"
GYC = "2572"  # the key of Example 3's club (the last segment of its @id)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def search(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Search]:
    """The dataset in a store of each kind, loaded once for the tests that only read."""
    name = None
    if request.param == "sqlite":
        db = str(tmp_path_factory.mktemp("search") / "clubs.sqlite3")
    else:
        server = request.getfixturevalue("postgres_server")
        name, db = server.create_database()
    store = open_store(db)
    store.migrate()
    yield load(store)
    store.close()
    if name is not None:
        server.drop_database(name)


def test_martial_arts_near_a_place_finds_judo_and_karate_by_distance(search: Search) -> None:
    found = ask(search, activity="Martial Arts", near=NEAR, radius=10)
    assert keys(found) == ["judo-1km", "girls-karate-2km", "karate-3km", "two-places", "script-6km"]
    assert distances(found) == [1.0, 2.0, 3.0, 4.0, 6.0]  # the nearest of two places counts
    assert found.total == 5 and not found.nearest_anyway
    assert [(f.label, f.count) for f in found.activity_facets] == [("Judo", 3), ("Karate", 2)]
    assert [(f.label, f.count) for f in found.distance_facets] == [
        ("within 1 km", 1),
        ("within 2 km", 2),
        ("within 5 km", 4),
        ("within 10 km", 5),
    ]


def test_activity_by_synonym_id_and_uuid(search: Search) -> None:
    soccer = ask(search, activity="soccer", near=NEAR, radius=10)
    assert keys(soccer) == ["soccer-5km", "football-8km"]
    football = activity_list().find("Football")
    assert football is not None
    assert keys(ask(search, activity=football.id, near=NEAR)) == keys(soccer)
    assert keys(ask(search, activity=football.uuid, near=NEAR)) == keys(soccer)


def test_activity_without_a_place_searches_every_club(search: Search) -> None:
    found = ask(search, activity="martial arts")
    assert found.query.sort == "name"
    assert keys(found) == [
        "script-6km",  # "<script>…" sorts first
        "karate-3km",
        "judo-50km",
        "kendo-no-geo",  # no map position, but found by its activity
        "meadowbank-judo-club",  # the demo club in Edinburgh
        "girls-karate-2km",
        "judo-1km",
        "two-places",
    ]
    assert all(r.distance_km is None for r in found.results)


def test_suitability_filters(search: Search) -> None:
    base = {"near": NEAR, "radius": 25}
    # a 10-year-old: ranges 5+ and 8-16 and 5-11 include 10; 16+ does not; unknown never does
    assert keys(ask(search, age=10, **base)) == ["judo-1km", "girls-karate-2km", "soccer-5km"]
    assert keys(ask(search, gender="FemaleOnly", **base)) == ["girls-karate-2km"]
    assert keys(ask(search, gender="NoRestriction", **base)) == ["karate-3km", "soccer-5km"]
    unknown = keys(ask(search, gender="Unknown", activity="Football", **base))
    assert unknown == ["football-8km"]  # no genderRestriction is unknown, not "no restriction"
    assert keys(ask(search, accessibility="Learning impairment", **base)) == ["girls-karate-2km"]
    assert keys(ask(search, amenity="showers", **base)) == [GYC]
    assert keys(ask(search, amenity=["Showers", "Parking"], **base)) == [GYC]
    lockers = ask(search, amenity="Lockers", **base)  # Example 3 says Lockers: false
    assert lockers.nearest_anyway  # so the nearest with lockers are the workbook's, in Kent
    assert keys(lockers) == ["orgID123", "orgID456"]
    assert keys(ask(search, memberOf="royal yachting association")) == [GYC]


def test_text_over_names_alternate_names_and_descriptions(search: Search) -> None:
    assert keys(ask(search, q="GYC")) == [GYC]  # alternateName
    assert keys(ask(search, q="soccer")) == ["soccer-5km"]  # a word in its name only
    assert keys(ask(search, q="markup")) == ["script-6km"]  # description
    tiddly = ask(search, q="Tiddly")
    assert (
        keys(tiddly) == ["orgID123"]
        and tiddly.results[0].summary["name"] == "Tonbridge Tiddlywinks"
    )
    found = ask(search, q="judo club")
    assert found.query.sort == "relevance"
    assert set(keys(found)) == {"judo-1km", "meadowbank-judo-club"}


def test_an_activity_no_club_has(search: Search) -> None:
    for params in ({"near": NEAR}, {}, {"age": 10}):
        found = ask(search, activity="Curling", **params)
        assert (found.total, found.results, found.nearest_anyway) == (0, [], False)


def test_nearest_anyway_when_nothing_is_within_the_radius(search: Search) -> None:
    found = ask(search, activity="Tennis", near=NEAR, radius=5)
    assert found.nearest_anyway
    assert keys(found)[0] == "tennis-12km"
    assert found.results[0].beyond_radius and round(found.results[0].distance_km or 0, 3) == 12.0


def test_paging_and_the_place_a_club_meets_at(search: Search) -> None:
    everything = keys(ask(search, near=NEAR, radius=10, limit=100))
    assert everything[0] == GYC  # 0 km: it is the centre
    # kendo-no-geo has only an address (its secretary's, or a place without geo): not placed
    assert "kendo-no-geo" not in everything
    second_page = ask(search, near=NEAR, radius=10, limit=2, offset=2)
    assert keys(second_page) == everything[2:4] and second_page.total == len(everything)


def test_the_index_follows_updates_and_deletions(store: Store) -> None:
    search = load(store)
    assert "judo-1km" in keys(ask(search, activity="Judo", near=NEAR))
    store.delete(f"{BASE}/clubs/judo-1km")
    renamed = next(r for r in generated_clubs() if r["name"] == "Blackheath Karate Club")
    renamed["name"] = "Greenwich Peninsula Karate"
    renamed["activity"] = [activity("Judo")]
    store.upsert([(renamed, None, [])])
    judo = ask(search, activity="Judo", near=NEAR)
    assert keys(judo) == ["karate-3km", "two-places", "script-6km"]
    assert judo.results[0].summary["name"] == "Greenwich Peninsula Karate"
    assert keys(ask(search, activity="Karate", near=NEAR)) == ["girls-karate-2km"]
    assert search.catch_up() == 0  # nothing new: nothing read
    assert search.rebuild() == len(dataset())  # every row again (a tombstone too), then packed
    assert keys(ask(search, activity="Judo", near=NEAR)) == keys(judo)


def test_a_tombstone_pruned_before_the_index_saw_it_leaves_no_stale_entry(store: Store) -> None:
    """`openclubs db prune` can delete a tombstone the index has not read yet (nobody searched
    since the deletion); the index must not go on finding the deleted club."""
    search = load(store)
    assert "judo-1km" in keys(ask(search, activity="Judo", near=NEAR))
    search.auto_catch_up = False  # no search between the deletion and the prune
    store.delete(f"{BASE}/clubs/judo-1km")
    later = time.time() + 40 * 86400  # past every tombstone's keeping time
    assert store.prune(days=7, now=later) == 1
    assert store.get("judo-1km") is None
    assert "judo-1km" not in keys(ask(search, activity="Judo", near=NEAR))
    search.auto_catch_up = True
    judo = ask(search, activity="Judo", near=NEAR)
    assert keys(judo) == ["two-places", "script-6km"] and judo.total == 2
    assert "judo-1km" not in keys(ask(search, q="Riverside"))
    assert store.prune(days=7, now=later) == 0  # nothing left to prune, nothing else touched
    assert keys(ask(search, activity="Karate", near=NEAR)) == ["girls-karate-2km", "karate-3km"]


def test_text_searches_count_up_to_the_cap_and_page_exactly(search: Search) -> None:
    """A text query matching more clubs than the cap reads them in relevance (or name) order
    and stops there: the total and facets say "at least", and every page is the page the
    uncapped search gives."""
    capped = Search(search.store, total_cap=4)
    everything = Search(search.store, total_cap=1000)
    for params in ({"q": "club"}, {"q": "club", "sort": "name"}, {"q": "judo", "age": "10"}):
        full = ask(everything, **params, limit=50)
        assert full.total_exact and full.total == len(full.results)
        first = ask(capped, **params, limit=2)
        if full.total <= 4:
            assert first.total_exact and first.total == full.total
            continue
        assert (first.total, first.total_exact) == (4, False)
        assert keys(first) == keys(full)[:2]
        assert sum(f.count for f in first.activity_facets) >= 4
        later = ask(capped, **params, limit=3, offset=5)  # beyond the cap: still exact
        assert keys(later) == keys(full)[5:8]
        assert later.total == 8 and not later.total_exact


def test_bad_parameters_are_all_reported() -> None:
    with pytest.raises(QueryError) as raised:
        parse_query(
            {
                "activity": ["kung fo"],
                "radius": ["-3"],
                "age": ["ten"],
                "gender": ["Women"],
                "sort": ["distance"],
                "limit": ["1000"],
            },
            Locator(None, None),
        )
    errors = {e["parameter"]: e for e in raised.value.errors}
    assert set(errors) == {"activity", "radius", "age", "gender", "sort", "limit"}
    assert errors["activity"]["suggestions"][0]["label"] == "Kung Fu"
    assert raised.value.status == 400


def test_geometry_helpers() -> None:
    assert code_ranges([7, 1, 2, 3, 9, 8]) == [(1, 3), (7, 9)]
    south, north, west, east = bounding_box(*CENTRE, 10)
    for bearing in range(0, 360, 15):
        lat, lon = destination(*CENTRE, bearing, 9.999)
        assert south <= lat <= north and west <= lon <= east


QUERIES: list[dict[str, Any]] = [
    {"activity": "Martial Arts", "near": NEAR, "radius": 10},
    {"activity": "Martial Arts", "near": NEAR, "radius": 60, "limit": 3, "offset": 1},
    {"activity": "Football"},
    {"near": NEAR, "radius": 25},
    {"near": "53.4,-2.98", "radius": 5},
    {"near": NEAR, "radius": 25, "age": 10},
    {"near": NEAR, "radius": 25, "gender": "Unknown"},
    {"near": NEAR, "radius": 100, "amenity": "showers"},
    {"q": "club", "sort": "name"},
    {"q": "judo", "near": NEAR, "radius": 100},
    {"activity": "Tennis", "near": NEAR, "radius": 2},
    {"memberOf": "Royal Yachting Association"},
    {},
]

CAPPED: list[dict[str, Any]] = [  # more than 5 clubs match the first two, 5 the last
    {"q": "club", "sort": "name", "limit": 3},
    {"gender": "Unknown", "limit": 4, "offset": 2},
    {"activity": "Judo", "gender": "Unknown,NoRestriction"},
]


def answer(search: Search, params: dict[str, Any]) -> dict[str, Any]:
    found = ask(search, **params)
    return {
        "keys": keys(found),
        "distances": distances(found),
        "total": found.total,
        "exact": found.total_exact,
        "nearest": found.nearest_anyway,
        "activity": [(f.label, f.count) for f in found.activity_facets],
        "distance": [(f.label, f.count) for f in found.distance_facets],
    }


def test_sqlite_and_postgresql_give_the_same_answers(tmp_path: Path, postgres_dsn: str) -> None:
    answers = []
    for db in (str(tmp_path / "parity.sqlite3"), postgres_dsn):
        store = open_store(db)
        store.migrate()
        try:
            search = load(store)
            answers.append([answer(search, q) for q in QUERIES])
            relevance = ask(search, q="judo club")
            answers[-1].append(sorted(keys(relevance)))
            capped = Search(store, total_cap=5)  # counting stops: the same first five
            answers[-1].extend(answer(capped, q) for q in CAPPED)
        finally:
            store.close()
    sqlite, postgres = answers
    asked = [*QUERIES, {"q": "judo club"}, *CAPPED]
    for query, one, other in zip(asked, sqlite, postgres, strict=True):
        assert one == other, query
    assert sqlite[0]["keys"] and sqlite[3]["total"] > 5
    capped = sqlite[-len(CAPPED) :]
    # more than the cap (or the page asked for) match, then exactly the cap: exact
    assert [(a["total"], a["exact"]) for a in capped] == [(5, False), (6, False), (5, True)]


def test_an_empty_query_lists_every_club_by_name(search: Search) -> None:
    found = ask(search, limit=100)
    assert found.total == len(dataset())
    assert isinstance(found.query, SearchQuery) and found.query.sort == "name"


def test_dense_places_count_the_nearest_circle_that_holds_enough(search: Search) -> None:
    # a cap of 3 clubs: circles of 0.625, 1.25, 2.5 and 5 km are read, and 5 km holds 4
    search = Search(search.store, total_cap=3)
    found = ask(search, activity="Martial Arts", near=NEAR, radius=10, limit=2)
    assert keys(found) == ["judo-1km", "girls-karate-2km"]
    assert (found.total, found.total_exact, found.counted_within_km) == (4, False, 5.0)
    assert [(f.label, f.count) for f in found.distance_facets] == [
        ("within 1 km", 1),
        ("within 2 km", 2),
        ("within 5 km", 4),
    ]
    # a page beyond what was counted reads further: the page is always exact
    deeper = ask(search, activity="Martial Arts", near=NEAR, radius=10, limit=2, offset=4)
    assert keys(deeper) == ["script-6km"] and deeper.total_exact and deeper.total == 5
    assert ask(search, activity="Martial Arts", near=NEAR, radius=10).total == 5  # a page of 20


def test_a_store_at_the_first_search_migration_is_brought_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openclubs.search import schema

    first = schema.SchemaPart("search", sqlite=schema.PART.sqlite[:1], postgres=())
    monkeypatch.setattr(schema, "PART", first)
    store = open_store(str(tmp_path / "old.sqlite3"))
    store.migrate()
    assert store.part_versions()["search"] == 1
    store.upsert((record, None, []) for record in dataset())
    monkeypatch.undo()
    assert store.migrate() == 2 and store.part_versions()["search"] == 3
    found = ask(Search(store), activity="Soccer", near=NEAR)  # indexed from the clubs table
    assert keys(found) == ["soccer-5km", "football-8km"]
    store.close()


def test_clubs_equally_near_are_in_name_order(store: Store) -> None:
    venue = place(3, 90, "Sports Centre")
    store.upsert(
        (record, None, [])
        for record in [
            club("zeta", "Zeta Judo", ["Judo"], venue),
            club("alpha", "Alpha Judo", ["Judo"], venue),
            club("near", "Near Judo", ["Judo"], place(1, 0, "Hall")),
            club("beta", "Beta Judo", ["Judo"], venue),
        ]
    )
    search = Search(store)
    assert keys(ask(search, activity="Judo", near=NEAR)) == ["near", "alpha", "beta", "zeta"]
    assert keys(ask(search, activity="Judo", near=NEAR, limit=1, offset=2)) == ["beta"]
