"""Turning what a user names (files, directories, '-', URLs) into text documents."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from openclubs.ingest.fetch import Fetched, FetchError, fetch_text

MAX_FILE_BYTES = 64 * 1024 * 1024


class SourceError(Exception):
    """An input could not be read at all; the message names it and says why."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(message)
        self.source = source


@dataclass(frozen=True, slots=True)
class Document:
    name: str  # path, URL or "<stdin>"
    text: str


Fetcher = Callable[[str], Fetched]


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://"))


def read_documents(spec: str, fetch: Fetcher = fetch_text) -> Iterator[Document | SourceError]:
    """The documents `spec` names; unreadable ones come as SourceError values, so that one bad
    input never hides the others."""
    if spec == "-":
        yield Document("<stdin>", sys.stdin.read())
        return
    if is_url(spec):
        try:
            fetched = fetch(spec)
        except FetchError as err:
            yield SourceError(spec, str(err))
            return
        yield Document(spec, fetched.text)
        return
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
        if not files:
            yield SourceError(spec, f"{spec}: the directory has no files")
        for file in files:
            yield _read_file(file)
        return
    yield _read_file(path)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _read_file(path: Path) -> Document | SourceError:
    name = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return SourceError(
                name, f"{name}: the file is larger than {MAX_FILE_BYTES // 2**20} MB"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        return SourceError(name, f"{name}: no such file or directory")
    except IsADirectoryError:
        return SourceError(name, f"{name}: is a directory")
    except PermissionError:
        return SourceError(name, f"{name}: permission denied")
    except OSError as err:
        return SourceError(name, f"{name}: cannot be read ({err.strerror or err})")
    if b"\x00" in data[:4096]:
        return SourceError(name, f"{name}: a binary file, not JSON or HTML text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return Document(name, text)
