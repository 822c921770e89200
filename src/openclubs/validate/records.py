"""Finding the club records inside a JSON document: one object, an array, an RPDE page (each
item's `data`), a JSON-LD `@graph`, or the Modelling Opportunity Data 2.1 `Organizer`
wrapper."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from openclubs.model.kinds import OPPORTUNITY_TYPES

_RPDE_ITEM_KEYS = frozenset({"data", "state", "kind", "id", "modified"})


class Found:
    """A record, where it is (JSONPath), its RPDE item id, and the @context around it.
    (A plain class: compiled, it is made several times quicker than a dataclass.)"""

    def __init__(
        self,
        record: Any,
        path: str,
        item: str | None = None,
        context: Any = None,
        wrapped: bool = False,
    ) -> None:
        self.record = record
        self.path = path
        self.item = item
        self.context = context
        self.wrapped = wrapped


def find_records(value: Any, path: str = "$", context: Any = None) -> Iterator[Found]:
    if isinstance(value, list):
        for i, entry in enumerate(value):
            yield from find_records(entry, f"{path}[{i}]", context)
        return
    if not isinstance(value, dict):
        yield Found(value, path, context=context)
        return
    items = value.get("items")
    if isinstance(items, list) and ("next" in value or "license" in value):
        yield from _rpde_items(items, path, context)
        return
    if isinstance(value.get("data"), dict) and value.keys() <= _RPDE_ITEM_KEYS:
        yield from _rpde_items([value], path, context, single=True)
        return
    graph = value.get("@graph")
    if isinstance(graph, list):
        yield from find_records(graph, f"{path}['@graph']", value.get("@context", context))
        return
    kind = value.get("@type", value.get("type"))
    organizers = value.get("organizer")
    if kind == "Organizer" and isinstance(organizers, (list, dict)):
        inner = value.get("@context", context)
        entries = organizers if isinstance(organizers, list) else [organizers]
        for i, entry in enumerate(entries):
            where = (
                f"{path}.organizer[{i}]" if isinstance(organizers, list) else f"{path}.organizer"
            )
            yield Found(entry, where, context=inner, wrapped=True)
        return
    yield Found(value, path, context=context)


def _rpde_items(items: list[Any], path: str, context: Any, single: bool = False) -> Iterator[Found]:
    """The `data` of every updated item of an RPDE page (or of one item given alone)."""
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        if item.get("state") == "deleted" or "data" not in item:
            continue
        item_id = item.get("id")
        yield Found(
            item["data"],
            f"{path}.items[{i}].data",
            item=None if item_id is None else str(item_id),
            context=context,
        )


CLUB_LIKE_PROPERTIES = (
    "activity",
    "location",
    "address",
    "geo",
    "organizer",
    "sameAs",
    "email",
    "telephone",
    "memberOf",
)


def is_other_thing(record: dict[str, Any]) -> bool:
    """A typed object that is plainly not a club record (a WebSite, a BreadcrumbList ...):
    its @type names no kind of organisation and it has none of a club's properties."""
    kind = record.get("@type", record.get("type"))
    if not isinstance(kind, str) or "Organization" in kind or "Club" in kind:
        return False
    return not any(prop in record for prop in CLUB_LIKE_PROPERTIES)


def is_opportunity(record: dict[str, Any]) -> bool:
    kind = record.get("@type", record.get("type"))
    return isinstance(kind, str) and kind in OPPORTUNITY_TYPES
