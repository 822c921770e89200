"""Shared fixtures."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from openclubs.store.base import Store, open_store
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
    path -> (status, content type, body, extra headers). Records the paths asked for and the
    User-Agent of each request. A route added with `content_type=None` sends no Content-Type,
    and with `length=False` no Content-Length (the body then ends when the connection
    closes)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str | None, bytes, dict[str, str], bool]] = {}
        self.requests: list[str] = []
        self.user_agents: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                site.user_agents.append(self.headers.get("User-Agent", ""))
                status, ctype, body, headers, length = site.routes.get(
                    self.path, (404, "text/plain", b"not found", {}, True)
                )
                self.send_response(status)
                if ctype is not None:
                    self.send_header("Content-Type", ctype)
                if length:
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
        content_type: str | None = "application/json",
        headers: dict[str, str] | None = None,
        length: bool = True,
    ) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = (status, content_type, data, headers or {}, length)
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


# -- PostgreSQL: a throwaway server for the store tests on the PostgreSQL backend --------------

PG_BIN = Path(os.environ.get("OPENCLUBS_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
TEMPLATE_DB = "openclubs_template"


class PostgresServer:
    """A PostgreSQL server of the test session's own, in a fresh data directory under /tmp,
    listening only on a Unix socket in that directory (so several sessions never collide on a
    port), `trust` authentication, fsync off. Run as the `postgres` user when the tests run
    as root, since PostgreSQL refuses to run as root."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="openclubs-pg-"))
        self.data = self.base / "data"
        self.socket = self.base / "socket"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.started = False
        self.databases = 0

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.as_postgres, *args], cwd=self.base, capture_output=True, text=True
        )
        if done.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}{tail}")

    def start(self) -> None:
        self._run(
            str(PG_BIN / "initdb"),
            *("-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"),
            *("--locale=C.UTF-8", "--no-sync", "--no-instructions"),
        )
        self._run("mkdir", "-m", "0755", str(self.socket))
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket}'",
            "port": "5432",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "64MB",
            "max_connections": "60",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self._run(
            str(PG_BIN / "pg_ctl"),
            *("-D", str(self.data), "-l", str(self.base / "server.log"), "-w", "-t", "60"),
            "start",
        )
        self.started = True
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        with psycopg.connect(self.dsn(TEMPLATE_DB), autocommit=True) as template:
            template.execute("CREATE EXTENSION postgis")

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket}"

    def create_database(self) -> tuple[str, str]:
        """A new empty database (PostGIS already in it); returns (name, DSN)."""
        self.databases += 1
        name = f"openclubs_test_{self.databases}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY")
        return name, self.dsn(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if self.started:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
            self.started = False
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's throwaway PostgreSQL 15 + PostGIS server (skipped when not installed;
    `bash scripts/setup.sh`, run by the test command, installs both with apt)."""
    missing = [str(p) for p in (PG_BIN / "initdb", PG_BIN / "pg_ctl") if not p.exists()]
    if not POSTGIS_CONTROL.exists():
        missing.append(str(POSTGIS_CONTROL))
    if missing:
        reason = (
            f"PostgreSQL 15 + PostGIS not installed ({', '.join(missing)} missing): "
            "`bash scripts/setup.sh` installs postgresql-15 and postgresql-15-postgis-3 with apt"
        )
        if os.environ.get("CI"):  # the test command installs them: in CI, missing is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run PostgreSQL as")
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database (with PostGIS) for one test."""
    name, dsn = postgres_server.create_database()
    yield dsn
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store of each kind: SQLite on tmp_path, then PostgreSQL."""
    if request.param == "sqlite":
        db = str(tmp_path / "clubs.sqlite3")
    else:
        db = request.getfixturevalue("postgres_dsn")
    opened = open_store(db)
    opened.migrate()
    yield opened
    opened.close()


CHROMIUM = Path(os.environ.get("OPENCLUBS_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("OPENCLUBS_CHROMEDRIVER", "/usr/bin/chromedriver"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A real headless Chromium (Debian's chromium and chromium-driver, which
    `bash scripts/setup.sh` installs with apt) driven by Selenium, phone-sized windows and
    keyboard included. Missing browser: skipped, or a failure in CI."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        reason = f"no Chromium ({', '.join(missing)} missing): `bash scripts/setup.sh` installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
