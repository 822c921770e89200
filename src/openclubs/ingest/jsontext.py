"""Lenient JSON: strict parsing first; on failure, repair of the defects people really make
(an invalid escape such as ``\\#``, a trailing comma, a missing or stray bracket), each one
reported with its line and column; and a locator that maps JSONPaths back to lines.

Repairs keep the text's line structure, so lines found in the repaired text are the lines of
the original.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from openclubs.validate.report import Issue, make_issue

_VALID_ESCAPES = frozenset('"\\/bfnrtu')
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_PAIRS = {"{": "}", "[": "]"}
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(slots=True)
class ParsedJson:
    """The value (None when it could not be read), the syntax issues, and the text read."""

    value: Any
    issues: list[Issue] = field(default_factory=list)
    text: str = ""
    ok: bool = True


def parse_json(text: str, first_line: int = 1) -> ParsedJson:
    """Parse `text`; `first_line` is the line of the file on which `text` starts."""
    text = text.removeprefix("\ufeff")
    try:
        return ParsedJson(orjson.loads(text), text=text)
    except orjson.JSONDecodeError:
        pass
    repaired, fixes = _repair(text, first_line)
    try:
        value = json.loads(repaired)
    except json.JSONDecodeError as err:
        where = json.JSONDecodeError(err.msg, repaired, err.pos)
        detail = err.msg if repaired.strip() else "the text is empty"
        issue = make_issue(
            "json_syntax_error",
            "$",
            detail=detail,
            line=where.lineno + first_line - 1,
            column=where.colno,
        )
        return ParsedJson(
            None, [_at(issue, where.lineno + first_line - 1, where.colno)], text, ok=False
        )
    return ParsedJson(value, fixes, repaired)


def _at(issue: Issue, line: int, column: int) -> Issue:
    return Issue(
        issue.severity,
        issue.category,
        issue.type,
        issue.path,
        issue.message,
        line=line,
        column=column,
    )


def _repair(text: str, first_line: int) -> tuple[str, list[Issue]]:
    out: list[str] = []
    fixes: list[Issue] = []
    stack: list[tuple[str, int, int]] = []
    line, col = first_line, 0
    last_sig = -1  # index in `out` of the last significant character outside strings
    last_pos = (line, col)  # and where it stands in the text
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        if in_string:
            if ch == "\\" and i + 1 < n:
                nxt = text[i + 1]
                if nxt == "u" and not _HEX4.match(text, i + 2):
                    nxt = "u"  # "C:\\users": \u without four hex digits is no escape
                    out.append(nxt)
                    fixes.append(_at(make_issue("json_invalid_escape", "$", char=nxt), line, col))
                elif nxt in _VALID_ESCAPES:
                    out.append(ch + nxt)
                else:
                    out.append(nxt)
                    fixes.append(_at(make_issue("json_invalid_escape", "$", char=nxt), line, col))
                i, col = i + 2, col + 1
                continue
            if ch == '"':
                in_string = False
            out.append(ch)
            i += 1
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append((ch, line, col))
        elif ch in "}]":
            if last_sig >= 0 and out[last_sig] == ",":
                out[last_sig] = " "
                fixes.append(_at(make_issue("json_trailing_comma", "$", closer=ch), *last_pos))
            if stack and _PAIRS[stack[-1][0]] == ch:
                stack.pop()
            elif any(_PAIRS[opener] == ch for opener, _, _ in stack):
                while _PAIRS[stack[-1][0]] != ch:
                    opener, oline, _ = stack.pop()
                    out.append(_PAIRS[opener])
                    fixes.append(
                        _at(
                            make_issue(
                                "json_unclosed_bracket",
                                "$",
                                opener=opener,
                                open_line=oline,
                                closer=_PAIRS[opener],
                                where=f"before this `{ch}`",
                            ),
                            line,
                            col,
                        )
                    )
                stack.pop()
            else:
                fixes.append(_at(make_issue("json_stray_bracket", "$", closer=ch), line, col))
                i += 1
                out.append(" ")
                continue
        if not ch.isspace():
            last_sig, last_pos = len(out), (line, col)
        out.append(ch)
        i += 1
    if not in_string:
        if last_sig >= 0 and out[last_sig] == "," and stack:
            out[last_sig] = " "
        while stack:
            opener, oline, _ = stack.pop()
            out.append(_PAIRS[opener])
            fixes.append(
                _at(
                    make_issue(
                        "json_unclosed_bracket",
                        "$",
                        opener=opener,
                        open_line=oline,
                        closer=_PAIRS[opener],
                        where="at the end",
                    ),
                    line,
                    max(col, 1),
                )
            )
    return "".join(out), fixes


class Positions:
    """JSONPath -> (line, column), computed from character offsets only when asked for."""

    def __init__(self, text: str, first_line: int, offsets: dict[str, int]) -> None:
        self._text, self._first_line, self._offsets = text, first_line, offsets
        self._starts: list[int] | None = None

    def __contains__(self, path: object) -> bool:
        return path in self._offsets

    def __getitem__(self, path: str) -> tuple[int, int]:
        offset = self._offsets[path]
        if self._starts is None:
            self._starts = [m.start() for m in re.finditer("\n", self._text)]
        index = bisect.bisect_right(self._starts, offset - 1)
        line_start = self._starts[index - 1] + 1 if index else 0
        return index + self._first_line, offset - line_start + 1

    def get(self, path: str) -> tuple[int, int] | None:
        return self[path] if path in self._offsets else None


def locate(text: str, first_line: int = 1) -> Positions:
    """Map every JSONPath in a valid JSON text to the (line, column) where it starts.

    Members are located at their key, array entries at their value.
    """
    found: dict[str, int] = {}
    tokens = [(m.group(0), m.start()) for m in _TOKEN.finditer(text)]
    # stack entries: [path, kind, index or pending key]
    stack: list[list[Any]] = []
    path_here = "$"
    expecting_key = False
    pending_key_path: str | None = None
    for tok, offset in tokens:
        if stack and stack[-1][1] == "{" and expecting_key and tok.startswith('"'):
            key = tok[1:-1] if "\\" not in tok else json.loads(tok)
            member = stack[-1][0] + (
                f".{key}" if _IDENT.match(key) else "['" + key.replace("'", "\\'") + "']"
            )
            found.setdefault(member, offset)
            pending_key_path = member
            expecting_key = False
            continue
        if tok == ":":
            continue
        if tok == ",":
            if stack and stack[-1][1] == "{":
                expecting_key = True
            elif stack:
                stack[-1][2] += 1
            continue
        if tok in "}]":
            stack.pop()
            continue
        # a value starts here
        if not stack:
            path_here = "$"
        elif stack[-1][1] == "[":
            path_here = f"{stack[-1][0]}[{stack[-1][2]}]"
            found.setdefault(path_here, offset)
        else:
            path_here = pending_key_path or stack[-1][0]
        if tok in "{[":
            if not stack:
                found.setdefault("$", offset)
            stack.append([path_here, tok, 0])
            expecting_key = tok == "{"
    return Positions(text, first_line, found)


def line_of(positions: Positions, path: str) -> tuple[int, int] | None:
    """The position of `path`, or of its nearest located ancestor (for a missing property)."""
    while path:
        if path in positions:
            return positions[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return positions.get("$")
        path = path[:cut]
    return None
