"""The harvester into the store, on both backends: feeds served on 127.0.0.1 (the real session
pages with `next` rewritten, generated club feeds in both RPDE orderings, broken feeds), every
page applied with its checkpoint in one transaction, newer-only, tombstones, organisers."""

from __future__ import annotations

import json
import threading
from bisect import bisect_right
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from openclubs.harvest.apply import apply_page, register_feed
from openclubs.harvest.rpde_client import Page
from openclubs.harvest.runner import HarvestOptions, feed_statuses, harvest_feed, harvest_feeds
from openclubs.store.base import Store, open_store
from tests.conftest import LocalSite
from tests.helpers import SHARED

FEEDS = SHARED / "data" / "feeds"
NEWHAM = FEEDS / "active-newham-sessions-2020-01-02.json"
EVERYONE_ACTIVE = FEEDS / "everyone-active-sessions-2020-01-06.json"
ACTIVITIES = ["Netball", "Cricket", "Judo", "Swimming", "Rowing", "Badminton"]
TOWNS = ["Radyr", "Leeds", "Bangor", "Perth", "Truro", "Ely"]
REGIONS = [
    "Cardiff",
    "West Yorkshire",
    "Gwynedd",
    "Perth and Kinross",
    "Cornwall",
    "Cambridgeshire",
]
POSTCODES = ["CF15 8DY", "LS1 4AP", "LL57 1UT", "PH1 5PH", "TR1 2SJ", "CB7 4DL"]


def page(items: list[dict[str, Any]], next_url: str) -> str:
    return json.dumps(
        {
            "next": next_url,
            "items": items,
            "license": "https://creativecommons.org/licenses/by/4.0/",
        }
    )


def club(
    n: int, modified: int | str, version: int = 1, item_id: str | None = None
) -> dict[str, Any]:
    """An RPDE item for a Club Spec SportsClub (version changes its name)."""
    item_id = item_id if item_id is not None else f"club-{n:05d}"
    return {
        "state": "updated",
        "kind": "SportsClub",
        "id": item_id,
        "modified": modified,
        "data": {
            "@context": "https://openactive.io/",
            "@type": "SportsClub",
            "@id": f"https://clubs.example.org/clubs/{quote(item_id, safe='')}",
            "name": f"{TOWNS[n % len(TOWNS)]} {ACTIVITIES[n % len(ACTIVITIES)]} Club"
            + (f" (v{version})" if version > 1 else ""),
            "url": f"https://clubs.example.org/{n}",
            "activity": [
                {
                    "@type": "Concept",
                    "prefLabel": ACTIVITIES[n % len(ACTIVITIES)],
                    "inScheme": "https://openactive.io/activity-list",
                }
            ],
            "location": [
                {
                    "@type": "Place",
                    "name": f"{TOWNS[n % len(TOWNS)]} Sports Ground",
                    "address": {
                        "@type": "PostalAddress",
                        "streetAddress": f"{n % 90 + 1} Station Road",
                        "addressLocality": TOWNS[n % len(TOWNS)],
                        "addressRegion": REGIONS[n % len(TOWNS)],
                        "postalCode": POSTCODES[n % len(TOWNS)],
                        "addressCountry": "GB",
                    },
                    "geo": {"@type": "GeoCoordinates", "latitude": 51.5, "longitude": -3.2},
                }
            ],
        },
    }


def deleted(item_id: str, modified: int | str, kind: str = "SportsClub") -> dict[str, Any]:
    return {"state": "deleted", "kind": kind, "id": item_id, "modified": modified}


def serve(
    site: LocalSite,
    path: str,
    items: list[dict[str, Any]],
    per_page: int = 100,
    ordering: str = "modified",
) -> str:
    """Serve `items` (already in feed order) as an RPDE feed at `path`; returns its URL.
    ordering "modified": afterTimestamp+afterId; "change": afterChangeNumber."""
    current = path
    for start in range(0, len(items), per_page):
        chunk = items[start : start + per_page]
        last = chunk[-1]
        if ordering == "change":
            nxt = f"{path}?afterChangeNumber={last['modified']}"
        else:
            after_id = quote(str(last["id"]), safe="")
            nxt = f"{path}?afterTimestamp={last['modified']}&afterId={after_id}"
        site.add(current, page(chunk, site.url(nxt)))
        current = nxt
    site.add(current, page([], site.url(current)))
    return site.url(path)


def position(item: dict[str, Any]) -> tuple[Any, str]:
    return (item["modified"], str(item["id"]))


class QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-answer (a killed harvester) is no error here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class LiveFeed:
    """A live RPDE feed on 127.0.0.1 (modified+id ordering) answering any position from its
    current items, as a real publisher does: `put` adds or updates an item (moving it to the
    end); `on_request` runs before each answer (to change the feed while it is walked)."""

    def __init__(self, items: list[dict[str, Any]], per_page: int = 100) -> None:
        self.items: dict[str, dict[str, Any]] = {str(i["id"]): i for i in items}
        self.per_page = per_page
        self.on_request: Any = None
        self.lock = threading.Lock()
        self.ordered: list[dict[str, Any]] | None = None
        self.keys: list[tuple[Any, str]] = []
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if feed.on_request is not None:
                    feed.on_request()
                body = feed.answer(self.path).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed"

    def put(self, item: dict[str, Any]) -> None:
        with self.lock:
            self.items[str(item["id"])] = item
            self.ordered = None

    def answer(self, path: str) -> str:
        query = parse_qs(urlsplit(path).query)
        after = (int(query["afterTimestamp"][0]), query["afterId"][0]) if query else None
        with self.lock:
            if self.ordered is None:
                self.ordered = sorted(self.items.values(), key=position)
                self.keys = [position(i) for i in self.ordered]
            start = 0 if after is None else bisect_right(self.keys, after)
            chosen = self.ordered[start : start + self.per_page]
        if not chosen:
            return page([], f"http://127.0.0.1:{self.server.server_address[1]}{path}")
        last = chosen[-1]
        after_id = quote(str(last["id"]), safe="")
        nxt = f"{self.url}?afterTimestamp={last['modified']}&afterId={after_id}"
        return page(chosen, nxt)

    def __enter__(self) -> LiveFeed:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_real(site: LocalSite, path: str, source: Path) -> str:
    """A whole real page, its `next` rewritten to this server, then an empty last page."""
    original = json.loads(source.read_text(encoding="utf-8"))
    query = urlsplit(original["next"]).query
    last = site.url(f"{path}?{query}")
    site.add(path, page(original["items"], last))
    site.add(f"{path}?{query}", page([], last))
    return site.url(path)


FAST = HarvestOptions(
    rate_per_second=None,
    retry_wait=(0.001, 0.002),
    forbidden_wait=(0.001, 0.002),
    backoff_base=0.001,
    backoff_max=0.01,
    max_retries=2,
    end_poll_wait=0.01,
    error_wait=0.01,
)


def current(store: Store) -> dict[str, dict[str, Any]]:
    """Every current club's data, by @id."""
    return {c.id: c.data for c in store.iter_clubs() if c.data is not None}


def status_of(store: Store, url: str) -> Any:
    return next(s for s in feed_statuses(store) if s.url == url)


# -- a generated club feed ---------------------------------------------------------------------


@pytest.mark.parametrize("ordering", ["modified", "change"])
def test_generated_feed_into_store_and_rerun_is_a_no_op(
    store: Store, local_site: LocalSite, ordering: str
) -> None:
    items = [
        club(n, 1_700_000_000_000 + n // 2 if ordering == "modified" else 5000 + n)
        for n in range(450)
    ]
    items[10:12] = [
        deleted("club-00010", items[10]["modified"]),
        deleted("never-seen", items[11]["modified"]),
    ]
    url = serve(local_site, "/feeds/clubs", items, per_page=100, ordering=ordering)

    result = harvest_feed(store, url, FAST)

    assert result.status == "caught-up" and result.pages == 6  # 5 full pages and the last one
    assert result.counts.items == 450 and result.counts.applied == 450
    assert result.counts.deletes == 2 and result.counts.invalid == 0
    clubs = current(store)
    assert len(clubs) == 448 and "https://clubs.example.org/clubs/club-00010" not in clubs
    assert clubs["https://clubs.example.org/clubs/club-00007"]["name"] == "Leeds Cricket Club"
    status = status_of(store, url)
    assert status.status == "caught-up" and status.current == 448
    assert status.next_url == local_site.url(local_site.requests[-1])  # the last page's URL
    before = store.counts()
    stored = {c.id: c.modified for c in store.iter_clubs()}

    again = harvest_feed(store, url, FAST)  # resumes at the last page: nothing to do

    assert again.pages == 1 and again.counts.items == 0
    assert store.counts() == before and {c.id: c.modified for c in store.iter_clubs()} == stored


def test_newer_only_and_tombstones_stop_resurrection(store: Store) -> None:
    feed = "http://127.0.0.1:9/feed"
    register_feed(store, feed)

    def apply(items: list[dict[str, Any]], n: int) -> Any:
        return apply_page(
            store,
            feed,
            Page(url=f"{feed}?p={n}", next=f"{feed}?p={n + 1}", items=items, is_last=False),
        )

    apply([club(1, 10, version=2)], 1)
    counts = apply([club(1, 9, version=1)], 2)  # an older update: not applied
    assert counts.skipped == 1 and counts.applied == 0
    assert current(store)["https://clubs.example.org/clubs/club-00001"]["name"].endswith("(v2)")

    counts = apply([deleted("club-00001", 12)], 3)
    assert counts.deletes == 1 and current(store) == {}
    tombstone = store.get("https://clubs.example.org/clubs/club-00001")
    assert tombstone is not None and tombstone.state == "deleted"  # re-published as a delete

    counts = apply([club(1, 11, version=3)], 4)  # older than the delete: stays deleted
    assert counts.skipped == 1 and current(store) == {}
    apply([club(1, 13, version=4)], 5)  # newer: back again
    assert current(store)["https://clubs.example.org/clubs/club-00001"]["name"].endswith("(v4)")

    status = status_of(store, feed)
    assert status.next_url == f"{feed}?p=6" and status.pages == 5


def test_modified_compared_as_big_integers_and_strings(store: Store) -> None:
    feed = "http://127.0.0.1:9/feed"
    register_feed(store, feed)
    big = 2**70

    def apply(item: dict[str, Any]) -> Any:
        return apply_page(
            store, feed, Page(url=feed, next=feed + "?n", items=[item], is_last=False)
        )

    apply(club(1, "9"))
    assert apply(club(1, "10", version=2)).applied == 1  # as text "10" < "9"; as integers newer
    assert apply(club(1, big, version=3)).applied == 1
    assert apply(club(1, str(big - 1), version=4)).skipped == 1
    apply(club(2, "2020-01-02T00:00:00Z"))
    assert apply(club(2, "2020-01-01T23:00:00Z", version=2)).skipped == 1
    names = {k.rsplit("/", 1)[1]: v["name"] for k, v in current(store).items()}
    assert names == {"club-00001": "Leeds Cricket Club (v3)", "club-00002": "Bangor Judo Club"}


def test_ids_that_need_url_encoding(store: Store, local_site: LocalSite) -> None:
    awkward = ["a&b=3", "with space", "plus+sign", "slash/and?q", "per%cent"]
    items = [club(n, 100 + n, item_id=f"{awkward[n % 5]}-{n}") for n in range(40)]
    url = serve(local_site, "/rpde", items, per_page=3)  # every kind of id ends a page

    result = harvest_feed(store, url, FAST)

    assert result.status == "caught-up" and result.counts.applied == 40
    assert len(current(store)) == 40
    assert any("afterId=a%26b%3D3-" in r for r in local_site.requests)
    assert any("afterId=with%20space-" in r for r in local_site.requests)


def test_feed_changing_while_walked(store: Store) -> None:
    """Items updated during the walk move to the end of the feed (RPDE): the harvester sees
    them twice and keeps the newer; one deleted meanwhile is gone; nothing is doubled."""
    with LiveFeed([club(n, 100 + n) for n in range(20)], per_page=5) as feed:
        changes = iter(
            [
                lambda: feed.put(club(2, 200, version=2)),  # already read: moves to the end
                lambda: feed.put(deleted("club-00012", 201)),  # not yet read: deleted first
                lambda: feed.put(club(17, 202, version=2)),
            ]
        )
        feed.on_request = lambda: next(changes, lambda: None)()

        result = harvest_feed(store, feed.url, FAST)

    assert result.status == "caught-up"
    clubs = current(store)
    assert len(clubs) == 19
    assert clubs["https://clubs.example.org/clubs/club-00002"]["name"].endswith("(v2)")
    assert clubs["https://clubs.example.org/clubs/club-00017"]["name"].endswith("(v2)")
    assert "https://clubs.example.org/clubs/club-00012" not in clubs
    assert result.counts.deletes == 1


# -- organisers from the real session feeds ----------------------------------------------------


def test_organiser_from_the_real_active_newham_page(store: Store, local_site: LocalSite) -> None:
    url = serve_real(local_site, "/sessions", NEWHAM)

    result = harvest_feed(store, url, FAST)

    assert result.status == "caught-up"
    assert result.counts.items == 269 and result.counts.deletes == 71
    clubs = current(store)
    assert list(clubs) == ["http://www.activenewham.org.uk"]
    organiser = clubs["http://www.activenewham.org.uk"]
    assert organiser["@type"] == "Organization" and organiser["name"] == "Active Newham"
    assert organiser["email"] == "info@activenewham.org.uk"
    labels = {a["prefLabel"] for a in organiser["activity"]}
    assert len(labels) == 23 and {"Group Cycling", "Gym", "Yoga", "Crossfit", "Aquafit"} <= labels
    places = {p["name"]: p for p in organiser["location"]}
    assert sorted(places) == [
        "Atherton Leisure Centre",
        "East Ham Leisure Centre",
        "Manor Park Fitness Centre",
        "Newham Leisure Centre",
        "Tony Carr ( M.B.E.) Gym",
    ]
    assert places["Newham Leisure Centre"]["geo"] == {
        "@type": "GeoCoordinates",
        "latitude": 51.51872,
        "longitude": 0.036202,
    }
    stored = store.get("http://www.activenewham.org.uk")
    assert stored is not None and stored.provenance is not None
    prov = stored.provenance["harvest"]
    assert prov["items"] == 198 and prov["facets"]["activity label:group cycling"] == 52
    assert prov["examples"][0]["feed"] == url and stored.issues  # validated (address as text)


def test_organiser_withdrawn_when_its_last_item_goes(store: Store) -> None:
    feed = "http://127.0.0.1:9/sessions"
    register_feed(store, feed)
    original = json.loads(NEWHAM.read_text(encoding="utf-8"))
    updated = [i for i in original["items"] if i["state"] == "updated"]
    apply_page(store, feed, Page(url=feed, next=feed + "?1", items=updated, is_last=False))

    def delete(items: list[dict[str, Any]], n: int) -> None:
        """Page n (after the first) deletes `items`."""
        gone = [deleted(i["id"], (n + 1) * 10**12, "session") for i in items]
        apply_page(
            store, feed, Page(url=f"{feed}?{n}", next=f"{feed}?{n + 1}", items=gone, is_last=False)
        )

    yoga = [i for i in updated if i["data"]["activity"] == ["Yoga"]]
    # every Yoga session is deleted: Yoga goes from the organiser, the rest stays
    delete(yoga, 1)
    organiser = current(store)["http://www.activenewham.org.uk"]
    labels = {a["prefLabel"] for a in organiser["activity"]}
    assert "Yoga" not in labels and len(labels) == 22
    delete([i for i in updated if i not in yoga], 2)
    assert current(store) == {}
    gone = store.get("http://www.activenewham.org.uk")
    assert gone is not None and gone.state == "deleted"


def test_everyone_active_names_no_organiser_unless_the_dataset_does(
    store: Store, local_site: LocalSite
) -> None:
    url = serve_real(local_site, "/ea", EVERYONE_ACTIVE)
    result = harvest_feed(store, url, FAST)
    assert result.counts.ignored == 250 and result.counts.deletes == 250
    assert current(store) == {}

    # found through a dataset site, the dataset's publisher is the organiser
    url2 = serve_real(local_site, "/ea2", EVERYONE_ACTIVE)
    publisher = {
        "@type": "Organization",
        "name": "Everyone Active",
        "url": "https://www.everyoneactive.com/",
    }
    register_feed(store, url2, dataset=local_site.url("/"), publisher=publisher)
    harvest_feed(store, url2, FAST)
    organiser = current(store)["https://www.everyoneactive.com/"]
    assert organiser["name"] == "Everyone Active"
    assert len(organiser["location"]) == 67
    names = {p["name"] for p in organiser["location"]}
    assert "Plymouth Life Centre - Swim" in names
    ids = {a.get("@id") for a in organiser["activity"]}
    assert all(i is None or i.startswith("https://openactive.io/activity-list#") for i in ids)
    assert len(organiser["activity"]) == 31  # 24 Activity List concepts, 7 labels only
    assert sorted(a["prefLabel"] for a in organiser["activity"] if "@id" not in a) == [
        "Bowls",
        "Fitness Appointments",
        "G P Referral Sessions",
        "Group Exercise 16+ Yrs",
        "Gym Active 11-15 Yrs",
        "Soft Play",
        "Toning Tables",
    ]


# -- broken feeds: each ends in a clear error for that feed only -------------------------------


def test_broken_feeds_fail_alone(store: Store, local_site: LocalSite, tmp_path: Path) -> None:
    good = serve(local_site, "/good", [club(n, 10 + n) for n in range(12)], per_page=5)
    html = local_site.add("/html", "<!doctype html><p>Maintenance</p>", content_type="text/html")
    bad_json = local_site.add("/badjson", '{"next": "x", "items": [')
    local_site.add("/back", page([club(1, 5), club(2, 6)], local_site.url("/back?after=6")))
    local_site.add("/back?after=6", page([club(3, 4)], local_site.url("/back?after=4")))
    back = local_site.url("/back")
    errors = local_site.add("/errors", "oops", status=500, content_type="text/plain")
    local_site.add("/gone", page([club(70, 1)], local_site.url("/gone?2")))
    local_site.add("/gone?2", "gone", status=404, content_type="text/plain")
    gone = local_site.url("/gone")
    # string-encoded integers: not allowed by RPDE, but read as the integers they are
    strings = serve(local_site, "/strings", [club(80, "9"), club(81, "10"), club(82, "11")])
    urls = [good, html, bad_json, back, errors, gone, strings]
    if isinstance(store, type(open_store(str(tmp_path / "x.db")))):
        opener = lambda: open_store(store.path)  # type: ignore[attr-defined]  # noqa: E731
    else:
        opener = lambda: open_store(store.dsn)  # type: ignore[attr-defined]  # noqa: E731

    results = {r.url: r for r in harvest_feeds(opener, urls, FAST)}

    assert results[good].status == "caught-up" and results[good].counts.applied == 12
    assert results[html].status == "error" and "HTML page" in (results[html].error or "")
    assert results[bad_json].status == "error" and "not JSON" in (results[bad_json].error or "")
    assert results[back].status == "error" and "goes backwards" in (results[back].error or "")
    assert results[back].counts.applied == 2  # the page before the bad one was kept
    assert "HTTP 500" in (results[errors].error or "")
    assert results[gone].status == "gone" and results[gone].counts.applied == 1
    assert results[strings].status == "caught-up" and results[strings].counts.applied == 3
    statuses = {s.url: s for s in feed_statuses(store)}
    assert statuses[gone].status == "gone" and statuses[gone].current == 0
    assert statuses[html].last_error is not None and statuses[html].last_error.startswith(html)
    assert statuses[good].last_error is None
    ids = set(current(store))
    assert "https://clubs.example.org/clubs/club-00070" not in ids  # purged with its feed
    assert "https://clubs.example.org/clubs/club-00001" in ids  # from the good and back feeds


def test_503_retry_after_then_success_and_404_later_purges(
    store: Store, local_site: LocalSite
) -> None:
    url = serve(local_site, "/f", [club(n, n + 1) for n in range(6)], per_page=3)
    second = local_site.requests  # noqa: F841
    page2 = "/f?afterTimestamp=3&afterId=club-00002"
    good_page2 = local_site.routes[page2]
    local_site.add(
        page2, "busy", status=503, content_type="text/plain", headers={"Retry-After": "0"}
    )
    seen = {"n": 0}
    handler = local_site.server.RequestHandlerClass
    original_get = handler.do_GET  # type: ignore[attr-defined]

    def do_get(self: Any) -> None:
        if self.path == page2:
            seen["n"] += 1
            if seen["n"] == 2:
                local_site.routes[page2] = good_page2
        original_get(self)

    handler.do_GET = do_get  # type: ignore[attr-defined]
    try:
        result = harvest_feed(store, url, FAST)
    finally:
        handler.do_GET = original_get  # type: ignore[attr-defined]
    assert result.status == "caught-up" and len(current(store)) == 6 and seen["n"] == 2

    # later the feed is removed: 404 on its position → every record from it is purged
    local_site.routes.clear()
    result = harvest_feed(store, url, FAST)
    assert result.status == "gone" and current(store) == {}
    status = status_of(store, url)
    assert status.status == "gone" and "HTTP 404" in (status.last_error or "")
    assert status.next_url == url  # if it comes back, it is harvested from the start


def test_site_page_clubs_on_both_backends(store: Store, local_site: LocalSite) -> None:
    from openclubs.harvest.site import harvest_sites

    record = club(4, 1)["data"] | {"@id": "https://truro-rowing.example/"}
    wrapped = {"@context": "https://openactive.io/", "@type": "Organizer", "organizer": [record]}
    body = f'<html><head><script type="application/ld+json">{json.dumps(wrapped)}</script>'
    url = local_site.add("/club", body + "</head></html>", content_type="text/html")

    outcome = harvest_sites(store, [url])

    assert outcome.pages == 1 and outcome.clubs == 1 and outcome.problems == []
    assert list(current(store)) == ["https://truro-rowing.example/"]
    stored = store.get("https://truro-rowing.example/")
    assert stored is not None and stored.provenance == {
        "harvest": {"page": url, "block": 1, "path": "$.organizer[0]"}
    }
    local_site.add("/club", "<html><p>Gone fishing</p></html>", content_type="text/html")
    outcome = harvest_sites(store, [url])
    assert outcome.withdrawn == 1 and current(store) == {}


def test_stop_after_a_page_then_resume(store: Store) -> None:
    with LiveFeed([club(n, 10 + n) for n in range(60)], per_page=5) as feed:
        stop = threading.Event()

        def progress(_: str, pages: int, items: int) -> None:
            if pages == 3:
                stop.set()

        first = harvest_feed(store, feed.url, FAST, stop=stop, progress=progress)

        assert first.status == "stopped" and first.pages == 3 and len(current(store)) == 15
        assert status_of(store, feed.url).next_url.endswith("afterTimestamp=24&afterId=club-00014")
        rest = harvest_feed(store, feed.url, FAST)
    assert rest.status == "caught-up" and rest.counts.items == 45 and rest.counts.skipped == 0
    assert len(current(store)) == 60


def test_organizer_wrapper_item_gives_each_club(store: Store) -> None:
    """Modelling 2.1's `Organizer` wrapper: each organisation inside is a club; an update
    withdraws those it no longer has; deleting the item withdraws the rest."""
    feed = "http://127.0.0.1:9/organizers"
    register_feed(store, feed)
    first, second = club(1, 1)["data"], club(2, 1)["data"]

    def wrapper(modified: int, organizers: list[dict[str, Any]]) -> dict[str, Any]:
        data = {"@context": "https://openactive.io/", "@type": "Organizer", "organizer": organizers}
        return {
            "state": "updated",
            "kind": "Organizer",
            "id": "ngb",
            "modified": modified,
            "data": data,
        }

    apply_page(
        store,
        feed,
        Page(url=feed, next=feed + "?1", items=[wrapper(5, [first, second])], is_last=False),
    )
    assert sorted(current(store)) == [first["@id"], second["@id"]]

    moved = first | {"@id": "https://clubs.example.org/clubs/leeds-cricket"}
    apply_page(
        store,
        feed,
        Page(url=feed + "?1", next=feed + "?2", items=[wrapper(6, [moved])], is_last=False),
    )
    assert list(current(store)) == [moved["@id"]]

    gone = [deleted("ngb", 7, "Organizer")]
    apply_page(store, feed, Page(url=feed + "?2", next=feed + "?3", items=gone, is_last=False))
    assert current(store) == {}
