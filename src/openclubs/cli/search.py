"""``openclubs search``: find clubs in the store, with the same query model as the web API."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from openclubs.normalise.geocode import GeocoderSetupError
from openclubs.search.engine import Search
from openclubs.search.place import make_locator
from openclubs.search.query import (
    DEFAULT_LIMIT,
    DEFAULT_RADIUS_KM,
    GENDER_CHOICES,
    QueryError,
    find_activity,
    parse_query,
)
from openclubs.search.render import result_json, result_table
from openclubs.store.base import is_postgres, open_store

EXIT_BAD_QUERY = 2
EXIT_UNAVAILABLE = 3


@click.command(name="search")
@click.argument("what", required=False, default="")
@click.option("--activity", help="An activity (id, label or synonym); overrides WHAT.")
@click.option("--text", "text", help="Words in the club's name, other names or description.")
@click.option(
    "--near", help="A UK postcode ('SE10 0BW'), a district ('SE10') or 'latitude,longitude'."
)
@click.option(
    "--radius",
    type=float,
    default=DEFAULT_RADIUS_KM,
    show_default=True,
    help="Kilometres from --near.",
)
@click.option("--age", type=float, help="Clubs whose stated age range includes this age.")
@click.option(
    "--gender",
    multiple=True,
    type=click.Choice(GENDER_CHOICES, case_sensitive=False),
    help="genderRestriction (repeatable); Unknown: clubs that do not say.",
)
@click.option("--accessibility", multiple=True, help="Accessibility support (repeatable).")
@click.option("--amenity", multiple=True, help="An amenity such as Showers (repeatable).")
@click.option("--member-of", help="A governing body the club is a member of.")
@click.option("--sort", type=click.Choice(["distance", "relevance", "name"]))
@click.option("--limit", type=int, default=DEFAULT_LIMIT, show_default=True)
@click.option("--offset", type=int, default=0, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--db",
    "db_path",
    default="openclubs.sqlite3",
    show_default=True,
    help="The store: a SQLite file path, or a postgresql:// URL.",
)
@click.option(
    "--postcodes",
    default="postcodes.io",
    show_default=True,
    help="Postcode look-up: postcodes.io, a postcodes.io-compatible URL, a CSV file, or none.",
)
@click.option(
    "--reindex",
    is_flag=True,
    help="Rebuild the search index from the store first (after an Activity List refresh, "
    "or to repair the index).",
)
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where club pages are published (for the links in --format json).",
)
def search_command(
    what: str,
    activity: str | None,
    text: str | None,
    near: str | None,
    radius: float,
    age: float | None,
    gender: tuple[str, ...],
    accessibility: tuple[str, ...],
    amenity: tuple[str, ...],
    member_of: str | None,
    sort: str | None,
    limit: int,
    offset: int,
    fmt: str,
    db_path: str,
    postcodes: str,
    reindex: bool,
    base_url: str,
) -> None:
    """Search the clubs in the store: WHAT is an activity when the Activity List knows it
    (with everything narrower: "martial arts" finds Judo and Karate clubs), else words to
    find in names and descriptions.

        openclubs search "martial arts" --near "SE10 0BW" --radius 10

    When no club is within --radius, the nearest ones beyond it are shown, and said so.
    Exit status: 0 on an answer (even an empty one), 2 for a bad query (an unknown activity
    comes with suggestions), 3 when the postcode service is unavailable."""
    params: dict[str, list[str]] = {}
    if activity:
        params["activity"] = [activity]
    elif what and find_activity(what) is not None:
        params["activity"] = [what]
    elif what:
        params["q"] = [what]
    if text:
        params["q"] = [" ".join([*params.get("q", []), text])]
    optional = {
        "near": near,
        "age": None if age is None else f"{age:g}",
        "memberOf": member_of,
        "sort": sort,
    }
    params.update({k: [v] for k, v in optional.items() if v})
    params.update(radius=[f"{radius:g}"], limit=[str(limit)], offset=[str(offset)])
    for name, values in (
        ("gender", gender),
        ("accessibility", accessibility),
        ("amenity", amenity),
    ):
        if values:
            params[name] = list(values)
    try:
        locator = make_locator(postcodes)
    except GeocoderSetupError as error:
        raise click.UsageError(str(error)) from None
    try:
        query = parse_query(params, locator)
    except QueryError as error:
        for problem in error.errors:
            click.echo(
                f"openclubs search: --{problem['parameter']}: {problem['message']}", err=True
            )
        sys.exit(EXIT_UNAVAILABLE if error.status == 503 else EXIT_BAD_QUERY)
    if not is_postgres(db_path) and not Path(db_path).is_file():
        click.echo(f"openclubs search: {db_path}: no such store (see --db)", err=True)
        sys.exit(EXIT_BAD_QUERY)
    store = open_store(db_path)
    try:
        if store.version() == 0:
            click.echo(
                f"openclubs search: {db_path} is not a club store (run `openclubs db init`)",
                err=True,
            )
            sys.exit(EXIT_BAD_QUERY)
        store.migrate()  # the search tables, when the store predates them
        search = Search(store)
        if reindex:
            click.echo(f"openclubs search: indexed {search.rebuild()} clubs", err=True)
        found = search.search(query)
    finally:
        store.close()
    if fmt == "json":
        body = result_json(found, base_url.rstrip("/"))
        click.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(result_table(found), nl=False)
