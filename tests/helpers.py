"""Shared helpers for the tests: where the shared data is, and a compact view of reports."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openclubs.validate.report import Report

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OPENCLUBS_SHARED", ROOT.parent / "shared")).resolve()
EXAMPLES = SHARED / "data" / "examples"
CASES = ROOT / "tests" / "cases"
ARTIFACTS = ROOT / "build" / "test-artifacts"  # screenshots and other files a test leaves


def expectation_lines(report: Report) -> list[str]:
    """One line per issue: severity, type, JSONPath (and item, when from an RPDE page)."""
    lines = []
    for issue in report.issues:
        line = f"{issue.severity} {issue.type} {issue.path}"
        if issue.item:
            line += f" item={issue.item}"
        lines.append(line)
    return sorted(lines)


@contextmanager
def serve_app(make_app: Callable[[str], Any]) -> Iterator[str]:
    """Serve the ASGI app that `make_app(base_url)` returns (such as `lambda base:
    create_app(store, Settings(base_url=base))`) with uvicorn on a free 127.0.0.1 port, in a
    thread; yields the base URL ("http://127.0.0.1:PORT") and stops the server afterwards."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = make_app(base)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "the test server did not start"
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
