"""Contact routes from imported data: telephone numbers, email addresses, web and social URLs.

`clean_telephone`, `clean_email` and `clean_url` return (value, message): (value, None) when
the value was only tidied, (value, note) when something was left out of it (a second number,
words around an address) or added (a missing https://), (None, problem) when it is unusable
and (None, None) when it is empty.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from urllib.parse import parse_qs, urlsplit

import phonenumbers

from openclubs.normalise.text import clean_text
from openclubs.validate.rules.contact import EMAIL_PATTERN, telephone_problem

Cleaned = tuple[str | None, str | None]
_LABEL = re.compile(r"^(?:(?:tel(?:ephone)?|phone|mob(?:ile)?)\b\.?\s*:?|[tm]\s*[:.])\s*", re.I)
_PUNCTUATION = re.compile(r"[\s()\-.]")
_UK = re.compile(r"(?:(?:\+|00)440?|0)([1-9]\d{8,9})")
_UNKNOWN_RANGE = "it is not in a range of numbers in use (check for a wrong or missing digit)."
_TYPES = (  # every type libphonenumber knows; the common ones first, as any() stops early
    "fixed_line mobile toll_free premium_rate shared_cost voip personal_number pager uan voicemail"
).split()

Desc = tuple[frozenset[int], re.Pattern[str]]
Layout = tuple[re.Pattern[str] | None, re.Pattern[str], list[str]]


@cache
def _uk_plan() -> tuple[list[tuple[re.Pattern[str] | None, Desc, list[Desc]]], list[Layout]]:
    """libphonenumber's own metadata for +44 (GB, GG, IM, JE), compiled once: the rules that
    phonenumbers.is_valid_number and format_number apply, without parsing every number."""

    def desc(d: object) -> Desc | None:
        pattern = getattr(d, "national_number_pattern", None)
        lengths = frozenset(getattr(d, "possible_length", None) or ())
        return (lengths, re.compile(pattern)) if pattern else None

    def metadata(code: str) -> phonenumbers.PhoneMetadata:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(code)
        if meta is None:
            raise LookupError(f"phonenumbers has no metadata for {code}")
        return meta

    regions = []
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[44]:
        meta = metadata(code)
        general = desc(meta.general_desc)
        if general is not None:
            lead = re.compile(meta.leading_digits) if meta.leading_digits else None
            kinds = [d for d in (desc(getattr(meta, t)) for t in _TYPES) if d is not None]
            regions.append((lead, general, kinds))
    layouts: list[Layout] = []
    for rule in metadata("GB").number_format:
        leading = rule.leading_digits_pattern
        layout = str(rule.format)
        if rule.national_prefix_formatting_rule:  # "0\\1": as format_number does it
            layout = re.sub(r"(\\\d)", rule.national_prefix_formatting_rule, layout, count=1)
        lead = re.compile(leading[-1]) if leading else None
        pieces = re.split(r"\\(\d)", layout)  # literal, group number, literal ...
        layouts.append((lead, re.compile(str(rule.pattern)), pieces))
    return regions, layouts


def _matches(nsn: str, d: Desc) -> bool:
    return (not d[0] or len(nsn) in d[0]) and d[1].fullmatch(nsn) is not None


def _uk_national(nsn: str) -> str | None:
    """The national format of a +44 national significant number; None if it is not valid."""
    regions, layouts = _uk_plan()
    for lead, general, kinds in regions:  # the region the number belongs to, as phonenumbers
        typed = _matches(nsn, general) and any(_matches(nsn, k) for k in kinds)
        if (lead.match(nsn) is not None) if lead is not None else typed:
            if not typed:
                return None
            break
    else:
        return None
    for lead, pattern, pieces in layouts:
        if lead is None or lead.match(nsn):
            whole = pattern.fullmatch(nsn)
            if whole is not None:
                return "".join(whole.group(int(p)) if i % 2 else p for i, p in enumerate(pieces))
    return "0" + nsn


@lru_cache(maxsize=16384)
def clean_telephone(s: str | None, region: str = "GB") -> Cleaned:
    """A telephone number formatted the way its country writes it at home when it shares the
    region's country code ("02083960321" -> "020 8396 0321"), else internationally."""
    text = clean_text(s)
    if text is None:
        return None, None
    text = _LABEL.sub("", text)
    home = phonenumbers.country_code_for_region(region)
    uk = _UK.fullmatch(_PUNCTUATION.sub("", text)) if home == 44 else None
    if uk is not None:
        formatted = _uk_national(uk.group(1))
        return (formatted, None) if formatted else (None, _reason(text, region))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    note = None
    if number is None or not phonenumbers.is_valid_number(number):
        found = [m.number for m in phonenumbers.PhoneNumberMatcher(text, region)]
        if not found:
            return None, _reason(text, region)
        number = found[0]
        note = (
            f"{len(found)} numbers given; kept the first"
            if len(found) > 1
            else "kept the number, left out the words around it"
        )
    style = phonenumbers.PhoneNumberFormat
    layout = style.NATIONAL if number.country_code == home else style.INTERNATIONAL
    return phonenumbers.format_number(number, layout), note


def _reason(text: str, region: str) -> str:
    problem = telephone_problem(text)[0] if region == "GB" else ""
    return problem or _UNKNOWN_RANGE


_MAILTO = re.compile(r"^mailto:\s*", re.I)
_ADDRESS = re.compile(r"[^\s,;:<>()\[\]\"'/]+@[^\s,;:<>()\[\]\"'/]+")


@lru_cache(maxsize=16384)  # a register repeats its secretaries' addresses
def clean_email(s: str | None) -> Cleaned:
    """An email address without "mailto:", with its domain in lower case, checked with the
    validator's own pattern; the first address when several are given."""
    text = clean_text(s)
    if text is None:
        return None, None
    text = _MAILTO.sub("", text)
    if text[:1] != "?":
        text = text.split("?", 1)[0]  # mailto:a@b.org?subject=...
    found = _ADDRESS.findall(text)
    if not found:
        return None, "it has no @, so it is not an email address."
    before = text[: text.index(found[0])]
    if before.endswith(" ") and before.rstrip()[-1:].isalnum():  # "john smith@club.org"
        return None, "it has a space in it, so it is not one email address."
    local, _, domain = found[0].rstrip(".").rpartition("@")
    address = f"{local}@{domain.lower()}"
    if not EMAIL_PATTERN.match(address):
        return None, "it is not a valid email address."
    if len(found) > 1:
        return address, f"{len(found)} addresses given; kept the first"
    if found[0].rstrip(".") != text.strip(" <>()[]\"'.,;:"):
        return address, "kept the address, left out the words around it"
    return address, None


_HTTP = re.compile(r"^(https?)(?::/{0,3}|/{1,3})(?=[^/])", re.I)
_OTHER_SCHEME = re.compile(r"(?:mailto|tel|javascript):", re.I)
_AUTHORITY = re.compile(r"(https?://)([^/?#]*)(.*)", re.S)
_DOUBLED = re.compile(r"^(?:https?:/*)+(?=https?:)", re.I)
_HOST = re.compile(r"^(?:[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)$")


@lru_cache(maxsize=16384)  # and its websites, one per row of a club with several places
def clean_url(s: str | None) -> Cleaned:
    """A web address with a scheme ("https://" added when missing; http kept as given).
    Spaces are refused before the path and written %20 in it."""
    text = clean_text(s)
    if text is None:
        return None, None
    text = _DOUBLED.sub("", text.strip("<>\"' ").rstrip(".,;"))  # "http://https://..."
    notes = []
    scheme = _HTTP.match(text)
    if scheme is not None:
        text = scheme.group(1).lower() + "://" + text[scheme.end() :]
    elif "://" in text or _OTHER_SCHEME.match(text):
        return None, f"it is not a web address ({text.partition(':')[0]}:)."
    elif "@" in text.partition("/")[0]:
        return None, "it looks like an email address, not a web address."
    else:
        text = "https://" + text.lstrip("/")
        notes.append("added https:// (no scheme was given)")
    if " " in text:
        path = text.find("/", text.index("://") + 3)
        if path < 0 or " " in text[:path]:
            return None, "it contains spaces, so it is not a web address."
        text = text[:path] + text[path:].replace(" ", "%20")
        notes.append("spaces in the path written %20")
    found = _AUTHORITY.match(text)  # text starts with http:// or https:// by now
    netloc = found.group(2).lower() if found else ""
    if not found or not _HOST.match(netloc.rpartition("@")[2].partition(":")[0].rstrip(".")):
        return None, "it has no domain name with a dot in it."
    return found.group(1) + netloc + found.group(3), "; ".join(notes) or None


# kind -> (profile base, hosts, handle pattern, first path segments that are not profiles)
_SOCIAL: dict[str, tuple[str, tuple[str, ...], re.Pattern[str], frozenset[str]]] = {
    "facebook": (
        "https://www.facebook.com/",
        ("facebook.com", "facebook.co.uk", "fb.com", "fb.me"),
        re.compile(r"[\w.\-]{2,80}"),
        frozenset("sharer sharer.php share.php login dialog plugins home.php".split()),
    ),
    "twitter": (
        "https://twitter.com/",
        ("twitter.com", "x.com"),
        re.compile(r"\w{1,15}"),
        frozenset("search hashtag intent share home i login explore settings".split()),
    ),
    "instagram": (
        "https://www.instagram.com/",
        ("instagram.com", "instagr.am"),
        re.compile(r"[\w.]{1,30}"),
        frozenset("p explore reel reels stories accounts tv".split()),
    ),
}
_KINDS = {"x": "twitter", "fb": "facebook", "ig": "instagram", "insta": "instagram"}


def social_url(kind: str, s: str | None) -> str | None:
    """The profile URL for a facebook, twitter (or x) or instagram column holding a handle
    ("@greenwichYC", "greenwichYC") or a URL; None when it is neither."""
    key = _KINDS.get(kind.casefold(), kind.casefold())
    if key not in _SOCIAL:
        raise ValueError(f"unknown social network {kind!r}: use one of {sorted(_SOCIAL)}")
    base, hosts, handle, reserved = _SOCIAL[key]
    text = clean_text(s)
    if text is None:
        return None
    text = _DOUBLED.sub("", text.strip("<>\"'"))
    lower = text.casefold()
    if "/" not in text and not lower.startswith("www.") and not any(h in lower for h in hosts):
        name = text.removeprefix("@")
        return base + name if handle.fullmatch(name) else None
    parts = urlsplit(text if "://" in text else "https://" + text.lstrip("/"))
    host = parts.hostname or ""
    if not any(host == h or host.endswith("." + h) for h in hosts):
        return None
    path = parts.path
    if path.strip("/") == "" and parts.fragment.startswith("!/"):
        path = parts.fragment[1:]  # twitter.com/#!/handle
    segments = [p.removeprefix("@") for p in path.split("/") if p]
    if not segments or segments[0].casefold() in reserved:
        return None
    if key == "facebook":
        if segments[0] == "profile.php":
            ids = parse_qs(parts.query).get("id")
            return f"{base}profile.php?id={ids[0]}" if ids else None
        return base + "/".join(segments)
    return base + segments[0] if handle.fullmatch(segments[0]) else None
