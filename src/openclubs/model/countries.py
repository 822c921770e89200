"""Country codes: ISO 3166-1 alpha-2, with the names and mistakes seen in club data."""

from __future__ import annotations

from functools import cache

import pycountry

_ALIASES = {
    "UK": "GB",
    "U.K.": "GB",
    "UNITED KINGDOM": "GB",
    "GREAT BRITAIN": "GB",
    "BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "CYMRU": "GB",
    "NORTHERN IRELAND": "GB",
    "JERSEY": "JE",
    "GUERNSEY": "GG",
    "ALDERNEY": "GG",
    "SARK": "GG",
    "ISLE OF MAN": "IM",
    "IRELAND": "IE",
    "EIRE": "IE",
    "REPUBLIC OF IRELAND": "IE",
}
UK_POSTCODE_COUNTRIES = frozenset({"GB", "JE", "GG", "IM"})


@cache
def _alpha2() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_alpha2(code: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-2 code written in capitals ('GB', 'JE')."""
    return code in _alpha2()


@cache
def country_code(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code a country name, alias or code means, or None."""
    key = " ".join(text.replace(".", ". ").split()).strip().upper().replace(". ", ".")
    key = key.rstrip(".") if key not in _ALIASES else key
    if key in _ALIASES:
        return _ALIASES[key]
    if key in _alpha2():
        return key
    try:
        found = pycountry.countries.lookup(text.strip())
    except LookupError:
        return None
    return str(found.alpha_2)
