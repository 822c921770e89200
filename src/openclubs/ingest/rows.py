"""What every tabular reader gives the importer: one SourceRow per input row.

A reader (generic CSV/XLSX, the openactive-clubs spreadsheets, known registers) maps its
columns to the canonical field names below; the importer cleans the values and builds Club
Specification 0.2 records. Values stay as read (strings, numbers or None): cleaning happens
later, so that every change can be recorded.

Canonical fields of a club (all optional):
  id, name, legal_name, alternate_name, description, url, same_as (text or list), facebook,
  twitter, instagram, email, telephone, activity (text or list: names or Activity List ids),
  gender, age_min, age_max, age (free text such as "8-16" or "U18"), member_of, logo,
  address_lines (list of free-form lines), street_address, locality, region, postcode,
  country, latitude, longitude, location_name, amenities (list of names), images (list of
  URLs), university (flag)
and `locations`: a list of dicts, one per place, with the place fields
  name, description, url, telephone, email, street_address, address_lines, locality, region,
  postcode, country, latitude, longitude, amenities, images, id
(readers of flat lists leave `locations` out; the importer builds one place from the flat
address fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SourceRow:
    """One input row, where it came from, and its values under canonical names. (A plain
    class: compiled, one is made several times quicker than a dataclass, once a row.)"""

    def __init__(
        self,
        file: str,
        row: int,  # 1-based row (line) number in the file or sheet
        fields: dict[str, Any],
        sheet: str | None = None,
        columns: dict[str, str] | None = None,  # canonical name -> column header
        source_id: str | None = None,  # the source's own id for the club, when it has one
    ) -> None:
        self.file = file
        self.row = row
        self.fields = fields
        self.sheet = sheet
        self.columns: dict[str, str] = columns if columns is not None else {}
        self.source_id = source_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceRow) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.file, self.sheet, self.row))

    def __repr__(self) -> str:
        return "SourceRow(" + ", ".join(repr(v) for v in self._values()) + ")"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the call that makes it again: rows are sent to worker processes, and
        a compiled class has no instance dictionary for pickle to copy."""
        return (SourceRow, self._values())

    def _values(self) -> tuple[Any, ...]:
        return (self.file, self.row, self.fields, self.sheet, self.columns, self.source_id)

    def where(self, canonical: str | None = None) -> str:
        """'file.csv, row 12, column "Postcode"' for messages."""
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        parts.append(f"row {self.row}")
        if canonical and canonical in self.columns:
            parts.append(f"column {self.columns[canonical]!r}")
        return ", ".join(parts)


class ReadError(Exception):
    """A file cannot be read as a club list at all (wrong format, empty, password-protected,
    no recognisable columns). The message says which and what to do."""


@dataclass(slots=True)
class RowProblem:
    """A row (or one value of it) that could not be used, with the reason."""

    file: str
    row: int
    reason: str
    column: str | None = None
    sheet: str | None = None
