"""Validation issues and reports.

An issue has exactly the keys of the official OpenActive validator's messages (``severity``,
``category``, ``type``, ``path``, ``message``) plus where it came from (``file``, ``line``,
``column``, ``item``), so the two can be compared line by line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from openclubs.validate.catalogue import BY_TYPE, SEVERITY_ORDER, IssueType


class Issue:
    """One problem found in a record. Treated as immutable: the validator hands the same
    issue to every record that has it, so `placed` makes a copy rather than changing one.
    (A plain class rather than a dataclass: compiled, making one is several times quicker,
    and the validator makes millions.)"""

    __match_args__ = ("severity", "category", "type", "path", "message")

    def __init__(
        self,
        severity: str,
        category: str,
        type: str,
        path: str,
        message: str,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        item: str | None = None,
    ) -> None:
        self.severity = severity
        self.category = category
        self.type = type
        self.path = path
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.item = item

    def placed(
        self,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        item: str | None = None,
    ) -> Issue:
        """A copy with where it was found filled in (each given value replaces the old)."""
        return Issue(
            self.severity,
            self.category,
            self.type,
            self.path,
            self.message,
            file if file is not None else self.file,
            line if line is not None else self.line,
            column if column is not None else self.column,
            item if item is not None else self.item,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Issue) and self.values() == other.values()

    def __hash__(self) -> int:
        return hash(self.values())

    def __repr__(self) -> str:
        return "Issue(" + ", ".join(repr(v) for v in self.values()) + ")"

    @property
    def issue_type(self) -> IssueType:
        return BY_TYPE[self.type]

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.file or "",
            self.line or 0,
            self.item or "",
            SEVERITY_ORDER[self.severity],
            self.path,
            self.type,
            self.message,
        )

    def values(self) -> tuple[Any, ...]:
        """The fields in order (`Issue(*values)` makes the issue again)."""
        return (
            self.severity,
            self.category,
            self.type,
            self.path,
            self.message,
            self.file,
            self.line,
            self.column,
            self.item,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "category": self.category,
            "type": self.type,
            "path": self.path,
            "message": self.message,
        }
        # each attribute by name: a compiled attribute read, where getattr is a dictionary
        # look-up (a harvest turns three issues an item into dicts)
        if self.file is not None:
            out["file"] = self.file
        if self.line is not None:
            out["line"] = self.line
        if self.column is not None:
            out["column"] = self.column
        if self.item is not None:
            out["item"] = self.item
        return out


def make_issue(type_: str, path: str, **params: Any) -> Issue:
    """An issue of a catalogued type, its message filled from the template."""
    row = BY_TYPE[type_]
    params.setdefault("hint", "")
    return Issue(row.severity, row.category, type_, path, row.template.format(**params))


@dataclass(slots=True)
class Report:
    """What the validator found in one or more inputs: issues, sorted and deterministic."""

    issues: list[Issue] = field(default_factory=list)
    records: int = 0
    sources: int = 0

    def extend(self, issues: Iterable[Issue]) -> None:
        self.issues.extend(issues)

    def sort(self) -> None:
        self.issues.sort(key=Issue.sort_key)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def __len__(self) -> int:
        return len(self.issues)

    def counts(self) -> dict[str, int]:
        counter = Counter(issue.severity for issue in self.issues)
        return {sev: counter[sev] for sev in SEVERITY_ORDER if counter[sev]}

    @property
    def failures(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "failure"]

    @property
    def unreadable(self) -> bool:
        """True when some input could not be read at all (exit code 2)."""
        return any(i.category == "internal" for i in self.issues)

    @property
    def valid(self) -> bool:
        return not self.failures

    def exit_code(self, strict: bool = False) -> int:
        if self.unreadable:
            return 2
        if self.failures or (strict and any(i.severity == "warning" for i in self.issues)):
            return 1
        return 0

    def types(self) -> list[tuple[str, str]]:
        """(path, type) pairs: a compact view used in tests."""
        return [(i.path, i.type) for i in self.issues]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "records": self.records,
            "counts": self.counts(),
            "issues": [i.to_dict() for i in self.issues],
        }
