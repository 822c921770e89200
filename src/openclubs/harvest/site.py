"""Club web pages (`openclubs harvest --site URL [--crawl]`): every JSON-LD block of a page,
club records kept, re-checked on the next run with a conditional request.

- robots.txt is honoured for our User-Agent (a page it disallows is not fetched);
- `--crawl` also reads the pages the site's sitemap lists (the robots.txt `Sitemap:` lines,
  else /sitemap.xml), on the same host;
- the page's ETag and Last-Modified are kept and sent back (If-None-Match,
  If-Modified-Since): a 304 leaves its clubs as they are;
- a club the page no longer has is withdrawn; a page that answers 404/410 withdraws its clubs.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
import orjson

from openclubs.harvest.apply import Triple, now_text
from openclubs.ingest.fetch import USER_AGENT
from openclubs.ingest.html import json_ld_blocks
from openclubs.store.base import HarvestTx, Store
from openclubs.validate.engine import check_record
from openclubs.validate.records import find_records, is_opportunity, is_other_thing

log = logging.getLogger(__name__)
_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.I)
MAX_CRAWL = 500


@dataclass(slots=True)
class SiteOutcome:
    pages: int = 0
    unchanged: int = 0
    clubs: int = 0
    withdrawn: int = 0
    refused: int = 0
    disallowed: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.pages} read, {self.unchanged} unchanged (304), {self.clubs} clubs, "
            f"{self.withdrawn} withdrawn, {self.refused} refused, {self.disallowed} disallowed "
            "by robots.txt"
        )


def harvest_sites(
    store: Store,
    urls: list[str],
    *,
    crawl: bool = False,
    strict: bool = False,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 20.0,
) -> SiteOutcome:
    outcome = SiteOutcome()
    robots: dict[str, RobotFileParser] = {}
    with httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": USER_AGENT},
    ) as client:
        queue = list(dict.fromkeys(urls))
        if crawl:
            for url in list(queue):
                queue.extend(_sitemap(client, url, robots))
        for url in list(dict.fromkeys(queue))[:MAX_CRAWL]:
            if not _allowed(client, url, robots):
                outcome.disallowed += 1
                log.info("robots.txt disallows %s", url)
                continue
            _page(client, store, url, outcome, strict)
    return outcome


def _robots(client: httpx.Client, url: str, cache: dict[str, RobotFileParser]) -> RobotFileParser:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin not in cache:
        parser = RobotFileParser()
        try:
            response = client.get(origin + "/robots.txt")
            if response.status_code in (401, 403):
                parser.parse(["User-agent: *", "Disallow: /"])
            elif response.status_code < 400:
                parser.parse(response.text.splitlines())
            else:
                parser.parse([])
        except httpx.HTTPError:
            parser.parse([])  # no robots.txt to be had: nothing is disallowed
        cache[origin] = parser
    return cache[origin]


def _allowed(client: httpx.Client, url: str, cache: dict[str, RobotFileParser]) -> bool:
    return _robots(client, url, cache).can_fetch(USER_AGENT, url)


def _sitemap(client: httpx.Client, url: str, cache: dict[str, RobotFileParser]) -> list[str]:
    parser = _robots(client, url, cache)
    parts = urlsplit(url)
    maps = parser.site_maps() or [f"{parts.scheme}://{parts.netloc}/sitemap.xml"]
    pages: list[str] = []
    for sitemap in maps:
        try:
            response = client.get(sitemap)
        except httpx.HTTPError:
            continue
        if response.status_code >= 400:
            continue
        for loc in _LOC.findall(response.text):
            target = urljoin(sitemap, loc)
            if urlsplit(target).netloc == parts.netloc:
                pages.append(target)
    return pages


def _page(client: httpx.Client, store: Store, url: str, outcome: SiteOutcome, strict: bool) -> None:
    rows = store.harvest_query(
        "SELECT etag, last_modified, clubs FROM harvest_pages WHERE url = ?", (url,)
    )
    etag, last_modified, before = rows[0] if rows else (None, None, "[]")
    headers = {"Accept": "text/html, application/ld+json;q=0.9"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        response = client.get(url, headers=headers)
    except httpx.HTTPError as err:
        outcome.problems.append(f"{url}: could not be fetched ({type(err).__name__}: {err})")
        return
    previous: list[str] = orjson.loads(before)
    if response.status_code == 304:
        outcome.unchanged += 1
        with store.harvest_transaction() as tx:
            _save(tx, url, etag, last_modified, previous, "unchanged")
        return
    if response.status_code in (404, 410):
        with store.harvest_transaction() as tx:
            outcome.withdrawn += tx.remove_clubs(previous)
            _save(tx, url, None, None, [], f"gone (HTTP {response.status_code})")
        outcome.problems.append(f"{url}: gone (HTTP {response.status_code}); its clubs withdrawn")
        return
    if response.status_code >= 400:
        outcome.problems.append(f"{url}: the server answered HTTP {response.status_code}")
        return
    outcome.pages += 1
    records: list[Triple] = []
    for block in json_ld_blocks(response.text):
        try:
            value = orjson.loads(block.text)
        except orjson.JSONDecodeError as err:
            outcome.problems.append(f"{url}: JSON-LD block {block.index} is not JSON ({err})")
            continue
        for found in find_records(value):
            record = found.record
            if not isinstance(record, dict) or is_opportunity(record) or is_other_thing(record):
                continue
            record = dict(record)
            record.setdefault("@context", found.context or "https://openactive.io/")
            if not str(record.get("@id", "")).startswith(("http://", "https://")):
                record["@id"] = f"{url.split('#', 1)[0]}#club-{len(records) + 1}"
            issues = [i.to_dict() for i in check_record(record)]
            if strict and any(i["severity"] == "failure" for i in issues):
                outcome.refused += 1
                continue
            provenance = {"harvest": {"page": url, "block": block.index, "path": found.path}}
            records.append((record, provenance, issues))
    ids = [r[0]["@id"] for r in records]
    with store.harvest_transaction() as tx:
        outcome.withdrawn += tx.remove_clubs([i for i in previous if i not in ids])
        tx.put_clubs(records, url)
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        _save(tx, url, etag, modified, ids, "read")
    outcome.clubs += len(records)


def _save(
    tx: HarvestTx, url: str, etag: str | None, modified: str | None, clubs: list[str], status: str
) -> None:
    """The page's validators and clubs, in the transaction that wrote its clubs."""
    tx.execute(
        "INSERT INTO harvest_pages (url, etag, last_modified, clubs, status, checked_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, "
        "last_modified = excluded.last_modified, clubs = excluded.clubs, "
        "status = excluded.status, checked_at = excluded.checked_at",
        (url, etag, modified, orjson.dumps(clubs).decode(), status, now_text()),
    )
