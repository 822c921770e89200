"""Organization, SportsClub and SportsOrganization (Club Spec 0.2 §3.1) and the JSON-LD
keywords of a record's root."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openclubs.validate.rules.activity import check_activities
from openclubs.validate.rules.address import check_postal_address
from openclubs.validate.rules.common import (
    Collector,
    check_id,
    check_keywords,
    check_text,
    check_texts,
    check_url,
    check_urls,
    child,
    describe,
    is_empty,
    is_url,
    node_type,
    quote,
)
from openclubs.validate.rules.contact import check_email, check_telephone
from openclubs.validate.rules.place import check_image, check_location

CLUB_TYPES = frozenset({"Organization", "SportsClub", "SportsOrganization"})
# schema.org kinds of Organization a club or governing body may reasonably be.
OTHER_ORG_TYPES = frozenset(
    """SportsTeam NGO EducationalOrganization School CollegeOrUniversity LocalBusiness
    SportsActivityLocation HealthClub ExerciseGym GovernmentOrganization Corporation
    Consortium OnlineBusiness""".split()
)
OA_CONTEXT = "https://openactive.io/"
_KNOWN = frozenset(
    """@context @type type @id id name description url sameAs activity location email
    telephone logo alternateName genderRestriction ageRange memberOf member identifier
    legalName address""".split()
)
CONTACT_ROUTES = ("url", "sameAs", "email", "telephone")
GENDER = (
    "https://openactive.io/NoRestriction",
    "https://openactive.io/MaleOnly",
    "https://openactive.io/FemaleOnly",
)
_GENDER_HINTS = {
    "mixed": GENDER[0],
    "none": GENDER[0],
    "norestriction": GENDER[0],
    "all": GENDER[0],
    "male": GENDER[1],
    "men": GENDER[1],
    "maleonly": GENDER[1],
    "boys": GENDER[1],
    "female": GENDER[2],
    "women": GENDER[2],
    "ladies": GENDER[2],
    "femaleonly": GENDER[2],
    "girls": GENDER[2],
}
_REQUIRED_HINTS = {
    "name": " Add the club's name.",
    "activity": ' Add at least one activity, e.g. [{"@type": "Concept", "@id": '
    '"https://openactive.io/activity-list#d2733a1c-662c-427a-a270-400171c07320", '
    '"prefLabel": "Rowing", "inScheme": "https://openactive.io/activity-list"}].',
    "location": " Add where the club's activities take place: a Place with a name, a "
    "PostalAddress and GeoCoordinates.",
}
_RECOMMENDED_WHY = {
    "description": "a short summary helps people decide whether the club suits them.",
    "url": "the club's website is where people go next.",
    "sameAs": "list the club's social media profiles.",
}


def check_context(ctx: Collector, record: dict[str, Any], path: str, inherited: Any) -> None:
    """The root's @context must name OpenActive's (the specification's examples)."""
    context = record.get("@context", inherited)
    if context == OA_CONTEXT:
        return  # the usual case, decided before any list is built
    if context is None:
        ctx.add("missing_context", path)
        return
    entries = context if isinstance(context, list) else [context]
    strings = [c for c in entries if isinstance(c, str)]
    if entries and entries[0] == OA_CONTEXT:
        return
    near = [
        c for c in strings if c.rstrip("/").split("://")[-1].removeprefix("www.") == "openactive.io"
    ]
    where = child(path, "@context")
    if near:
        ctx.add("context_not_https", where, value=quote(near[0]))
    else:
        ctx.add("context_not_openactive", where, value=describe(context))


def check_organization(ctx: Collector, record: dict[str, Any], path: str) -> None:
    """§3.1 Describing Organisations: name, activity and location REQUIRED; description, url
    and sameAs Recommended; the optional properties each of their own kind; and (footnote 1)
    at least one contact route."""
    kind = node_type(record)
    if kind is None:
        ctx.add("missing_type", path, expected="SportsClub")
    elif not (isinstance(kind, str) and kind in CLUB_TYPES):
        kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)]
        if any(k in CLUB_TYPES for k in kinds):
            pass
        elif any(k in OTHER_ORG_TYPES for k in kinds):
            ctx.add("type_not_in_club_spec", child(path, "@type"), value=describe(kind))
        else:
            hint = ' "Club" is not a schema.org type.' if kind == "Club" else ""
            ctx.add(
                "unrecognised_type",
                child(path, "@type"),
                value=describe(kind),
                expected='"Organization", "SportsClub" or "SportsOrganization"',
                hint=hint,
            )
    check_keywords(ctx, record, path)
    owner = kind if isinstance(kind, str) and kind in CLUB_TYPES else "Organization"
    if "@id" not in record and "id" not in record:
        ctx.add("missing_id", path, owner=owner)
    else:
        check_id(ctx, record, path, owner)
    for prop, hint in _REQUIRED_HINTS.items():
        if prop == "location" and "location" not in record and "address" in record:
            hint += (
                " This record has an `address`: the Club Specification puts the club's "
                "address in `location`."
            )
        if prop not in record:
            ctx.missing("missing_required_property", child(path, prop), prop, owner, "hint", hint)
    for prop, why in _RECOMMENDED_WHY.items():
        if prop not in record:
            ctx.missing("missing_recommended_property", child(path, prop), prop, owner, "why", why)
    if not any(not is_empty(record.get(route)) for route in CONTACT_ROUTES):
        ctx.add("no_contact_route", path)
    for key, value in record.items():
        handler = _HANDLERS.get(key)
        if handler is not None:
            where = _ROOT_MEMBERS[key] if path == "$" else f"{path}.{key}"
            handler(ctx, value, where, key)
        elif key not in _KNOWN:
            ctx.add("property_not_in_club_spec", child(path, key), prop=key, owner=owner)
    url, same_as = record.get("url"), record.get("sameAs")
    if isinstance(url, str) and same_as is not None:
        _repeats_url(ctx, same_as, f"{path}.sameAs", url)


def _repeats_url(ctx: Collector, value: Any, where: str, url: str) -> None:
    """sameAs entries that are the club's own `url` again (spec Examples 2 and 3 do this)."""
    home = _page_key(url)
    entries = enumerate(value) if isinstance(value, list) else [(None, value)]
    for i, same in entries:
        if isinstance(same, str) and _page_key(same) == home and is_url(same):
            at = where if i is None else f"{where}[{i}]"
            ctx.add("same_as_repeats_url", at, prop="sameAs", value=quote(same))


def _address(ctx: Collector, value: Any, where: str, key: str) -> None:
    if isinstance(value, dict):
        check_postal_address(ctx, value, where)


def _page_key(url: str) -> str:
    """What makes two URLs the same page here: no scheme, no www., no trailing slash, any case."""
    return url.partition("://")[2].removeprefix("www.").rstrip("/").lower()


def _check_gender(ctx: Collector, value: Any, path: str) -> None:
    if value in GENDER:
        return
    hint = ""
    if isinstance(value, str):
        meant = _GENDER_HINTS.get(value.strip().lower().split("/")[-1].removeprefix("oa:"))
        if meant:
            hint = f' {quote(value)} means "{meant}".'
    ctx.add("invalid_gender_restriction", path, value=describe(value), hint=hint)


def _check_age_range(ctx: Collector, value: Any, path: str) -> None:
    if not isinstance(value, dict):
        ctx.add(
            "invalid_type",
            path,
            prop="ageRange",
            expected="a QuantitativeValue object",
            actual=describe(value),
            hint=' Write {"@type": "QuantitativeValue", "minValue": 8, "maxValue": 16}.',
        )
        return
    kind = node_type(value)
    if kind is None:
        ctx.add("missing_type", path, expected="QuantitativeValue")
    elif kind != "QuantitativeValue":
        ctx.add(
            "unrecognised_type",
            child(path, "@type"),
            value=describe(kind),
            expected='"QuantitativeValue"',
        )
    bounds: dict[str, int | float] = {}
    for key in ("minValue", "maxValue"):
        if key not in value:
            continue
        number = value[key]
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            ctx.add(
                "invalid_type",
                child(path, key),
                prop=key,
                expected="a whole number of years",
                actual=describe(number),
            )
        elif number < 0:
            ctx.add(
                "invalid_age_range",
                child(path, key),
                prop=key,
                detail=f"is {number}: an age cannot be negative.",
            )
        else:
            bounds[key] = number
    if "minValue" not in value and "maxValue" not in value:
        ctx.add(
            "invalid_age_range",
            path,
            prop="ageRange",
            detail="has neither minValue nor maxValue; give at least one, or leave ageRange out.",
        )
    elif len(bounds) == 2 and bounds["minValue"] > bounds["maxValue"]:
        ctx.add(
            "invalid_age_range",
            path,
            prop="ageRange",
            detail=f"runs from {bounds['minValue']} to {bounds['maxValue']}: "
            "minValue must not be greater than maxValue.",
        )


def _check_membership(ctx: Collector, value: Any, path: str, prop: str) -> None:
    """memberOf: "The Organisation Id" of e.g. the National Governing Body; member: the ids of
    affiliated organisations. A name is accepted but noted; an Organization object is fine."""
    entries = (
        [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        if isinstance(value, list)
        else [(path, value)]
    )
    for where, entry in entries:
        if isinstance(entry, dict):
            ref = entry.get("@id", entry.get("id"))
            if ref is not None and not (isinstance(ref, str) and is_url(ref)):
                ctx.add("invalid_id", child(where, "@id"), owner=prop, value=describe(ref))
        elif check_text(ctx, entry, where, prop) and not is_url(entry):
            ctx.add("member_of_not_id", where, prop=prop, value=quote(entry))


# Each handler takes (collector, value, JSONPath, property name).
Handler = Callable[[Collector, Any, str, str], object]
_HANDLERS: dict[str, Handler] = {
    "name": check_text,
    "description": check_text,
    "url": check_url,
    "sameAs": check_urls,
    "activity": check_activities,
    "location": check_location,
    "email": check_email,
    "telephone": check_telephone,
    "logo": check_image,
    "alternateName": check_texts,
    "genderRestriction": lambda ctx, v, w, k: _check_gender(ctx, v, w),
    "ageRange": lambda ctx, v, w, k: _check_age_range(ctx, v, w),
    "address": _address,
    "memberOf": _check_membership,
    "member": _check_membership,
}
# "$.name" ...: the paths of a top-level record's members, made once rather than per record.
_ROOT_MEMBERS = {key: f"$.{key}" for key in _HANDLERS}
