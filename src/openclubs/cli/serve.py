"""``openclubs serve``: publish the store as an RPDE feed, a dataset site and club pages.

Every setting of openclubs.publish.settings is a flag here (generated from its table), a key
of the optional --config file and an OPENCLUBS_* environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
import uvicorn

from openclubs.publish.app import create_app
from openclubs.publish.demo import load_demo
from openclubs.publish.settings import SettingsError, env_name, load_settings, setting_type, table
from openclubs.publish.site import FEED_PATH
from openclubs.publish.worker import SETTINGS_ENV, settings_json
from openclubs.store.base import open_store

F = Callable[..., Any]


def setting_options(func: F) -> F:
    """One option per setting: --page-size for page_size, with its help, default and
    environment variable."""
    for name, default, help_text in reversed(table()):
        shown = "unset" if default is None else default
        is_int = setting_type(name) is int
        func = click.option(
            "--" + name.replace("_", "-"),
            name,
            type=click.INT if is_int else click.STRING,
            default=None,
            metavar="N" if is_int else "PATH" if name == "db" else "TEXT",
            help=f"{help_text} [default: {shown}; env: {env_name(name)}]",
        )(func)
    return func


@click.command(name="serve")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True),
    metavar="FILE",
    help="A TOML or JSON file of settings (the names below, with _ or -). Precedence: "
    "command line, then environment, then this file, then the defaults.",
)
@click.option("--demo", is_flag=True, help="If the store is empty, load a few demo clubs first.")
@setting_options
def serve_command(config_file: str | None, demo: bool, **given: Any) -> None:
    """Serve the club store: the RPDE feed at /feeds/organizations, the dataset site at /,
    a data catalog at /catalog.jsonld and a page per club at /clubs/KEY (and KEY.json).

    Record ids dereference when the clubs were imported with --base-url set to this
    server's --base-url."""
    try:
        settings = load_settings(given, config_file)
    except SettingsError as error:
        raise click.UsageError(str(error)) from None
    store = open_store(settings.db)
    try:
        store.migrate()
        if demo:
            loaded = load_demo(store, settings.base)
            if loaded:
                click.echo(f"openclubs serve: loaded {loaded} demo clubs", err=True)
        counts = store.counts()
        click.echo(
            f"openclubs serve: {counts.get('updated', 0)} clubs from {settings.db}\n"
            f"  dataset site  {settings.base}/\n"
            f"  RPDE feed     {settings.base}{FEED_PATH}",
            err=True,
        )
        if settings.workers > 1:
            store.close()
            # Each worker process builds its own app and store from the same settings.
            os.environ[SETTINGS_ENV] = settings_json(settings)
            uvicorn.run(
                "openclubs.publish.worker:create_worker_app",
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=settings.workers,
            )
        else:
            uvicorn.run(create_app(store, settings), host=settings.host, port=settings.port)
    finally:
        store.close()
