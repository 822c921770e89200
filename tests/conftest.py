"""Shared fixtures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


class LocalSite:
    """A real HTTP server on 127.0.0.1 answering from a table of routes:
    path -> (status, content type, body, extra headers). Records the paths asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes, dict[str, str]]] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                status, ctype, body, headers = site.routes.get(
                    self.path, (404, "text/plain", b"not found", {})
                )
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(
        self,
        path: str,
        body: str | bytes,
        status: int = 200,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = (status, content_type, data, headers or {})
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def local_site() -> Iterator[LocalSite]:
    site = LocalSite()
    site.thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test compiled modules built from other sources than the ones on disk."""
    from openclubs.speedups import state

    if state() == "stale":
        pytest.exit(
            "the mypyc-compiled modules are stale (a source changed since they were built): "
            "run `bash scripts/setup.sh` (or `.venv/bin/python scripts/compile.py`)",
            returncode=2,
        )
