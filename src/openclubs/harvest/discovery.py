"""From a URL to the RPDE feeds behind it (Dataset API Discovery 0.3; data-catalogs README
§"Processing guidance"): a data catalog (`hasPart` → catalogs, `dataset` → dataset sites,
nested to any depth, as the OpenActive catalog collection is), a dataset site (an HTML page
whose JSON-LD `Dataset` lists `distribution` → `DataDownload.contentUrl`), or a feed itself.

A catalog or site that cannot be read is reported and skipped; the others still count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from openclubs.harvest.records import listed
from openclubs.ingest.fetch import USER_AGENT
from openclubs.ingest.html import json_ld_blocks, looks_like_html

log = logging.getLogger(__name__)
MAX_DEPTH = 6


@dataclass(frozen=True, slots=True)
class FeedSpec:
    url: str
    dataset: str | None = None
    publisher: dict[str, Any] | None = None
    name: str | None = None


@dataclass(slots=True)
class Discovery:
    feeds: list[FeedSpec] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def discover(
    url: str,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 20.0,
) -> Discovery:
    """Every feed reachable from `url`, and a sentence for each source that failed."""
    found = Discovery()
    with httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=True,
        max_redirects=5,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/ld+json, application/json, text/html;q=0.9",
        },
    ) as client:
        _visit(client, url, found, set(), 0)
    unique: dict[str, FeedSpec] = {}
    for spec in found.feeds:
        unique.setdefault(spec.url, spec)
    found.feeds = list(unique.values())
    return found


def _visit(client: httpx.Client, url: str, found: Discovery, seen: set[str], depth: int) -> None:
    if url in seen:
        return
    seen.add(url)
    if depth > MAX_DEPTH:
        found.problems.append(f"{url}: catalogs nested too deep (over {MAX_DEPTH}); skipped")
        return
    try:
        response = client.get(url)
    except httpx.HTTPError as err:
        found.problems.append(f"{url}: could not be fetched ({type(err).__name__}: {err})")
        return
    if response.status_code >= 400:
        found.problems.append(f"{url}: the server answered HTTP {response.status_code}")
        return
    text = response.text
    if looks_like_html(text):
        _dataset_site(url, text, found)
        return
    try:
        value = orjson.loads(response.content)
    except orjson.JSONDecodeError as err:
        found.problems.append(f"{url}: neither JSON nor an HTML dataset site ({err})")
        return
    _json(client, url, value, found, seen, depth)


def _json(
    client: httpx.Client, url: str, value: Any, found: Discovery, seen: set[str], depth: int
) -> None:
    if not isinstance(value, dict):
        found.problems.append(f"{url}: JSON that is neither a feed nor a catalog")
        return
    if isinstance(value.get("items"), list) and "next" in value:
        found.feeds.append(FeedSpec(url))
        return
    kind = value.get("@type", value.get("type"))
    if kind == "Dataset":
        _dataset(url, value, found)
        return
    parts = listed(value.get("hasPart")) + listed(value.get("dataset"))
    if not parts:
        found.problems.append(
            f"{url}: not an RPDE feed, a data catalog (hasPart/dataset) or a dataset site"
        )
        return
    for part in parts:
        if isinstance(part, str):
            _visit(client, urljoin(url, part), found, seen, depth + 1)
        elif isinstance(part, dict):
            target = part.get("@id") or part.get("url")
            if part.get("@type") == "Dataset" and part.get("distribution"):
                _dataset(str(target or url), part, found)
            elif isinstance(part.get("hasPart") or part.get("dataset"), list):
                _json(client, url, part, found, seen, depth + 1)
            elif isinstance(target, str):
                _visit(client, urljoin(url, target), found, seen, depth + 1)


def _dataset_site(url: str, page: str, found: Discovery) -> None:
    for block in json_ld_blocks(page):
        try:
            value = orjson.loads(block.text)
        except orjson.JSONDecodeError:
            continue
        for node in listed(value) + listed(value.get("@graph") if isinstance(value, dict) else []):
            if isinstance(node, dict) and node.get("@type", node.get("type")) == "Dataset":
                _dataset(url, node, found)
                return
    found.problems.append(f"{url}: an HTML page without a JSON-LD Dataset (not a dataset site)")


def _dataset(url: str, dataset: dict[str, Any], found: Discovery) -> None:
    publisher = dataset.get("publisher")
    publisher = publisher if isinstance(publisher, dict) else None
    feeds = 0
    for entry in listed(dataset.get("distribution")):
        if not isinstance(entry, dict):
            continue
        content = entry.get("contentUrl")
        if isinstance(content, str) and content.strip():
            name = entry.get("name") or entry.get("additionalType")
            found.feeds.append(
                FeedSpec(
                    urljoin(url, content.strip()),
                    dataset=url,
                    publisher=publisher,
                    name=name if isinstance(name, str) else None,
                )
            )
            feeds += 1
    if not feeds:
        found.problems.append(f"{url}: the dataset lists no distribution with a contentUrl")
