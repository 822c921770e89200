"""The app of one web worker process when `openclubs serve --workers N` runs several: the
parent process passes its resolved settings in an environment variable, and each worker opens
its own store connection (SQLite in WAL mode and PostgreSQL both take concurrent readers and
serialise writers themselves, see openclubs.store)."""

from __future__ import annotations

import dataclasses
import json
import os

from fastapi import FastAPI

from openclubs.publish.settings import Settings

SETTINGS_ENV = "OPENCLUBS_SERVE_SETTINGS"


def settings_json(settings: Settings) -> str:
    return json.dumps(dataclasses.asdict(settings))


def create_worker_app() -> FastAPI:
    from openclubs.publish.app import create_app
    from openclubs.store.base import open_store

    settings = Settings(**json.loads(os.environ[SETTINGS_ENV]))
    return create_app(open_store(settings.db), settings)
