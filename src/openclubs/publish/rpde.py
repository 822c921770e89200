"""RPDE 1.0 feed pages, as pure functions (no web framework here).

Ordering strategy: "modified timestamp and ID" (RPDE 1.0 §Ordering strategies), where
`modified` is the store's integer change counter and the item `id` is the club's key.
The store answers `WHERE (modified = @afterTimestamp AND key > @afterId) OR modified >
@afterTimestamp ORDER BY modified, key` in one query, and `next` is derived from the last
item of that same query (never from a second query).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote

import orjson

PAGE_SIZE = 500
CACHE_FULL = "public, max-age=3600"
CACHE_LAST = "public, max-age=8"
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
_INTEGER = re.compile(r"([+-]?)0*([0-9]+)\Z")  # ASCII digits only


class FeedEntry(Protocol):
    """What a page is built from (the store's StoredClub)."""

    @property
    def key(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def modified(self) -> int: ...
    @property
    def data(self) -> dict[str, Any] | None: ...


def error_body(status: int, error: str, errors: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The project's one JSON error shape."""
    return {"ok": False, "error": error, "errors": [dict(e) for e in errors], "status": status}


class RequestError(ValueError):
    """A request the feed cannot answer; `body()` is the JSON error to send with `status`."""

    def __init__(self, status: int, error: str, errors: Sequence[Mapping[str, Any]] = ()):
        super().__init__(error)
        self.status = status
        self.error = error
        self.errors = list(errors)

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.error, self.errors)


def parse_position(params: Mapping[str, str]) -> tuple[int | None, str | None]:
    """(after_modified, after_key) from `afterTimestamp` and `afterId`; (None, None) for the
    first page. Any integer is accepted, far-future ones included (the official validator
    probes now + 1 year); values beyond 64 bits are clamped, since no `modified` is larger.
    A non-integer `afterTimestamp` raises RequestError (400)."""
    raw = params.get("afterTimestamp")
    if raw is None:
        return None, None
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]  # a string-encoded integer: "1700000000"
    match = _INTEGER.match(text)
    if match is None:
        raise RequestError(
            400,
            "afterTimestamp must be an integer (the `modified` of the last item you read)",
            [{"parameter": "afterTimestamp", "value": raw, "message": "not an integer"}],
        )
    sign, digits = match.groups()
    if len(digits) > 19:  # beyond int64 (and beyond int()'s digit limit for huge inputs)
        after = INT64_MIN if sign == "-" else INT64_MAX
    else:
        after = max(INT64_MIN, min(INT64_MAX, int(sign + digits)))
    return after, params.get("afterId", "")


def next_url(base_feed_url: str, modified: int, key: str) -> str:
    """The absolute position after an item: afterTimestamp as a bare integer, afterId
    URL-encoded."""
    return f"{base_feed_url}?afterTimestamp={modified}&afterId={quote(key, safe='')}"


def feed_item(entry: FeedEntry, kind: str) -> dict[str, Any]:
    """An RPDE item: `data` for updated items only."""
    item: dict[str, Any] = {
        "state": entry.state,
        "kind": kind,
        "id": entry.key,
        "modified": entry.modified,
    }
    if entry.state == "updated" and entry.data is not None:
        item["data"] = entry.data
    return item


def build_page(
    entries: Sequence[FeedEntry],
    request_url: str,
    base_feed_url: str,
    kind: str,
    license: str,
) -> dict[str, Any]:
    """One page: `next` from the last item, or `request_url` verbatim (absolute) when the
    page is empty (the RPDE last page)."""
    if entries:
        last = entries[-1]
        following = next_url(base_feed_url, last.modified, last.key)
    else:
        following = request_url
    return {
        "next": following,
        "items": [feed_item(e, kind) for e in entries],
        "license": license,
    }


def cache_control(page: Mapping[str, Any]) -> str:
    """An hour for pages with items; 8 seconds for the last (empty) page (OpenActive
    scaling guidance)."""
    return CACHE_FULL if page["items"] else CACHE_LAST


def build_page_bytes(
    rows: Sequence[tuple[str, str, int, bytes | None]],
    request_url: str,
    base_feed_url: str,
    kind: str,
    license: str,
) -> tuple[bytes, bool]:
    """The page of `build_page`, serialised straight from stored JSON (no decoding of the
    records); returns (body, whether it is the last page)."""
    if rows:
        key, _, modified, _ = rows[-1]
        following = next_url(base_feed_url, modified, key)
    else:
        following = request_url
    kind_json = orjson.dumps(kind)
    # One %-format per item and one join per page: each record's stored bytes are copied
    # once, not once per concatenation.
    items = [
        b'{"state":"updated","kind":%b,"id":%b,"modified":%d,"data":%b}'
        % (kind_json, orjson.dumps(key), modified, data)
        if state == "updated" and data is not None
        else b'{"state":%b,"kind":%b,"id":%b,"modified":%d}'
        % (orjson.dumps(state), kind_json, orjson.dumps(key), modified)
        for key, state, modified, data in rows
    ]
    body = b"".join(
        (
            b'{"next":',
            orjson.dumps(following),
            b',"items":[',
            b",".join(items),
            b'],"license":',
            orjson.dumps(license),
            b"}",
        )
    )
    return body, not rows
