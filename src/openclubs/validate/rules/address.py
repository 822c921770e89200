"""PostalAddress and GeoCoordinates (Club Spec 0.2 §3.3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from openclubs.model.countries import UK_POSTCODE_COUNTRIES, country_code, is_alpha2
from openclubs.model.postcodes import check_postcode
from openclubs.validate.rules.common import (
    Collector,
    check_keywords,
    check_text,
    check_type,
    child,
    describe,
    plain_text,
    quote,
    unknown_properties,
)

ADDRESS_FIELDS = (
    "streetAddress",
    "addressLocality",
    "addressRegion",
    "postalCode",
    "addressCountry",
)
_ADDRESS_KNOWN = frozenset({"@type", "type", "@id", "id", *ADDRESS_FIELDS})
_ADDRESS_HINTS = {
    "streetAddress": " Add the street and number (or the venue's name and street).",
    "addressLocality": " Add the town or city.",
    "addressRegion": " Add the county or region.",
    "postalCode": " Add the postcode.",
    "addressCountry": ' Add the two-letter country code, "GB" for the United Kingdom.',
}
_GEO_KNOWN = frozenset({"@type", "type", "@id", "id", "latitude", "longitude", "elevation"})
_ADDRESS_TYPE = frozenset({"PostalAddress"})
_GEO_TYPE = frozenset({"GeoCoordinates"})


def check_postal_address(ctx: Collector, node: dict[str, Any], path: str) -> None:
    """Club Spec 0.2 §3.3: streetAddress, addressLocality, addressRegion, postalCode and
    addressCountry are all REQUIRED; addressCountry is an ISO 3166-1 alpha-2 code."""
    check_type(ctx, node, path, "PostalAddress", _ADDRESS_TYPE)
    check_keywords(ctx, node, path)
    country: str | None = None
    for field in ADDRESS_FIELDS:
        value = node.get(field)
        if value.__class__ is str and plain_text(value) and value[-1] != ",":
            if field == "addressCountry" and is_alpha2(value):
                country = value
            if field != "addressCountry" or country is not None:
                continue  # the usual case: clean text (and a valid country code)
        where = f"{path}.{field}"
        if value is None and field not in node:
            ctx.missing(
                "missing_required_property",
                where,
                field,
                "PostalAddress",
                "hint",
                _ADDRESS_HINTS[field],
            )
            continue
        if field == "addressCountry":
            country = check_country(ctx, value, where)
            continue
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and field != "postalCode"
        ):
            value = str(value)
        if not check_text(ctx, value, where, field):
            continue
        assert isinstance(value, str)
        if value.rstrip().endswith(","):
            ctx.add("address_trailing_comma", where, prop=field, value=quote(value))
    postcode = node.get("postalCode")
    if (
        isinstance(postcode, str)
        and postcode.strip()
        and (country is None or country in UK_POSTCODE_COUNTRIES)
    ):
        # a trailing comma is reported on its own (address_trailing_comma), not twice
        check_uk_postcode(ctx, postcode.strip().rstrip(","), child(path, "postalCode"))
    unknown_properties(ctx, node, path, _ADDRESS_KNOWN, "PostalAddress")


def check_country(ctx: Collector, value: Any, path: str) -> str | None:
    """Returns the country code the value means (even when written wrongly), for the postcode
    check; reports anything that is not a capitalised alpha-2 code."""
    if isinstance(value, dict):
        name = value.get("name") or value.get("identifier")
        code = country_code(name) if isinstance(name, str) else None
        hint = f' Write the code alone: "addressCountry": "{code}".' if code else ""
        ctx.add(
            "invalid_type",
            path,
            prop="addressCountry",
            expected="a two-letter code (text)",
            actual=describe(value),
            hint=hint,
        )
        return code
    if not check_text(ctx, value, path, "addressCountry"):
        return None
    text = value.strip()
    if is_alpha2(text):
        return str(text)
    code = country_code(text)
    if text.upper() in ("UK", "U.K."):
        hint = ' "UK" is not the ISO code of the United Kingdom: use "GB".'
    elif code:
        hint = f' Use "{code}".'
    else:
        hint = ' For the United Kingdom use "GB".'
    ctx.add("invalid_country_code", path, value=quote(value), hint=hint)
    return code


def check_uk_postcode(ctx: Collector, postcode: str, path: str) -> None:
    verdict = check_postcode(postcode)
    if verdict.canonical is None:
        hint = f" {verdict.reason[0].upper()}{verdict.reason[1:]}."
        if verdict.did_you_mean:
            hint += f' Did you mean "{verdict.did_you_mean}"? (openclubs does not guess.)'
        ctx.add("invalid_postcode", path, value=quote(postcode), hint=hint)
    elif verdict.canonical != postcode:
        ctx.add("postcode_format", path, value=quote(postcode), expected=verdict.canonical)


def _decimals(value: float) -> int:
    """Decimal places as written in JSON (6e-05 has five; 51.0 has one)."""
    text = repr(value)
    if "e" in text or "E" in text:
        exponent = Decimal(text).as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return len(text.partition(".")[2])


def check_geo(ctx: Collector, node: dict[str, Any], path: str) -> None:
    """Club Spec 0.2 §3.3: latitude and longitude are REQUIRED Numbers, "to a precision of at
    least two decimal places"."""
    check_type(ctx, node, path, "GeoCoordinates", _GEO_TYPE)
    check_keywords(ctx, node, path)
    numbers: list[float] = []
    for field, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        where = child(path, field)
        if field not in node:
            ctx.add("missing_required_property", where, prop=field, owner="GeoCoordinates")
            continue
        value = node[field]
        if value is None:
            ctx.add("empty_value", where, prop=field, actual="null")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str):
                try:
                    hint = f" Write it as a number, without quotes: {float(value)!r}."
                except ValueError:
                    hint = ""
            ctx.add(
                "invalid_type",
                where,
                prop=field,
                expected="a number",
                actual=describe(value),
                hint=hint,
            )
            continue
        if not low <= value <= high:
            hint = (
                " Latitude and longitude may be swapped."
                if field == "latitude" and -180 <= value <= 180
                else ""
            )
            ctx.add(
                "coordinate_out_of_range",
                where,
                prop=field,
                value=value,
                low=low,
                high=high,
                hint=hint,
            )
            continue
        numbers.append(value)
        if isinstance(value, int) or _decimals(value) < 2:
            ctx.add("low_precision_coordinate", where, prop=field, value=value)
    if len(numbers) == 2 and numbers[0] == 0 and numbers[1] == 0:
        ctx.add("null_island", path)
    unknown_properties(ctx, node, path, _GEO_KNOWN, "GeoCoordinates")
