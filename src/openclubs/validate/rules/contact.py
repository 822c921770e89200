"""Contact routes: email addresses and telephone numbers (plausible, and the club's own)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers

from openclubs.validate.rules.common import Collector, check_text, quote

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
EMAIL_PATTERN = _EMAIL  # public name: the importer cleans addresses with the same pattern
PERSONAL_EMAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com hotmail.com hotmail.co.uk outlook.com live.com live.co.uk
    msn.com yahoo.com yahoo.co.uk ymail.com icloud.com me.com mac.com aol.com aol.co.uk
    btinternet.com btopenworld.com sky.com virginmedia.com ntlworld.com talktalk.net
    tiscali.co.uk blueyonder.co.uk protonmail.com proton.me gmx.com gmx.co.uk mail.com""".split()
)


def check_email(ctx: Collector, value: Any, path: str, prop: str = "email") -> None:
    if not check_text(ctx, value, path, prop):
        return
    address = value.strip()
    if address.lower().startswith("mailto:"):
        ctx.add(
            "invalid_email",
            path,
            prop=prop,
            value=quote(value),
            hint=f' Write the address alone: "{address[7:]}".',
        )
        return
    if not _EMAIL.match(address):
        ctx.add("invalid_email", path, prop=prop, value=quote(value))
        return
    domain = address.rpartition("@")[2].lower()
    if domain in PERSONAL_EMAIL_DOMAINS:
        ctx.add(
            "personal_contact",
            path,
            prop=prop,
            detail=f"is at {domain}, which looks like a personal mailbox.",
        )


_PUNCTUATION = re.compile(r"[\s()\-.]")
_UK_COMMON = re.compile(r"(?:0|\+44)(?:[1-3]\d{9}|7[1-57-9]\d{8}|[58]0\d{8})")


@lru_cache(maxsize=8192)
def telephone_problem(number: str) -> tuple[str, bool]:
    """(what is wrong, or "" if plausible; whether it is a mobile number) for a telephone.

    The common UK shapes (11 digits from 01, 02, 03, 07, 080) are recognised directly;
    anything else is checked against libphonenumber's metadata (GB as the default region).
    """
    compact = _PUNCTUATION.sub("", number)
    if _UK_COMMON.fullmatch(compact):
        return "", compact[1 if compact[0] == "0" else 3] == "7"
    digits = sum(ch.isdigit() for ch in number)
    if digits < 6:
        return "it has too few digits to be a telephone number.", False
    if any(ch.isalpha() for ch in number.replace("ext", "").replace("x", "")):
        return "it contains letters; give the number alone.", False
    try:
        parsed = phonenumbers.parse(number, "GB")
    except phonenumbers.NumberParseException:
        return "it cannot be read as a telephone number.", False
    if not phonenumbers.is_valid_number(parsed):
        region = "UK " if parsed.country_code == 44 else ""
        return (
            f"it is not a valid {region}number (wrong length or prefix: check for a missing "
            "or extra digit).",
            False,
        )
    kind = phonenumbers.number_type(parsed)
    return "", kind == phonenumbers.PhoneNumberType.MOBILE


def check_telephone(ctx: Collector, value: Any, path: str, prop: str = "telephone") -> None:
    if not check_text(ctx, value, path, prop):
        return
    problem, mobile = telephone_problem(value.strip())
    if problem:
        ctx.add("invalid_telephone", path, prop=prop, value=quote(value), detail=problem)
    elif mobile:
        ctx.add(
            "personal_contact",
            path,
            prop=prop,
            detail="is a mobile number, which is often a volunteer's own phone.",
        )
