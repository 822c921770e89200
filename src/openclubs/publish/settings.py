"""The publishing settings: one declarative table (the `Settings` fields: name, default, help)
that the ``openclubs serve`` flags, an optional TOML/JSON config file and ``OPENCLUBS_*``
environment variables are all generated from.

Precedence, lowest first: the defaults, the config file, the environment, the command line.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "OPENCLUBS_"


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class Settings:
    db: str = _setting(
        "openclubs.sqlite3", "The store: a SQLite file path, or a postgresql:// URL."
    )
    host: str = _setting("127.0.0.1", "The address to listen on.")
    port: int = _setting(8000, "The port to listen on.")
    base_url: str = _setting(
        "http://{host}:{port}",
        "The public address of this server: record ids, feed `next` links and the dataset "
        "site are built on it (set it when listening on 0.0.0.0 or behind a proxy).",
    )
    page_size: int = _setting(500, "Items per RPDE feed page.")
    workers: int = _setting(
        1,
        "Web worker processes, each with its own store connection (use more than 1 with a "
        "SQLite file or PostgreSQL, up to the number of cores).",
    )
    feed_kind: str = _setting("Organization", "The RPDE item `kind` of the club feed.")
    dataset_type: str = _setting(
        "https://schema.org/Organization",
        "The feed's `additionalType` in the dataset site's DataDownload.",
    )
    license: str = _setting(
        "https://creativecommons.org/licenses/by/4.0/", "The licence of the published data."
    )
    publisher_name: str = _setting("OpenClubs demo publisher", "Who publishes the data.")
    publisher_url: str | None = _setting(None, "The publisher's website.")
    dataset_name: str = _setting("Sports clubs", "The dataset's name.")
    dataset_description: str = _setting(
        "Open data about sports and physical-activity clubs: what they offer, where, and "
        "how to get in touch, in the OpenActive Club Specification 0.2.",
        "The dataset's description (plain text).",
    )
    documentation_url: str = _setting(
        "https://permalink.openactive.io/dataset-site/open-data-documentation",
        "Documentation for users of the data.",
    )
    discussion_url: str | None = _setting(
        None, "Where users discuss the data (a GitHub issues board, as OpenActive asks)."
    )
    write_token: str | None = _setting(
        None,
        "Bearer token for the write API (unset: the write API is off); prefer the "
        "environment variable, which other users of the machine cannot see.",
    )
    postcode_lookup: str = _setting(
        "postcodes.io",
        "Where club search (and /build) look up postcodes: 'postcodes.io', the address of a "
        "postcodes.io-compatible service, a CSV file of postcode,latitude,longitude, or 'none'.",
    )
    web_dir: str | None = _setting(
        None, "The folder holding node_modules/leaflet (default: the repository's web/)."
    )
    map_tiles: str = _setting(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "The /find map's tile URL template (empty: markers without a background map).",
    )
    fetch_allow: str = _setting(
        "",
        "Hosts, addresses and networks (CIDR) the /validate page may fetch although they are "
        "not public, separated by commas (empty: public web pages only).",
    )
    accept_submissions: str = _setting(
        "no", "yes: /build may submit clubs to the store, pending a moderator's approval."
    )
    submissions_per_hour: int = _setting(
        10,
        "The most submissions /build takes from one visitor's address in an hour (counted "
        "in each server process's memory).",
    )
    admin_token: str | None = _setting(
        None, "The token of the moderators' page /admin (unset: /admin is off)."
    )

    @property
    def base(self) -> str:
        """The public address, without a trailing slash."""
        url = self.base_url.replace("{host}", self.host).replace("{port}", str(self.port))
        return url.rstrip("/")


class SettingsError(ValueError):
    """A setting that does not exist or a value of the wrong kind."""


def table() -> list[tuple[str, Any, str]]:
    """(name, default, help) for every setting, in declaration order."""
    return [(f.name, f.default, str(f.metadata["help"])) for f in fields(Settings)]


def setting_type(name: str) -> type:
    """int for the integer settings, str for the others."""
    return int if _FIELDS[name].type in ("int", int) else str


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings from defaults < `config_file` < `environ` (OPENCLUBS_*) < `overrides`
    (None values in `overrides` are ignored: a flag not given)."""
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(_checked(read_config(config_file), f"in {config_file}"))
    env = os.environ if environ is None else environ
    values.update(
        _checked({n: env[env_name(n)] for n in _FIELDS if env_name(n) in env}, "in environment")
    )
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    values.update(_checked(given, "given"))
    return replace(Settings(), **values)


def read_config(path: str | Path) -> dict[str, Any]:
    """A config file: JSON when named *.json, else TOML; a flat table of settings (names may
    use - or _), optionally under a [openclubs] table."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data: Any = json.loads(text) if str(path).endswith(".json") else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: not a valid config file: {error}") from error
    if isinstance(data, dict) and isinstance(data.get("openclubs"), dict) and len(data) == 1:
        data = data["openclubs"]
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a table of settings")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _checked(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in _FIELDS:
            known = ", ".join(_FIELDS)
            raise SettingsError(f"unknown setting {name!r} {where}; the settings are: {known}")
        out[name] = _convert(name, value, where)
    return out


def _convert(name: str, value: Any, where: str) -> Any:
    if setting_type(name) is int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise SettingsError(f"setting {name!r} {where} must be an integer, not {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(
                f"setting {name!r} {where} must be an integer, not {value!r}"
            ) from None
        low = 0 if name == "port" else 1
        if number < low or (name == "port" and number > 65535):
            raise SettingsError(f"setting {name!r} {where} is out of range: {number}")
        return number
    if not isinstance(value, str):
        raise SettingsError(f"setting {name!r} {where} must be a string, not {value!r}")
    if value == "" and "None" in str(_FIELDS[name].type):
        return None  # an empty optional setting is unset (never an empty write token)
    return value


_FIELDS = {f.name: f for f in fields(Settings)}
assert all(f.default is not MISSING for f in _FIELDS.values())
