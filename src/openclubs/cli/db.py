"""``openclubs db``: create, migrate and prune the store; ``openclubs export``: stream it."""

from __future__ import annotations

import sys

import click

from openclubs.store.base import open_store
from openclubs.store.export import EXPORTERS
from openclubs.store.sqlite import TOMBSTONE_DAYS

DB_HELP = "The store: a SQLite file path, or a postgresql:// URL (PostgreSQL 15 + PostGIS)."


@click.group(name="db")
def db_group() -> None:
    """Create, migrate and prune the club store."""


@db_group.command(name="init")
@click.option("--db", "db_path", default="openclubs.sqlite3", show_default=True, help=DB_HELP)
def db_init(db_path: str) -> None:
    """Create the store (or bring an existing one up to date)."""
    _migrate(db_path)


@db_group.command(name="migrate")
@click.option("--db", "db_path", default="openclubs.sqlite3", show_default=True, help=DB_HELP)
def db_migrate(db_path: str) -> None:
    """Apply the schema migrations the store has not had yet."""
    _migrate(db_path)


def _migrate(db_path: str) -> None:
    store = open_store(db_path)
    try:
        applied = store.migrate()
        parts = ", ".join(f"{name} {number}" for name, number in store.part_versions().items())
        click.echo(
            f"{db_path}: schema version {store.version()}"
            + (f" (parts: {parts})" if parts else "")
            + f" ({applied} migrations applied)"
        )
    finally:
        store.close()


@db_group.command(name="prune")
@click.option("--db", "db_path", default="openclubs.sqlite3", show_default=True, help=DB_HELP)
@click.option(
    "--days",
    type=float,
    default=TOMBSTONE_DAYS,
    show_default=True,
    help=f"Remove deletions older than this (never fewer than {TOMBSTONE_DAYS} days, "
    "which RPDE requires).",
)
def db_prune(db_path: str, days: float) -> None:
    """Remove old deletions (tombstones) from the store and its feed."""
    store = open_store(db_path)
    try:
        store.migrate()
        click.echo(f"{db_path}: {store.prune(days)} tombstones removed")
    finally:
        store.close()


@click.command(name="export")
@click.option("--db", "db_path", default="openclubs.sqlite3", show_default=True, help=DB_HELP)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(EXPORTERS)),
    default="jsonld",
    show_default=True,
    help="jsonld: JSON Lines of records; csv: one row per club; "
    "geojson: a FeatureCollection with a point per place.",
)
@click.option(
    "-o",
    "--output",
    "out",
    type=click.File("wb"),
    default="-",
    help="Where to write (default: standard output).",
)
def export_command(db_path: str, fmt: str, out: object) -> None:
    """Export every current club from the store, streamed (any size)."""
    store = open_store(db_path)
    try:
        store.migrate()
        count = EXPORTERS[fmt](store.iter_clubs(), out)  # type: ignore[arg-type]
    finally:
        store.close()
    click.echo(f"openclubs export: {count} clubs", err=True)
    sys.exit(0)
