"""Shared pieces of the rules: the issue collector, JSONPath building and value checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import Any

from openclubs.validate.report import Issue, make_issue

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HTML = re.compile(r"<\s*(/?[a-zA-Z][a-zA-Z0-9]*)(\s[^<>]*)?/?>|&(?:[a-z]+|#[0-9]+);")
_URL = re.compile(
    r"^https?://[^\s/?#]+\.[^\s/?#]+[^\s]*$|^https?://(?:localhost|[\d.]+)(?::\d+)?(?:[/?#]\S*)?$"
)
_SUFFIX: dict[str, str] = {}


def plain_text(value: str) -> bool:
    """Text that needs no closer look: not empty, no white space (str.isspace) at either end,
    no line break, no < or &. Plain string tests rather than a regular expression: this runs
    on nearly every text of every record, and in compiled code they cost a fifth as much."""
    return (
        value != ""
        and not value[0].isspace()
        and not value[-1].isspace()
        and "<" not in value
        and "&" not in value
        and "\n" not in value
    )


def child(path: str, key: str) -> str:
    """The JSONPath of member `key` of the node at `path` (bracket form for '@id' etc.)."""
    suffix = _SUFFIX.get(key)
    if suffix is None:
        suffix = f".{key}" if _IDENT.match(key) else "['" + key.replace("'", "\\'") + "']"
        if len(_SUFFIX) < 4096:
            _SUFFIX[key] = suffix
    return path + suffix


# Issues already made, by (type, path, parameter names and values). Register rows repeat the
# same few warnings (`description` missing at `$.description` ...) thousands of times, and an
# Issue is immutable, so one object serves them all instead of a message formatted each time.
_ISSUES: dict[tuple[str, ...], Issue] = {}
ISSUE_CACHE_SIZE = 4096


class Collector:
    """Collects the issues of one record."""

    __slots__ = ("issues",)

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, type_: str, path: str, **params: Any) -> None:
        """Add an issue of a catalogued type; its message is the template filled with
        `params`. Issues whose parameters are all texts are shared (see _ISSUES); a number is
        not a safe key (1 == 1.0 == True, yet each is written differently)."""
        parts = [type_, path]
        for name, value in params.items():
            if value.__class__ is not str:
                self.issues.append(make_issue(type_, path, **params))
                return
            parts.append(name)
            parts.append(value)
        key = tuple(parts)
        issue = _ISSUES.get(key)
        if issue is None:
            issue = make_issue(type_, path, **params)
            if len(_ISSUES) >= ISSUE_CACHE_SIZE:
                _ISSUES.clear()
            _ISSUES[key] = issue
        self.issues.append(issue)

    def missing(self, type_: str, path: str, prop: str, owner: str, name: str, text: str) -> None:
        """A missing property (missing_required_property with a `hint`, or
        missing_recommended_property with a `why`): what `add` would make, without building
        its keyword arguments each time. Register rows lack the same properties again and
        again; the key is the one `add` uses, so the two share their issues."""
        key = (type_, path, "prop", prop, "owner", owner, name, text)
        issue = _ISSUES.get(key)
        if issue is None:
            params = {"prop": prop, "owner": owner, name: text}
            issue = make_issue(type_, path, **params)
            if len(_ISSUES) >= ISSUE_CACHE_SIZE:
                _ISSUES.clear()
            _ISSUES[key] = issue
        self.issues.append(issue)


def describe(value: Any) -> str:
    """A short description of a JSON value for messages: kind and (shortened) content."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        kind = value.get("@type") or value.get("type")
        return f"a {kind} object" if isinstance(kind, str) else "an object"
    return type(value).__name__


def quote(text: str, limit: int = 60) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return '"' + shown.replace("\r", "\\r").replace("\n", "\\n") + '"'


def node_type(node: dict[str, Any]) -> Any:
    value = node.get("@type")
    return node.get("type") if value is None else value


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def is_url(value: str) -> bool:
    """An absolute http(s) URL (_URL). The usual shape, a host with a dot and no white space
    anywhere, is recognised by plain string tests, which answer exactly as _URL would; only
    the rest is left to the regular expression, whose backtracking costs more."""
    if value.startswith("https://"):
        start = 8
    elif value.startswith("http://"):
        start = 7
    else:
        return False  # both of _URL's alternatives begin with http:// or https://
    dot = value.find(".", start)
    end = dot + 2  # the host's first dot and one character after it
    if (
        dot > start
        and end <= len(value)
        and value.isascii()
        and value.isprintable()  # ASCII and printable: nothing below a space ...
        and " " not in value  # ... and no space: no white space at all
        and value.find("/", start, end) < 0
        and value.find("?", start, end) < 0
        and value.find("#", start, end) < 0
    ):
        return True
    return bool(_URL.match(value))


def check_keywords(ctx: Collector, node: dict[str, Any], path: str) -> None:
    """`type`/`id` written instead of `@type`/`@id` (the OpenActive context aliases them)."""
    if "type" not in node and "id" not in node:
        return
    for key in ("type", "id"):
        if key in node and "@" + key not in node:
            ctx.add("keyword_without_at", child(path, key), prop=key)


def check_text(ctx: Collector, value: Any, path: str, prop: str, html: bool = True) -> bool:
    """A plain-text value: a non-empty string without HTML or stray white space."""
    if type(value) is str and plain_text(value):
        return True  # the common case, decided by one regular expression
    if not isinstance(value, str):
        ctx.add("invalid_type", path, prop=prop, expected="text", actual=describe(value))
        return False
    if not value or value.isspace():
        ctx.add("empty_value", path, prop=prop, actual=quote(value))
        return False
    if value[0].isspace() or value[-1].isspace() or "\n" in value:
        ctx.add("untidy_whitespace", path, prop=prop, value=quote(value))
    if html and ("<" in value or "&" in value):
        match = _HTML.search(value)
        if match:
            ctx.add("html_in_text", path, prop=prop, tag=f"`{match.group(0)[:30]}`")
    return True


def check_texts(ctx: Collector, value: Any, path: str, prop: str) -> None:
    """Text or a list of texts (alternateName, member ...)."""
    if isinstance(value, list):
        if not value:
            ctx.add("empty_value", path, prop=prop, actual="[]")
        for i, entry in enumerate(value):
            check_text(ctx, entry, f"{path}[{i}]", prop)
    else:
        check_text(ctx, value, path, prop)


def check_url(ctx: Collector, value: Any, path: str, prop: str) -> bool:
    if not isinstance(value, str):
        ctx.add("invalid_type", path, prop=prop, expected="a URL (text)", actual=describe(value))
        return False
    if value == "":
        ctx.add("empty_value", path, prop=prop, actual='""')
        return False
    if not is_url(value):
        hint = ""
        if "://" not in value and "." in value and " " not in value.strip():
            hint = f' Add the scheme: "https://{value.strip()}".'
        ctx.add("invalid_url", path, prop=prop, value=quote(value), hint=hint)
        return False
    return True


def check_urls(ctx: Collector, value: Any, path: str, prop: str) -> list[str]:
    """A URL or a list of URLs (sameAs); returns the good ones."""
    good: list[str] = []
    if isinstance(value, list):
        if not value:
            ctx.add("empty_value", path, prop=prop, actual="[]")
        for i, entry in enumerate(value):
            if check_url(ctx, entry, f"{path}[{i}]", prop):
                good.append(entry)
    elif check_url(ctx, value, path, prop):
        good.append(value)
    return good


def check_type(
    ctx: Collector, node: dict[str, Any], path: str, expected: str, accepted: frozenset[str]
) -> str | None:
    """The node's @type: missing or not among `accepted` is reported. Returns the type."""
    kind = node.get("@type")
    if kind.__class__ is str and kind in accepted:
        return str(kind)
    if kind is None:
        kind = node.get("type")
    if kind is None:
        ctx.add("missing_type", path, expected=expected)
        return None
    if isinstance(kind, list):
        kinds = [k for k in kind if isinstance(k, str)]
        kind = next((k for k in kinds if k in accepted), kinds[0] if kinds else None)
    if not isinstance(kind, str) or kind not in accepted:
        ctx.add(
            "unrecognised_type",
            child(path, "@type"),
            value=describe(node_type(node)),
            expected=f'"{expected}"',
        )
        return None
    return kind


def check_id(ctx: Collector, node: dict[str, Any], path: str, owner: str) -> None:
    value = node.get("@id", node.get("id"))
    if value is None:
        return
    if not isinstance(value, str) or not is_url(value):
        ctx.add("invalid_id", child(path, "@id"), owner=owner, value=describe(value))


def unknown_properties(
    ctx: Collector, node: dict[str, Any], path: str, known: frozenset[str], owner: str
) -> None:
    if node.keys() <= known:
        return
    for key in node:
        if key not in known:
            ctx.add("property_not_in_club_spec", child(path, key), prop=key, owner=owner)


NodeCheck = Callable[[Collector, dict[str, Any], str], None]
_MEMO: dict[Hashable, tuple[Issue, ...]] = {}
MEMO_SIZE = 8192


def memoised(
    check: NodeCheck, ctx: Collector, node: dict[str, Any], path: str, *also: Hashable
) -> None:
    """Run `check` on a flat object once per distinct content (the same Concept or amenity
    recurs in thousands of records), re-rooting the remembered issues at `path`. `also` adds
    what else the verdict depends on (e.g. the Activity List in use).

    Only objects whose values are all texts, true/false or null are remembered: the key is
    their names and values in order (order matters: it is the order of the issues). A number
    is no safe key (1 == 1.0 == True, yet `"value": 1` is wrong where `true` is right, and
    each is described differently), nor is a nested value; such objects are checked
    directly."""
    parts: list[Any] = [check, also]
    for name, value in node.items():
        if (
            value.__class__ is not str
            and value is not True
            and value is not False
            and value is not None
        ):
            check(ctx, node, path)
            return
        parts.append(name)
        parts.append(value)
    key = tuple(parts)
    issues = _MEMO.get(key)
    if issues is None:
        fresh = Collector()
        check(fresh, node, "$")
        issues = tuple(fresh.issues)
        if len(_MEMO) >= MEMO_SIZE:
            _MEMO.clear()
        _MEMO[key] = issues
    for issue in issues:
        ctx.issues.append(
            Issue(
                issue.severity,
                issue.category,
                issue.type,
                path + issue.path[1:],
                issue.message,
                issue.file,
                issue.line,
                issue.column,
                issue.item,
            )
        )
