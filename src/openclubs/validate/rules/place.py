"""Place, its images and amenities (Club Spec 0.2 §3.3), and the club's `location`."""

from __future__ import annotations

import re
from typing import Any

from openclubs.validate.rules.address import check_geo, check_postal_address
from openclubs.validate.rules.common import (
    Collector,
    check_id,
    check_keywords,
    check_text,
    check_type,
    check_url,
    child,
    describe,
    memoised,
    node_type,
    quote,
    unknown_properties,
)
from openclubs.validate.rules.contact import check_email, check_telephone

PLACE_TYPES = frozenset({"Place", "SportsActivityLocation", "StadiumOrArena", "CivicStructure"})
_PLACE_KNOWN = frozenset(
    """@type type @id id name address geo description image url identifier containedInPlace
    containsPlace telephone openingHoursSpecification amenityFeature""".split()
)
# OpenActive's amenity types are subclasses of schema:LocationFeatureSpecification.
AMENITY_TYPES = frozenset(
    """LocationFeatureSpecification ChangingFacilities Showers Lockers Towels Creche Parking
    Toilets BabyChanging""".split()
)
_IMAGE_TYPES = frozenset({"ImageObject"})
_OPENING_TYPES = frozenset({"OpeningHoursSpecification"})
_COORDINATES = re.compile(r"^\s*-?\d{1,3}\.\d+\s*,\s*-?\d{1,3}\.\d+\s*$")
_ADDRESS_KEYS = ("streetAddress", "postalCode", "addressLocality")
MAX_DEPTH = 4


def check_location(ctx: Collector, value: Any, path: str, prop: str = "location") -> None:
    """§3.1 location: "schema:Place or array of schema:Place, schema: address, String"."""
    if isinstance(value, str):
        if check_text(ctx, value, path, "location"):
            ctx.add("location_as_text", path, value=quote(value))
    elif isinstance(value, list):
        if not value:
            ctx.add("empty_value", path, prop="location", actual="[]")
        for i, place in enumerate(value):
            where = f"{path}[{i}]"
            if isinstance(place, dict):
                check_place_or_address(ctx, place, where)
            else:
                ctx.add(
                    "invalid_type",
                    where,
                    prop="location",
                    expected="a Place object",
                    actual=describe(place),
                )
    elif isinstance(value, dict):
        check_place_or_address(ctx, value, path)
    else:
        ctx.add(
            "invalid_type",
            path,
            prop="location",
            expected="a Place object, a list of Places, a PostalAddress or text",
            actual=describe(value),
        )


def check_place_or_address(ctx: Collector, node: dict[str, Any], path: str) -> None:
    kind = node_type(node)
    if kind == "PostalAddress" or (kind is None and any(k in node for k in _ADDRESS_KEYS)):
        check_postal_address(ctx, node, path)
    else:
        check_place(ctx, node, path)


def check_place(ctx: Collector, node: dict[str, Any], path: str, depth: int = 0) -> None:
    """§3.3: name REQUIRED; address and geo Recommended; the rest Optional."""
    check_type(ctx, node, path, "Place", PLACE_TYPES)
    check_keywords(ctx, node, path)
    check_id(ctx, node, path, "Place")
    if "name" not in node:
        ctx.missing(
            "missing_required_property",
            child(path, "name"),
            "name",
            "Place",
            "hint",
            " Name the venue (e.g. the ground, hall or club house).",
        )
    elif check_text(ctx, node["name"], child(path, "name"), "name") and _is_coordinates(
        node["name"]
    ):
        ctx.add("place_name_is_coordinates", child(path, "name"), value=quote(node["name"]))
    address = node.get("address")
    if address is None and "address" not in node:
        ctx.missing(
            "missing_recommended_property",
            child(path, "address"),
            "address",
            "Place",
            "why",
            "people search by postcode and town.",
        )
    elif isinstance(address, dict):
        check_postal_address(ctx, address, child(path, "address"))
    elif isinstance(address, str):
        if check_text(ctx, address, child(path, "address"), "address"):
            ctx.add("address_as_text", child(path, "address"), prop="address", value=quote(address))
    else:
        ctx.add(
            "invalid_type",
            child(path, "address"),
            prop="address",
            expected="a PostalAddress object or text",
            actual=describe(address),
        )
    geo = node.get("geo")
    if geo is None and "geo" not in node:
        ctx.missing(
            "missing_recommended_property",
            child(path, "geo"),
            "geo",
            "Place",
            "why",
            "most club finders need latitude and longitude to map and sort by distance.",
        )
    elif isinstance(geo, dict):
        check_geo(ctx, geo, child(path, "geo"))
    else:
        ctx.add(
            "invalid_type",
            child(path, "geo"),
            prop="geo",
            expected="a GeoCoordinates object",
            actual=describe(geo),
        )
    _check_optional(ctx, node, path, depth)
    unknown_properties(ctx, node, path, _PLACE_KNOWN, "Place")


def _is_coordinates(name: str) -> bool:
    """A name like "51.4955, 0.0185". Nearly every name lacks a comma or a dot, which _COORDINATES
    needs, and testing for them first spares the regular expression."""
    return "," in name and "." in name and _COORDINATES.match(name) is not None


def _check_optional(ctx: Collector, node: dict[str, Any], path: str, depth: int) -> None:
    for key, value in node.items():
        where = child(path, key) if key[:1] == "@" else f"{path}.{key}"
        if key == "description":
            check_text(ctx, value, where, key)
        elif key == "url":
            check_url(ctx, value, where, key)
        elif key == "telephone":
            check_telephone(ctx, value, where)
        elif key == "email":
            check_email(ctx, value, where)
        elif key == "identifier" and not isinstance(value, (str, int, dict)):
            ctx.add(
                "invalid_type",
                where,
                prop=key,
                expected="text, a number or a PropertyValue",
                actual=describe(value),
            )
        elif key == "image":
            for i, image in _as_list(ctx, value, where, key):
                check_image(ctx, image, i)
        elif key == "amenityFeature":
            for i, feature in _as_list(ctx, value, where, key):
                if isinstance(feature, dict):
                    memoised(check_amenity, ctx, feature, i)
                else:
                    check_amenity(ctx, feature, i)
        elif key == "openingHoursSpecification":
            for i, spec in _as_list(ctx, value, where, key):
                if isinstance(spec, dict):
                    check_type(ctx, spec, i, "OpeningHoursSpecification", _OPENING_TYPES)
                else:
                    ctx.add(
                        "invalid_type", i, prop=key, expected="an object", actual=describe(spec)
                    )
        elif key in ("containedInPlace", "containsPlace") and depth < MAX_DEPTH:
            places = (
                [(where, value)]
                if isinstance(value, dict)
                else list(_as_list(ctx, value, where, key))
            )
            for i, place in places:
                if isinstance(place, dict):
                    check_place(ctx, place, i, depth + 1)
                else:
                    ctx.add(
                        "invalid_type",
                        i,
                        prop=key,
                        expected="a Place object",
                        actual=describe(place),
                    )


def _as_list(ctx: Collector, value: Any, path: str, prop: str) -> list[tuple[str, Any]]:
    """The entries of an "Array of ..." property; a lone object is read as a list of one."""
    if isinstance(value, list):
        if not value:
            ctx.add("empty_value", path, prop=prop, actual="[]")
        return [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    if isinstance(value, dict):
        ctx.add(
            "invalid_type",
            path,
            prop=prop,
            expected="a list",
            actual="a single object",
            hint=" Put it inside [ ].",
        )
        return [(path, value)]
    ctx.add("invalid_type", path, prop=prop, expected="a list of objects", actual=describe(value))
    return []


def check_image(ctx: Collector, node: Any, path: str, prop: str = "image") -> None:
    """An ImageObject with an absolute `url` (logo, image)."""
    if isinstance(node, str):
        hint = f' Write {{"@type": "ImageObject", "url": {quote(node, 200)}}}.'
        ctx.add(
            "invalid_type",
            path,
            prop=prop,
            expected="an ImageObject",
            actual=describe(node),
            hint=hint,
        )
        return
    if not isinstance(node, dict):
        ctx.add("invalid_type", path, prop=prop, expected="an ImageObject", actual=describe(node))
        return
    check_type(ctx, node, path, "ImageObject", _IMAGE_TYPES)
    if "url" not in node:
        ctx.add(
            "missing_required_property",
            child(path, "url"),
            prop="url",
            owner="ImageObject",
            hint=" Give the address of the image.",
        )
    else:
        check_url(ctx, node["url"], child(path, "url"), "url")


def check_amenity(ctx: Collector, node: Any, path: str) -> None:
    """A LocationFeatureSpecification (or an OpenActive amenity type) with a boolean value."""
    if not isinstance(node, dict):
        ctx.add(
            "invalid_type",
            path,
            prop="amenityFeature",
            expected="a LocationFeatureSpecification object",
            actual=describe(node),
        )
        return
    check_type(ctx, node, path, "LocationFeatureSpecification", AMENITY_TYPES)
    if "name" in node:
        check_text(ctx, node["name"], child(path, "name"), "name")
    value = node.get("value")
    if not isinstance(value, bool):
        ctx.add(
            "invalid_type",
            child(path, "value"),
            prop="value",
            expected="true or false",
            actual=describe(value),
        )
