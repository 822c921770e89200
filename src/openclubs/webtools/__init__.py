"""Web tools for clubs: check data or a web page (/validate, POST /api/validate), build a
JSON-LD snippet (/build), and, when the server accepts them, submissions that a moderator
approves at /admin.

`register_webtools(app, store, settings)` adds all of it to the publishing app.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from openclubs.publish.settings import Settings, SettingsError
from openclubs.store.base import Store
from openclubs.webtools.fetch import FetchPolicy

STATIC = Path(__file__).resolve().parents[1] / "publish" / "static" / "webtools"
YES = frozenset({"yes", "true", "on", "1"})
NO = frozenset({"no", "false", "off", "0", ""})


def accepts_submissions(settings: Settings) -> bool:
    value = settings.accept_submissions.strip().lower()
    if value not in YES | NO:
        raise SettingsError(f"setting 'accept_submissions' must be yes or no, not {value!r}")
    return value in YES


def register_webtools(app: FastAPI, store: Store, settings: Settings) -> None:
    """Add /validate, /api/validate, /build (and its helpers under /webtools/), /admin and
    the tools' static files at /static/webtools."""
    from openclubs.webtools.admin import register_admin
    from openclubs.webtools.build_page import register_build
    from openclubs.webtools.validate_page import register_validate

    policy = FetchPolicy.from_setting(settings.fetch_allow)
    accepting = accepts_submissions(settings)
    app.mount("/static/webtools", StaticFiles(directory=STATIC), name="webtools-static")
    register_validate(app, policy)
    register_build(app, store, settings, accepting)
    register_admin(app, store, settings)


__all__ = ["accepts_submissions", "register_webtools"]
