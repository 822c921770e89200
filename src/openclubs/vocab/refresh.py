"""Download the live OpenActive Activity List into the user cache (``activities refresh``).

A download replaces the cached copy only once it has been read in full (within a size limit),
parsed as JSON and indexed as the Activity List scheme; the file is then swapped in atomically,
so a failed or bad download never damages the copy in use.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from openclubs.version import __version__
from openclubs.vocab.concepts import OA_ACTIVITY_LIST, ConceptScheme
from openclubs.vocab.store import (
    ACTIVITY_LIST_FILE,
    ACTIVITY_LIST_URL,
    SNAPSHOT_DATE,
    activity_list,
    cached_vocab_path,
    reset_caches,
)
from openclubs.vocab.synonyms import ACTIVITY_SYNONYMS

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5


class VocabRefreshError(Exception):
    """A refresh failed; ``message`` says why in words a user can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class RefreshResult:
    url: str
    path: Path
    concepts_before: int
    concepts_after: int
    added_labels: tuple[str, ...]
    removed_labels: tuple[str, ...]

    @property
    def added(self) -> int:
        return len(self.added_labels)

    @property
    def removed(self) -> int:
        return len(self.removed_labels)


@dataclass(frozen=True, slots=True)
class ListCopy:
    """The copy of the Activity List in use: the user cache (``cached``) or the snapshot."""

    cached: Path | None
    date: str
    concepts: int


def copy_in_use() -> ListCopy:
    scheme = activity_list()
    path = cached_vocab_path(ACTIVITY_LIST_FILE)
    if scheme.source != f"cache {path}":
        return ListCopy(None, SNAPSHOT_DATE, len(scheme))
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ListCopy(path, stamp, len(scheme))


def refresh_activity_list(
    url: str = ACTIVITY_LIST_URL,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
) -> RefreshResult:
    """Download the list from `url`, check it and make it the cached copy in use."""
    before = activity_list()
    body, content_type = _download(url, transport, timeout)
    scheme = _parse(url, body, content_type)
    path = cached_vocab_path(ACTIVITY_LIST_FILE)
    _write_atomically(path, body)
    reset_caches()
    old = {c.pref_label for c in before}
    new = {c.pref_label for c in scheme}
    return RefreshResult(
        url, path, len(before), len(scheme), tuple(sorted(new - old)), tuple(sorted(old - new))
    )


def forget_cached_activity_list() -> Path | None:
    """Remove the cached copy (the bundled snapshot is used again); its path, if one existed."""
    path = cached_vocab_path(ACTIVITY_LIST_FILE)
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise VocabRefreshError(f"Could not remove the cached list {path}: {err}") from err
    finally:
        reset_caches()
    return path


def _download(url: str, transport: httpx.BaseTransport | None, timeout: float) -> tuple[bytes, str]:
    headers = {
        "User-Agent": f"openclubs/{__version__} (activity list refresh; python-httpx)",
        "Accept": "application/ld+json, application/json;q=0.9, */*;q=0.1",
    }
    limits = httpx.Timeout(timeout, connect=min(timeout, 10.0))
    too_large = f"{url} sent more than {_size(MAX_DOWNLOAD_BYTES)}: too large for the list."
    try:
        client = httpx.Client(
            transport=transport,
            headers=headers,
            timeout=limits,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
        )
        with client, client.stream("GET", url) as response:
            if response.status_code != 200:
                reason = response.reason_phrase or "error"
                raise VocabRefreshError(
                    f"{url} answered HTTP {response.status_code} {reason}; nothing was changed."
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
                raise VocabRefreshError(too_large)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOWNLOAD_BYTES:
                    raise VocabRefreshError(too_large)
            return bytes(body), response.headers.get("Content-Type", "")
    except httpx.TimeoutException as err:
        raise VocabRefreshError(f"Timed out after {timeout:g} s waiting for {url}.") from err
    except httpx.ConnectError as err:
        raise VocabRefreshError(f"Could not connect to {url}: {err}") from err
    except httpx.TooManyRedirects as err:
        raise VocabRefreshError(f"{url} redirected more than {MAX_REDIRECTS} times.") from err
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
        raise VocabRefreshError(f"Cannot download {url!r}: {err}") from err
    except httpx.HTTPError as err:
        raise VocabRefreshError(f"The download from {url} failed: {err}") from err


def _size(n: int) -> str:
    return f"{n / 1048576:g} MB" if n >= 1048576 else f"{n:,} bytes"


def _parse(url: str, body: bytes, content_type: str) -> ConceptScheme:
    try:
        doc: Any = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        kind = content_type.split(";")[0].strip() or "no content type"
        looks = " (it looks like a web page)" if body.lstrip()[:1] == b"<" else ""
        raise VocabRefreshError(f"{url} did not send JSON{looks} [{kind}]: {err}") from err
    not_scheme = f"{url} sent JSON, but not a SKOS concept scheme with concepts."
    if not isinstance(doc, dict):
        raise VocabRefreshError(not_scheme)
    typ = doc.get("type", doc.get("@type", "ConceptScheme"))
    if typ != "ConceptScheme" and not (isinstance(typ, list) and "ConceptScheme" in typ):
        raise VocabRefreshError(not_scheme)
    try:
        scheme = ConceptScheme.from_jsonld(doc, url, ACTIVITY_SYNONYMS)
    except ValueError as err:
        raise VocabRefreshError(not_scheme) from err
    if scheme.id.split("://", 1)[-1].rstrip("/") != OA_ACTIVITY_LIST.split("://", 1)[-1]:
        raise VocabRefreshError(
            f"{url} sent the concept scheme {scheme.id}, not the OpenActive Activity List."
        )
    return scheme


def _write_atomically(path: Path, body: bytes) -> None:
    tmp_name = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as tmp:
            tmp_name = tmp.name
            tmp.write(body)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except OSError as err:
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
        raise VocabRefreshError(f"Could not write the cached list {path}: {err}") from err
