"""The openactive-contrib/openactive-clubs spreadsheets: six tabs (clubs, organizers,
locations, addresses, images, amenity features) joined by codes.

Both published layouts are read, and the layout is detected per tab:
- current (OpenActive-Clubs-Template/Example.xlsx): column A labels rows 1-4 "Field name ➡️",
  "Description ➡️", "Example ➡️", "Need ➡️"; field names from column B; data from row 5.
- old (OpenActive-Club-Finder-Template.xlsx, Club-Finder-Example.xlsx): field names in row 1
  from column A, row 2 an example or description, row 3 the need ("required", ...); data
  from row 4.
The header row is the first of the top ten rows that holds the tab's key field names
(`code`; `organizer` and `location` in `clubs`). Template rows are never data: rows labelled
in column A, and every row up to a "need" row found within three rows of the header. So a
blank template gives no rows and no problems; the importer decides what zero clubs means.

Each non-empty row of `clubs` becomes one SourceRow: the organizer's fields (plus its
address, without latitude/longitude) and `locations`, one dict per location code.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclubs.ingest.rows import ReadError, RowProblem, SourceRow

TABS = ("clubs", "organizers", "locations", "addresses", "images", "amenity features")
_TAB_ALIASES = {"organisers": "organizers", "organiser": "organizers"}
_HEADER_ALIASES = {"organiser": "organizer", "amenityfeatures": "amenityfeature"}
_KEY_FIELDS = {"clubs": ("organizer", "location")}
_LABELS = {"fieldname", "description", "example", "need"}
_NEED_WORDS = ("required", "recommended", "optional", "ignore", "not currently used")
_OLE2 = b"\xd0\xcf\x11\xe0"
# canonical field -> normalised header, per tab
_PLACE = {"id": "@id", **{n: n for n in ("name", "description", "telephone", "email", "url")}}
_ORGANIZER = {**_PLACE, "legal_name": "legalname"}
_POSTAL = {"street_address": "streetaddress", "locality": "addresslocality"}
_POSTAL |= {"region": "addressregion", "postcode": "postalcode", "country": "addresscountry"}
_ADDRESS = {**_POSTAL, "latitude": "latitude", "longitude": "longitude"}

Values = dict[str, Any]


def _norm(text: object) -> str:
    return re.sub(r"[\s_\-]+", "", str(text)).lower()


def _tab_key(title: str) -> str:
    key = _norm(title)
    return _TAB_ALIASES.get(key, key)


def _is_label(value: object) -> bool:
    return isinstance(value, str) and (
        "➡" in value or _norm(value.replace("\ufe0f", "")) in _LABELS
    )


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _codes(value: object) -> list[str]:
    """1.0 -> ["1"]; " 1, 2 " -> ["1", "2"]; "1.0" -> ["1"]."""
    if _blank(value):
        return []
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    parts = str(value).split(",") if isinstance(value, str) else [str(value)]
    return [re.sub(r"^(\d+)\.0+$", r"\1", p.strip()) for p in parts if p.strip()]


def _is_need_row(cells: list[Any]) -> bool:
    """The template's "required / recommended / optional" row."""
    filled = [c for c in cells if not _blank(c) and not _is_label(c)]
    return bool(filled) and all(
        isinstance(c, str) and c.strip().lower().startswith(_NEED_WORDS) for c in filled
    )


def _header_names(cells: list[Any]) -> dict[str, int]:
    """Normalised header -> column index (the first column wins when a name repeats)."""
    names: dict[str, int] = {}
    for j, cell in enumerate(cells):
        if isinstance(cell, str) and cell.strip():
            name = _norm(cell)
            names.setdefault(_HEADER_ALIASES.get(name, name), j)
    return names


@dataclass(slots=True)
class _Tab:
    title: str  # as spelt in the file
    headers: dict[str, str]  # normalised field name -> header text
    rows: list[tuple[int, Values]]  # (sheet row number, normalised field name -> value)
    by_code: dict[str, Values] = field(default_factory=dict)

    def where(self, name: str) -> str:
        return f"{self.title}!{self.headers.get(name, name)}"


def _read_tab(path: str, sheet: Any, tab: str, problems: list[RowProblem]) -> _Tab:
    rows = [(i, list(r)) for i, r in enumerate(sheet.iter_rows(values_only=True), 1)]
    need = _KEY_FIELDS.get(tab, ("code",))
    found = [
        k for k, (_, cells) in enumerate(rows[:10]) if set(need) <= _header_names(cells).keys()
    ]
    if not found:
        raise ReadError(
            f'{path}: tab "{sheet.title}" has no header row with the column(s) '
            f"{', '.join(need)} in its first ten rows"
        )
    at = found[0]
    names = _header_names(rows[at][1])
    labelled = _is_label(rows[at][1][0])
    columns = {n: j for n, j in names.items() if not (labelled and j == 0)}
    body = rows[at + 1 :]
    start = 0
    for k, (_, cells) in enumerate(body[:3]):
        if (labelled and _is_label(cells[0])) or _is_need_row(cells):
            start = k + 1
    headers = {n: str(rows[at][1][j]).strip() for n, j in columns.items()}
    result = _Tab(sheet.title, headers, [])
    for number, cells in body[start:]:
        if labelled and cells and _is_label(cells[0]):
            continue
        values = {
            n: cells[j] for n, j in columns.items() if j < len(cells) and not _blank(cells[j])
        }
        if values:
            result.rows.append((number, values))
    for number, values in result.rows if tab != "clubs" else []:
        code = next(iter(_codes(values.get("code"))), "")
        if code and code not in result.by_code:
            result.by_code[code] = values | {"code": code}
            continue
        reason = f'duplicate code "{code}" in tab "{sheet.title}"; the first is used'
        if not code:
            reason = "no code, so no other tab can refer to this row"
        problems.append(RowProblem(path, number, reason, result.where("code"), sheet.title))
    return result


def _open(path: str | os.PathLike[str]) -> Any:
    from openpyxl import load_workbook

    file = Path(path)
    if not file.is_file():
        raise ReadError(f"{file}: file not found")
    with file.open("rb") as handle:
        if handle.read(4) == _OLE2:
            raise ReadError(
                f"{file}: password-protected (encrypted) or an old .xls workbook; "
                "remove the password or save it as .xlsx, then try again"
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(file, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for files that are not workbooks
        raise ReadError(f"{file}: not a readable .xlsx workbook ({type(err).__name__})") from None


def _sheets(book: Any) -> dict[str, Any]:
    return {_tab_key(s.title): s for s in reversed(book.worksheets)}


def is_openactive_workbook(path: str | os.PathLike[str]) -> bool:
    """True if the file is an .xlsx workbook with the six openactive-clubs tabs."""
    try:
        book = _open(path)
    except ReadError:
        return False
    try:
        return all(_tab_key(t) in _sheets(book) for t in TABS)
    finally:
        book.close()


def read_openactive_workbook(
    path: str | os.PathLike[str],
) -> tuple[list[SourceRow], list[RowProblem]]:
    """One SourceRow per club row (tab `clubs`), with codes resolved; problems for codes
    that point at nothing, duplicate codes and rows without a code."""
    file = str(path)
    book = _open(path)
    problems: list[RowProblem] = []
    try:
        sheets = _sheets(book)
        missing = [t for t in TABS if _tab_key(t) not in sheets]
        if missing:
            raise ReadError(
                f"{file}: not an OpenActive clubs workbook: no tab(s) "
                + ", ".join(f'"{t}"' for t in missing)
            )
        tabs = {t: _read_tab(file, sheets[_tab_key(t)], t, problems) for t in TABS}
    finally:
        book.close()
    return [_club(file, tabs, n, v, problems) for n, v in tabs["clubs"].rows], problems


def _club(
    file: str, tabs: dict[str, _Tab], number: int, club: Values, problems: list[RowProblem]
) -> SourceRow:
    clubs = tabs["clubs"]

    def problem(reason: str, source: _Tab, name: str) -> None:
        found = RowProblem(file, number, reason, source.where(name), clubs.title)
        if found not in problems:  # once per club row, however often the code recurs
            problems.append(found)

    def resolve(
        value: object, tab: str, source: _Tab, name: str, context: str = ""
    ) -> list[Values]:
        found = []
        for code in _codes(value):
            if code in tabs[tab].by_code:
                found.append(tabs[tab].by_code[code])
                continue
            header = source.headers.get(name, name)
            problem(
                f'{context}{header} code "{code}" not found in tab "{tabs[tab].title}"',
                source,
                name,
            )
        return found

    def copy(values: Values, names: dict[str, str], into: Values) -> None:
        into.update({c: values[n] for c, n in names.items() if n in values})

    fields: Values = {}
    columns: dict[str, str] = {}
    source_id = None
    for name in ("organizer", "location"):
        if name not in club:
            problem(f"no {name} code", clubs, name)
    if len(_codes(club.get("organizer"))) > 1:
        problem("more than one organizer code; the first is used", clubs, "organizer")
    organizers = tabs["organizers"]
    for org in resolve(club.get("organizer"), "organizers", clubs, "organizer")[:1]:
        copy(org, _ORGANIZER, fields)
        context = f'organizer "{org["code"]}": '
        if isinstance(org.get("sameas"), str):
            fields["same_as"] = [u for u in re.split(r"[,;\s]+", org["sameas"]) if u]
        elif "sameas" in org:
            fields["same_as"] = [org["sameas"]]
        for image in resolve(org.get("logo"), "images", organizers, "logo", context):
            copy(image, {"logo": "url"}, fields)
        for address in resolve(org.get("address"), "addresses", organizers, "address", context):
            copy(address, _POSTAL, fields)
            columns.update({c: tabs["addresses"].where(n) for c, n in _ADDRESS.items()})
        columns.update({c: organizers.where(n) for c, n in _ORGANIZER.items()})
        columns.update(same_as=organizers.where("sameas"), logo=organizers.where("logo"))
        # only a URL @id identifies a club beyond this workbook; organizer codes are local
        # join keys ("1" in every workbook), so the importer makes the id from name and place
        source_id = str(org["@id"]) if str(org.get("@id") or "").startswith("http") else None
    places, locations = [], tabs["locations"]
    for loc in resolve(club.get("location"), "locations", clubs, "location"):
        place: Values = {}
        context = f'location "{loc["code"]}": '
        copy(loc, _PLACE, place)
        images = resolve(loc.get("image"), "images", locations, "image", context)
        if urls := [i["url"] for i in images if "url" in i]:
            place["images"] = urls
        for address in resolve(loc.get("address"), "addresses", locations, "address", context):
            copy(address, _ADDRESS, place)
        amenities = resolve(
            loc.get("amenityfeature"), "amenity features", locations, "amenityfeature", context
        )
        if names := [a["name"] for a in amenities if "name" in a]:
            place["amenities"] = names
        if place:
            places.append(place)
    if places:
        fields["locations"] = places
        columns["locations"] = clubs.where("location")
    columns = {c: w for c, w in columns.items() if c in fields}
    return SourceRow(file, number, fields, clubs.title, columns, source_id)
