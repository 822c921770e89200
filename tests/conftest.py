"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openclubs.vocab.store import reset_caches


@pytest.fixture
def vocab_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty user cache under tmp_path (never the real one), with the vocab caches reset."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("OPENCLUBS_CACHE_DIR", str(cache))
    reset_caches()
    yield cache
    reset_caches()
