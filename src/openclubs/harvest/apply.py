"""Applying one harvested RPDE page to the store, atomically.

Everything a page changes is written in ONE store write transaction
(`Store.harvest_transaction`): the clubs it creates, updates or withdraws, the per-item source
`modified` and tombstones, the organisers' gathered activities and places, and the feed's
checkpoint (the page's `next`). A harvester killed at any moment therefore resumes from the
last committed page with nothing lost or applied twice.

Rules (RPDE 1.0 §"Expected consumer behaviour", docs/rpde-and-harvesting.md §3.1):
- an item is applied only if its `modified` is newer than the one stored for that item id in
  that feed (big integers and strings compared with `modified_key`); an equal or older one is
  counted as skipped;
- a deleted item withdraws what the item gave (its club, or its part of an organiser) and
  stays as a tombstone (state and `modified`), so an older update cannot bring it back;
- an organiser is withdrawn when its last item goes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from openclubs.harvest.checking import Checked
from openclubs.harvest.records import (
    Facet,
    classify,
    club_records,
    contribution,
    organiser_record,
)
from openclubs.harvest.rpde_client import ModifiedKey, Page, modified_key
from openclubs.store.base import HarvestTx, Store
from openclubs.store.sqlite import _hash as content_hash
from openclubs.validate.engine import check_record

log = logging.getLogger(__name__)
_CHUNK = 1000  # ids per IN (...) look-up: one query for a page of the usual sizes
_EXAMPLES = 5

Triple = tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]


@dataclass(slots=True)
class PageCounts:
    """What applying pages did (added up over a harvest)."""

    items: int = 0
    applied: int = 0  # newer items applied (updates and deletes)
    skipped: int = 0  # not newer than what is stored (duplicates, replays)
    deletes: int = 0
    invalid: int = 0  # records stored with failures (or items without usable data)
    refused: int = 0  # --strict: invalid records not stored
    ignored: int = 0  # items of kinds that give no club (Place, ...) or without an organiser

    def add(self, other: PageCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def register_feed(
    store: Store,
    url: str,
    *,
    dataset: str | None = None,
    publisher: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """Make sure the feed has a row; returns (its checkpoint, its status). A feed that was gone
    starts again from its first page."""
    with store.harvest_transaction() as tx:
        rows = tx.query("SELECT next_url, status FROM harvest_feeds WHERE url = ?", (url,))
        publisher_text = None if publisher is None else orjson.dumps(publisher).decode()
        if not rows:
            tx.execute(
                "INSERT INTO harvest_feeds (url, next_url, dataset, publisher, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (url, url, dataset, publisher_text, now_text()),
            )
            return url, "new"
        next_url, status = str(rows[0][0]), str(rows[0][1])
        if dataset is not None or publisher is not None:
            tx.execute(
                "UPDATE harvest_feeds SET dataset = coalesce(?, dataset), "
                "publisher = coalesce(?, publisher) WHERE url = ?",
                (dataset, publisher_text, url),
            )
        if status == "gone":
            tx.execute("UPDATE harvest_feeds SET next_url = url WHERE url = ?", (url,))
            return url, status
        return next_url, status


def feed_publisher(store: Store, url: str) -> dict[str, Any] | None:
    rows = store.harvest_query("SELECT publisher FROM harvest_feeds WHERE url = ?", (url,))
    if not rows or rows[0][0] is None:
        return None
    value = orjson.loads(rows[0][0])
    return value if isinstance(value, dict) else None


def apply_page(
    store: Store,
    feed: str,
    page: Page,
    *,
    strict: bool = False,
    publisher: dict[str, Any] | None = None,
    checked: Checked | None = None,
) -> PageCounts:
    """Apply `page` of `feed` (its first-page URL) and move the feed's checkpoint to
    `page.next`, in one transaction. `checked`: the issues of the page's club records, already
    found by a worker (`openclubs.harvest.checking`); records without them are checked here."""
    with store.harvest_transaction() as tx:
        writer = _Writer(tx, feed, strict=strict, publisher=publisher, checked=checked)
        writer.apply(page.items, page.url)
        writer.finish()
        counts = writer.counts
        tx.execute(
            "UPDATE harvest_feeds SET next_url = ?, status = ?, pages = pages + 1, "
            "items = items + ?, applied = applied + ?, skipped = skipped + ?, "
            "deletes = deletes + ?, invalid = invalid + ?, refused = refused + ?, "
            "ignored = ignored + ?, last_success = ?, updated_at = ? WHERE url = ?",
            (
                page.next,
                "caught-up" if page.is_last else "harvesting",
                counts.items,
                counts.applied,
                counts.skipped,
                counts.deletes,
                counts.invalid,
                counts.refused,
                counts.ignored,
                now_text(),
                now_text(),
                feed,
            ),
        )
    return counts


def purge_feed(store: Store, feed: str, reason: str) -> int:
    """The feed is gone (404/410): withdraw every record it gave and forget its items (Dataset
    API Discovery 0.3 §"Removing data feeds": consumers MUST purge). Returns the number of items
    that were current."""
    with store.harvest_transaction() as tx:
        writer = _Writer(tx, feed, strict=False, publisher=None)
        rows = tx.query(
            "SELECT item_id, state, modified, club_id, organiser_id, facets FROM harvest_items "
            "WHERE feed = ? AND state = 'updated'",
            (feed,),
        )
        for row in rows:
            writer.undo(_Prior.of(row))
        writer.finish()
        tx.execute("DELETE FROM harvest_items WHERE feed = ?", (feed,))
        tx.execute(
            "UPDATE harvest_feeds SET status = 'gone', next_url = url, last_error = ?, "
            "last_error_at = ?, updated_at = ? WHERE url = ?",
            (reason, now_text(), now_text(), feed),
        )
    return len(rows)


def record_error(store: Store, feed: str, message: str, *, status: str = "error") -> None:
    with store.harvest_transaction() as tx:
        tx.execute(
            "UPDATE harvest_feeds SET status = ?, last_error = ?, last_error_at = ?, "
            "updated_at = ? WHERE url = ?",
            (status, message, now_text(), now_text(), feed),
        )


def _in_chunks(ids: list[str]) -> Iterator[tuple[list[str], str]]:
    """The distinct `ids` in chunks of `_CHUNK`, each with its `?,?,...` for `IN (...)`."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        yield chunk, ",".join("?" * len(chunk))


class _Prior(NamedTuple):
    """What an item gave before (a row of harvest_items), or what it gives once applied in
    this page (a tuple: one is made for every applied item, in case its id comes again)."""

    state: str
    modified: str
    club_ids: list[str]
    organiser_id: str | None
    facets: list[Facet]
    key: ModifiedKey  # `modified_key(modified)`, computed once

    @staticmethod
    def of(row: Sequence[Any]) -> _Prior:
        _, state, modified, clubs, organiser_id, facets = row[:6]
        return _Prior(
            state=str(state),
            modified=str(modified),
            club_ids=orjson.loads(clubs) if clubs else [],
            organiser_id=organiser_id,
            facets=[(f[0], f[1], f[2]) for f in orjson.loads(facets)] if facets else [],
            key=modified_key(str(modified)),
        )


@dataclass(slots=True)
class _Made:
    """What one applied item becomes: its harvest_items row (without the feed), the club
    records it gives, and (for an opportunity) the facets it gives its organiser."""

    row: tuple[Any, ...]
    triples: list[Triple]
    club_ids: list[str]
    facets: list[Facet]


class _Writer:
    """The changes of one page (or purge), gathered in order and written by `finish`."""

    def __init__(
        self,
        tx: HarvestTx,
        feed: str,
        *,
        strict: bool,
        publisher: dict[str, Any] | None,
        checked: Checked | None = None,
    ) -> None:
        self.tx = tx
        self.checked = checked or {}
        self.feed = feed
        self.strict = strict
        self.publisher = publisher
        self.counts = PageCounts()
        self.clubs: dict[str, Triple | None] = {}  # @id -> record to put, or None: withdraw
        self.org_items: dict[str, int] = {}
        self.org_base: dict[str, dict[str, Any]] = {}
        # (organiser, facet, key) -> [latest value given in this page or None, delta]
        self.facets: dict[tuple[str, str, str], list[Any]] = {}
        self.rows: dict[str, tuple[Any, ...]] = {}
        # club @id -> (content hash, issues) of the current clubs this page's records may replace
        self.known: dict[str, tuple[str, Any]] = {}

    def apply(self, items: list[dict[str, Any]], page_url: str) -> None:
        """Apply the page's items in order. Two passes, so that the store is asked once per
        page (not once per item): the first finds the items newer than what was stored before
        the page and the club records they give; the second applies them in order (an item id
        given twice in a page is compared with its earlier copy)."""
        stored = self._stored([str(item["id"]) for item in items])
        todo: list[tuple[int, dict[str, Any], str, ModifiedKey, str, list[dict[str, Any]]]] = []
        for index, item in enumerate(items):
            item_id = str(item["id"])
            key = modified_key(item["modified"])
            prior = stored.get(item_id)
            if prior is not None and key <= prior.key:
                todo.append((index, item, item_id, key, "", []))  # skipped below
                continue
            what, records = "", []
            data = item.get("data")
            if item["state"] != "deleted" and isinstance(data, dict):
                what = classify(item)
                if what == "club":
                    records = club_records(self.feed, item_id, data)
            todo.append((index, item, item_id, key, what, records))
        # records of items seen before may be unchanged (a first harvest asks nothing more)
        self._known([r["@id"] for _, _, i, _, _, rs in todo if i in stored for r in rs])
        counts, clubs = self.counts, self.clubs
        counts.items += len(todo)
        for index, item, item_id, key, what, records in todo:
            prior = stored.get(item_id)
            if prior is not None and key <= prior.key:
                counts.skipped += 1
                continue
            made = self._item(index, item, item_id, page_url, what, records)
            if made is None:  # refused (--strict): what was stored stays
                continue
            if prior is not None:
                self.undo(prior)
            for triple in made.triples:
                clubs[triple[0]["@id"]] = triple
            self._do(made)
            row = made.row
            stored[item_id] = _Prior(row[1], row[2], made.club_ids, row[4], made.facets, key)
            counts.applied += 1

    def _stored(self, ids: list[str]) -> dict[str, _Prior]:
        found: dict[str, _Prior] = {}
        for chunk, marks in _in_chunks(ids):
            for row in self.tx.query(
                "SELECT item_id, state, modified, club_id, organiser_id, facets "
                f"FROM harvest_items WHERE feed = ? AND item_id IN ({marks})",
                (self.feed, *chunk),
            ):
                found[str(row[0])] = _Prior.of(row)
        return found

    def _known(self, club_ids: list[str]) -> None:
        """The content hash and issues of the current clubs with these @ids, in one query: a
        record whose content is what is stored (a feed replayed, or an item re-published
        unchanged) keeps its stored issues instead of being checked again (its issues depend
        on its content only)."""
        for chunk, marks in _in_chunks(club_ids):
            for club_id, digest, issues in self.tx.query(
                "SELECT id, content_hash, issues FROM clubs "
                f"WHERE state = 'updated' AND id IN ({marks})",
                chunk,
            ):
                if digest is not None and issues is not None:
                    self.known[str(club_id)] = (str(digest), issues)

    def _issues(self, record: dict[str, Any], index: int, position: int) -> list[dict[str, Any]]:
        """The record's issues (`index`: its item's position in the page, `position`: its
        position in the item): a worker's answer, else those stored when its content is
        unchanged, else checked here."""
        if self.checked:
            answer = self.checked.get((index, position))
            if answer is not None and answer[0] == record["@id"]:
                return answer[1]
        known = self.known.get(record["@id"]) if self.known else None
        if known is not None and known[0] == content_hash(record):
            stored = known[1]
            value = orjson.loads(stored) if isinstance(stored, str | bytes) else stored
            if isinstance(value, list):
                return value
        return [i.to_dict() for i in check_record(record)]

    def _item(
        self,
        index: int,
        item: dict[str, Any],
        item_id: str,
        page_url: str,
        what: str,
        records: list[dict[str, Any]],
    ) -> _Made | None:
        """What this item becomes (None: refused)."""
        modified = str(item["modified"])
        kind = str(item.get("kind", ""))
        if item["state"] == "deleted":
            self.counts.deletes += 1
            return _Made((item_id, "deleted", modified, None, None, None, kind), [], [], [])
        data = item.get("data")
        if not isinstance(data, dict):
            self.counts.invalid += 1
            log.warning("%s: item %s is updated but has no `data` object", page_url, item_id)
            return _Made((item_id, "updated", modified, None, None, None, kind), [], [], [])
        if what == "club":
            provenance = {
                "harvest": {"feed": self.feed, "page": page_url, "item": item_id, "kind": kind}
            }
            triples: list[Triple] = []
            for position, record in enumerate(records):
                issues = self._issues(record, index, position)
                if any(i["severity"] == "failure" for i in issues):
                    if self.strict:
                        self.counts.refused += 1
                        log.warning(
                            "%s: item %s refused (--strict): %s",
                            page_url,
                            item_id,
                            next(i["message"] for i in issues if i["severity"] == "failure"),
                        )
                        return None
                    self.counts.invalid += 1
                triples.append((record, provenance, issues))
            club_ids = [t[0]["@id"] for t in triples]
            ids = orjson.dumps(club_ids).decode()
            return _Made(
                (item_id, "updated", modified, ids, None, None, kind), triples, club_ids, []
            )
        if what == "opportunity":
            given = contribution(self.feed, data, self.publisher)
            if given is None:
                self.counts.ignored += 1
                return _Made((item_id, "updated", modified, None, None, None, kind), [], [], [])
            self.org_base[given.organiser_id] = given.organiser
            facets = orjson.dumps([list(f) for f in given.facets]).decode()
            row = (item_id, "updated", modified, None, given.organiser_id, facets, kind)
            return _Made(row, [], [], given.facets)
        self.counts.ignored += 1
        return _Made((item_id, "updated", modified, None, None, None, kind), [], [], [])

    def _do(self, made: _Made) -> None:
        row = made.row
        item_id, organiser_id = row[0], row[4]
        self.rows[item_id] = row
        if organiser_id is not None:
            self.org_items[organiser_id] = self.org_items.get(organiser_id, 0) + 1
            for facet, key, value in made.facets:
                entry = self.facets.setdefault((organiser_id, facet, key), [None, 0])
                entry[0] = value
                entry[1] += 1

    def undo(self, prior: _Prior) -> None:
        """Take back what an item gave (before its update, delete or purge)."""
        if prior.state != "updated":
            return
        for club_id in prior.club_ids:
            self.clubs[club_id] = None
        if prior.organiser_id is not None:
            organiser = prior.organiser_id
            self.org_items[organiser] = self.org_items.get(organiser, 0) - 1
            for facet, key, _ in prior.facets:
                entry = self.facets.setdefault((organiser, facet, key), [None, 0])
                entry[1] -= 1

    def finish(self) -> None:
        tx = self.tx
        if self.rows:
            tx.executemany(
                "INSERT INTO harvest_items (feed, item_id, state, modified, club_id, "
                "organiser_id, facets, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (feed, item_id) DO UPDATE SET state = excluded.state, "
                "modified = excluded.modified, club_id = excluded.club_id, "
                "organiser_id = excluded.organiser_id, facets = excluded.facets, "
                "kind = excluded.kind",
                [(self.feed, *row) for row in self.rows.values()],
            )
        self._organisers()
        puts = [triple for triple in self.clubs.values() if triple is not None]
        gone = [club_id for club_id, triple in self.clubs.items() if triple is None]
        if gone:
            tx.remove_clubs(gone)
        if puts:
            tx.put_clubs(puts, self.feed)

    def _organisers(self) -> None:
        tx = self.tx
        touched = set(self.org_items) | {org for org, _, _ in self.facets}
        given = sorted((k, v) for k, v in self.facets.items() if v[0] is not None)
        taken = sorted((k, v[1]) for k, v in self.facets.items() if v[0] is None and v[1])
        if given:  # a value given by an item of this page is the latest: it replaces the old
            tx.executemany(
                "INSERT INTO harvest_facets (organiser_id, facet, key, value, items) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (organiser_id, facet, key) DO UPDATE SET "
                "items = harvest_facets.items + excluded.items, value = excluded.value",
                [
                    (o, f, k, orjson.dumps(value).decode(), delta)
                    for (o, f, k), (value, delta) in given
                ],
            )
        if taken:  # only taken back: the count changes, the value stays
            tx.executemany(
                "UPDATE harvest_facets SET items = items + ? "
                "WHERE organiser_id = ? AND facet = ? AND key = ?",
                [(delta, o, f, k) for (o, f, k), delta in taken],
            )
        for organiser in sorted(touched):
            rows = tx.query("SELECT data, items FROM harvest_organisers WHERE id = ?", (organiser,))
            items = (int(rows[0][1]) if rows else 0) + self.org_items.get(organiser, 0)
            base = self.org_base.get(organiser)
            if base is None:
                base = orjson.loads(rows[0][0]) if rows else {}
            if items <= 0:
                tx.execute("DELETE FROM harvest_organisers WHERE id = ?", (organiser,))
                tx.execute("DELETE FROM harvest_facets WHERE organiser_id = ?", (organiser,))
                self.clubs[organiser] = None
                continue
            tx.execute(
                "INSERT INTO harvest_organisers (id, data, items) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET data = excluded.data, items = excluded.items",
                (organiser, orjson.dumps(base).decode(), items),
            )
            tx.execute(
                "DELETE FROM harvest_facets WHERE organiser_id = ? AND items <= 0", (organiser,)
            )
            facet_rows = tx.query(
                "SELECT facet, key, value, items FROM harvest_facets WHERE organiser_id = ? "
                "ORDER BY facet, key",
                (organiser,),
            )
            facets = [(str(f), orjson.loads(v)) for f, _, v, _ in facet_rows]
            record = organiser_record(organiser, base, facets)
            examples = tx.query(
                "SELECT feed, item_id FROM harvest_items WHERE organiser_id = ? "
                "AND state = 'updated' ORDER BY feed, item_id LIMIT ?",
                (organiser, _EXAMPLES),
            )
            provenance = {
                "harvest": {
                    "derived": "organizer of opportunities",
                    "items": items,
                    "examples": [{"feed": f, "item": i} for f, i in examples],
                    "facets": {f"{f} {k}": int(n) for f, k, _, n in facet_rows},
                }
            }
            issues = [i.to_dict() for i in check_record(record)]
            if self.strict and any(i["severity"] == "failure" for i in issues):
                self.counts.refused += 1
                self.clubs[organiser] = None
                continue
            self.clubs[organiser] = (record, provenance, issues)
