"""The ``openclubs`` command group."""

from __future__ import annotations

import click

from openclubs.cli.activities import activities
from openclubs.cli.db import db_group, export_command
from openclubs.cli.harvest import harvest_command
from openclubs.cli.import_cmd import import_command
from openclubs.cli.search import search_command
from openclubs.cli.serve import serve_command
from openclubs.cli.validate import validate_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="openclubs")
def cli() -> None:
    """openclubs: open data about sports and physical-activity clubs, checked against the
    OpenActive Club Specification 0.2 and the OpenActive Activity List."""


cli.add_command(validate_command)
cli.add_command(activities)
cli.add_command(import_command)
cli.add_command(db_group)
cli.add_command(export_command)
cli.add_command(serve_command)
cli.add_command(search_command)
cli.add_command(harvest_command)


def main() -> None:
    cli(prog_name="openclubs")
