"""Generic club lists: CSV (any common encoding and delimiter), XLSX sheets and JSON, with
columns recognised from their headers (or named in a mapping file).

Known registers work without a mapping because their headers are recognised: the HMRC CASC
register (Organisation Name, Address Line 1-4, Postcode), the UK rifle clubs list (clubname,
countyname, cluburl, facebook, twitter, instagram, countryname) and schema.org JSON such as
the CASC register's SportsOrganization form.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from charset_normalizer import from_bytes

from openclubs.ingest.rows import ReadError, SourceRow
from openclubs.model.kinds import OPPORTUNITY_TYPES

# canonical field -> header spellings (compared lower-case, letters and digits only)
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "clubid", "identifier", "@id", "code", "clubcode", "reference", "ref"),
    "name": (
        "name",
        "clubname",
        "club",
        "organisationname",
        "organizationname",
        "organisation",
        "organization",
        "nameofclub",
        "clubtitle",
    ),
    "legal_name": ("legalname", "registeredname"),
    "alternate_name": ("alternatename", "alternativename", "shortname", "abbreviation"),
    "description": ("description", "about", "summary"),
    "url": ("url", "website", "websiteurl", "web", "homepage", "cluburl", "site"),
    "same_as": ("sameas", "social", "socialmedia", "sociallinks"),
    "facebook": ("facebook", "facebookurl", "facebookpage"),
    "twitter": ("twitter", "twitterurl", "twitterhandle", "x"),
    "instagram": ("instagram", "instagramurl", "instagramhandle"),
    "email": ("email", "emailaddress", "contactemail", "clubemail", "mail"),
    "telephone": (
        "telephone",
        "phone",
        "tel",
        "phonenumber",
        "telephonenumber",
        "contactnumber",
        "contactphone",
        "mobile",
    ),
    "street_address": ("streetaddress", "street", "address", "addressstreet", "venueaddress"),
    "locality": ("town", "city", "locality", "addresslocality", "towncity", "village"),
    "region": ("county", "region", "countyname", "addressregion", "area"),
    "postcode": ("postcode", "postalcode", "zip", "zipcode", "postcodezip", "pc"),
    "country": ("country", "countryname", "addresscountry", "nation"),
    "activity": ("activity", "activities", "sport", "sports", "discipline", "disciplines"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "long", "lng", "lon"),
    "age": ("age", "ages", "agerange", "agegroup", "agegroups"),
    "age_min": ("minage", "agemin", "minimumage"),
    "age_max": ("maxage", "agemax", "maximumage"),
    "gender": ("gender", "genderrestriction", "sex"),
    "member_of": ("memberof", "governingbody", "ngb", "affiliation", "affiliatedto"),
    "location_name": ("venue", "venuename", "ground", "locationname", "placename"),
    "university": ("university", "isuniversity"),
}
CASC_HEADERS = frozenset(
    {"organisationname", "addressline1", "addressline2", "addressline3", "addressline4", "postcode"}
)
# The csv module refuses a cell over 131,072 characters by default; a worker splitting a
# line itself has no such limit, and a register's notes pasted into one cell can be longer,
# so every reader here takes any length (set on import, so worker processes have it too).
csv.field_size_limit(2**31 - 1)
READ_BYTES = 1 << 20  # the pieces a CSV file is read in, here (an import's workers take less)
_ADDRESS_LINE = re.compile(r"^address(?:line)?(\d)$")
_KEY = re.compile(r"[^a-z0-9@]+")
_LOOKUP = {spelling: canonical for canonical, names in HEADER_NAMES.items() for spelling in names}


def header_key(header: str) -> str:
    return _KEY.sub("", header.strip().lower())


def map_headers(
    headers: list[str], mapping: Mapping[str, str] | None = None
) -> tuple[dict[int, str], dict[str, str]]:
    """(column index -> canonical field, canonical field -> header). A mapping file's entries
    (canonical field -> header) take precedence over recognition."""
    wanted = {header_key(h): f for f, h in (mapping or {}).items()}
    by_index: dict[int, str] = {}
    names: dict[str, str] = {}
    for index, header in enumerate(headers):
        key = header_key(str(header or ""))
        if not key:
            continue
        field = wanted.get(key)
        if field is None and not mapping_only(mapping, key):
            line = _ADDRESS_LINE.match(key)
            field = f"address_line_{line.group(1)}" if line else _LOOKUP.get(key)
        if field is None or field in names:
            continue
        by_index[index] = field
        names[field] = header.strip()
    return by_index, names


def mapping_only(mapping: Mapping[str, str] | None, key: str) -> bool:
    """A header named in the mapping under some field is not also recognised by name."""
    return bool(mapping) and key in {header_key(h) for h in (mapping or {}).values()}


class Columns:
    """How one table's columns map to canonical fields: found once from its header row, then
    applied to every row (in this process, or in a worker given the same header row)."""

    def __init__(
        self,
        file: str,
        header_row: int,
        headers: list[Any],
        mapping: Mapping[str, str] | None,
        sheet: str | None = None,
    ) -> None:
        self.made_from = (file, header_row, headers, mapping, sheet)  # to make it again
        headers = [str(h).strip() if h is not None else "" for h in headers]
        self.file = file
        self.sheet = sheet
        self.width = len(headers)
        self.by_index, self.names = map_headers(headers, mapping)
        # The HMRC CASC register cuts names at 40 characters and pads each cut with spaces.
        self.cut_at = 40 if {header_key(h) for h in headers} == CASC_HEADERS else None
        if "name" not in self.names:
            shown = ", ".join(repr(h) for h in headers if h) or "none"
            raise ReadError(
                f"{file}{f' (sheet {sheet!r})' if sheet else ''}: no column with the clubs' "
                f"names (row {header_row} has the headers {shown}). Name it with --mapping, "
                'e.g. {"name": "Club Title"}.'
            )
        # the columns of plain fields, and those of address lines in their order (1-4)
        self.plain = [(i, f) for i, f in self.by_index.items() if not f.startswith("address_line_")]
        numbered = sorted((f, i) for i, f in self.by_index.items() if f.startswith("address_line_"))
        self.address_lines = [i for _, i in numbered]
        if self.address_lines:
            self.names.setdefault("address_lines", "Address Line 1-4")

    def source_row(self, number: int, values: list[Any]) -> SourceRow:
        """One row's values under canonical names."""
        fields: dict[str, Any] = {}
        extra = [v for v in values[self.width :] if v is not None and str(v).strip()]
        if extra:
            fields["_notes"] = [
                f"left out: {len(extra)} cell(s) beyond the last column ({extra[0]!r}...): "
                "an unquoted delimiter inside a value?"
            ]
        count = len(values)
        for index, field in self.plain:
            value = values[index] if index < count else None
            if value is not None and (not isinstance(value, str) or value.strip()):
                fields[field] = value
        if self.address_lines:
            lines = []
            for index in self.address_lines:
                value = values[index] if index < count else None
                if value is not None and (not isinstance(value, str) or value.strip()):
                    lines.append(value)
            if lines:
                fields["address_lines"] = lines
        if self.cut_at and "name" in fields:
            fields["name_cut_at"] = self.cut_at
        return SourceRow(
            self.file,
            number,
            fields,
            sheet=self.sheet,
            columns=self.names,
            source_id=str(fields["id"]) if "id" in fields else None,
        )


def _rows_to_source(
    file: str,
    rows: Iterator[tuple[int, list[Any]]],
    mapping: Mapping[str, str] | None,
    sheet: str | None = None,
) -> Iterator[SourceRow]:
    try:
        header_row, headers = next(rows)
    except StopIteration:
        raise ReadError(f"{file}: the file is empty") from None
    columns = Columns(file, header_row, headers, mapping, sheet)
    for number, values in rows:
        yield columns.source_row(number, values)


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """How a CSV file is read: its encoding and its dialect's parameters (plain values, so
    that a worker process can read a piece of the file the same way)."""

    encoding: str
    errors: str
    delimiter: str
    quotechar: str | None
    doublequote: bool
    escapechar: str | None
    skipinitialspace: bool
    quoting: int
    # whether the file can be cut into pieces at line ends outside quoted cells: each line
    # ends with "\n", the encoding keeps "\n" and quotes as single bytes, no escape character
    splittable: bool = False

    def params(self) -> tuple[Any, ...]:
        """The values to make the same layout again in another process."""
        return (
            self.encoding,
            self.errors,
            self.delimiter,
            self.quotechar,
            self.doublequote,
            self.escapechar,
            self.skipinitialspace,
            self.quoting,
            self.splittable,
        )

    def encode(self, text: str) -> bytes:
        """`text` as it is written in the file (without a byte order mark)."""
        return text.encode(self.encoding).removeprefix(codecs.BOM_UTF8)

    def reader(self, lines: Iterable[str]) -> Any:
        return csv.reader(
            lines,
            delimiter=self.delimiter,
            quotechar=self.quotechar,
            doublequote=self.doublequote,
            escapechar=self.escapechar,
            skipinitialspace=self.skipinitialspace,
            quoting=self.quoting,  # type: ignore[arg-type]  # one of csv's QUOTE_ values
        )


def csv_layout(path: Path) -> CsvLayout:
    """The encoding (UTF-8 when all of the file is, else charset_normalizer's best guess)
    and the dialect sniffed from the file's beginning."""
    data = path.read_bytes()
    if not data.strip():
        raise ReadError(f"{path}: the file is empty")
    encoding, errors = _encoding(data, path)
    # 80,000 bytes hold 20,000 characters; a character cut at the end is dropped
    sample = data[:80000].decode(encoding, "ignore" if errors == "strict" else errors)[:20000]
    lone_cr = b"\r" in data and data.count(b"\r") != data.count(b"\r\n")
    del data
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    single_bytes = '\n"'.encode(encoding).removeprefix(codecs.BOM_UTF8) == b'\n"'
    return CsvLayout(
        encoding,
        errors,
        str(dialect.delimiter),
        dialect.quotechar,
        bool(dialect.doublequote),
        dialect.escapechar,
        bool(dialect.skipinitialspace),
        int(dialect.quoting),
        single_bytes and dialect.escapechar is None and not lone_cr,
    )


def read_csv(
    path: Path, mapping: Mapping[str, str] | None = None, layout: CsvLayout | None = None
) -> Iterator[SourceRow]:
    """The rows of a CSV file, read from the disk as they are wanted: the whole text is only
    decoded once, to choose the encoding, and not kept (a large register's text held as
    one string for the csv reader would cost four bytes a character). A file that can be
    cut is read a piece at a time as an import's workers read theirs (`csv_piece_rows`);
    the others line by line by the csv reader. `layout`: the file's, when already known."""
    layout = layout or csv_layout(path)
    found = csv_pieces(path, layout, READ_BYTES) if layout.splittable else None
    if found is not None:
        number, headers, pieces = found
        columns = Columns(str(path), number, headers, mapping)
        for piece, lines_before in pieces:
            yield from csv_piece_rows(layout, columns, piece, lines_before)
        return
    with path.open(encoding=layout.encoding, errors=layout.errors, newline="") as handle:
        reader = layout.reader(handle)
        yield from _rows_to_source(str(path), _skip_blank(_numbered(reader)), mapping)


def csv_header(layout: CsvLayout, head: bytes) -> tuple[int, list[Any], int] | None:
    """The first row with a value in the beginning of a CSV file: its line number, its
    cells and the number of lines read up to its end; None when there is none."""
    reader = layout.reader(io.StringIO(head.decode(layout.encoding, layout.errors), newline=""))
    for number, cells in _skip_blank(_numbered(reader)):
        return number, cells, int(reader.line_num)
    return None


def csv_pieces(
    path: Path, layout: CsvLayout, piece_bytes: int
) -> tuple[int, list[str], Iterator[tuple[bytes, int]]] | None:
    """A CSV file's header row (its line number and cells) and the rest of the file in
    pieces of about `piece_bytes`, each cut after a line end outside quotes, with the number
    of lines before it; None when its first part holds no header (the csv reader reads it then).

    The pieces reopen the file when the first is asked for: a generator that is never
    started (the header names no club column) runs no `finally`, so it must hold no open
    file."""
    with path.open("rb") as handle:
        buffer = handle.read(piece_bytes)
        cut = safe_end(buffer, layout)
        while not cut:
            more = handle.read(piece_bytes)
            if not more:
                cut = len(buffer)
                break
            buffer += more
            cut = safe_end(buffer, layout)
        read = handle.tell()
    head = buffer[:cut]
    header = csv_header(layout, head)
    if header is None:
        return None
    number, cells, lines = header
    offset = 0
    for _ in range(lines):  # the header ends at the end of its last line
        found = head.find(b"\n", offset)
        offset = found + 1 if found >= 0 else len(head)

    def pieces(buffer: bytes, before: int) -> Iterator[tuple[bytes, int]]:
        with path.open("rb") as handle:
            handle.seek(read)
            size = piece_bytes
            while True:
                block = handle.read(size)
                if not block:
                    if buffer:
                        yield buffer, before
                    return
                buffer += block
                end = safe_end(buffer, layout)
                if not end:  # a quoted cell goes on (or a quote is never closed): read
                    size *= 2  # twice as much each time, so the rescans stay linear
                    continue
                size = piece_bytes
                piece, buffer = buffer[:end], buffer[end:]
                yield piece, before
                before += piece.count(b"\n")

    return number, cells, pieces(buffer[offset:], lines)


def safe_end(data: bytes, layout: CsvLayout) -> int:
    """Where the longest beginning of `data` that ends with a line end outside quoted cells
    ends (0 when there is none). Quoted cells are found as the csv reader finds them: a
    quote opens one only at the start of a cell, and inside one a doubled quote (when the
    dialect doubles quotes) is a quote, any other quote closes it."""
    newline = data.rfind(b"\n")
    if newline < 0 or not layout.quotechar or layout.quoting == csv.QUOTE_NONE:
        return newline + 1
    quote = layout.encode(layout.quotechar)
    starts = (layout.encode(layout.delimiter), b"\n", b"\r")
    spans: list[tuple[int, int]] = []
    opened = -1
    at = data.find(quote)
    while at >= 0:
        if opened < 0:
            before = at
            if layout.skipinitialspace:
                while before > 0 and data[before - 1 : before] == b" ":
                    before -= 1
            if before == 0 or data[before - 1 : before] in starts:  # (no slice at -1)
                opened = at
            at = data.find(quote, at + 1)
        elif layout.doublequote and data[at + 1 : at + 2] == quote:
            at = data.find(quote, at + 2)
        else:
            spans.append((opened, at))
            opened = -1
            at = data.find(quote, at + 1)
    if opened >= 0:
        spans.append((opened, len(data)))
    for first, last in reversed(spans):
        if last < newline:
            break
        if first < newline:
            newline = data.rfind(b"\n", 0, first)
            if newline < 0:
                return 0
    return newline + 1


def csv_piece_rows(
    layout: CsvLayout, columns: Columns, piece: bytes, lines_before: int
) -> list[SourceRow]:
    """The rows of a piece of a CSV file that starts at a row's beginning, after
    `lines_before` lines: numbered as reading the whole file numbers them, blank rows left
    out (what `_numbered` and `_skip_blank` do, in one loop: this runs for every row of a
    large import).

    A line without a quote character is split at its delimiters directly, which is what
    the csv reader does with it, several times quicker; a line with one is read by the csv
    reader, with the lines that follow while its quoted cell goes on."""
    lines = piece.decode(layout.encoding, layout.errors).split("\n")
    ended = lines[-1] == ""  # the piece ends with a line end
    if ended:
        lines.pop()
    quote = layout.quotechar if layout.quoting != csv.QUOTE_NONE else None
    plain_quoting = layout.quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE)
    delimiter, trim = layout.delimiter, layout.skipinitialspace
    rows: list[SourceRow] = []
    count = len(lines)
    at = 0
    while at < count:
        line = lines[at]
        number = lines_before + at + 1
        if plain_quoting and (quote is None or quote not in line):
            at += 1
            values = line.removesuffix("\r").split(delimiter) if line not in ("", "\r") else []
            if trim:
                values = [v.lstrip(" ") for v in values]
        else:
            reader = layout.reader(_lines_from(lines, at, ended))
            values = next(reader, [])
            at += max(1, int(reader.line_num))
        if "".join(values).strip():  # a CSV cell is always text
            rows.append(columns.source_row(number, values))
    return rows


def _lines_from(lines: list[str], start: int, ended: bool) -> Iterator[str]:
    """The lines from `start` on, each with its line end again (the last one only when the
    piece `ended` with one)."""
    last = len(lines) - 1
    for index in range(start, last + 1):
        yield lines[index] + "\n" if index < last or ended else lines[index]


def _numbered(reader: Any, lines_before: int = 0) -> Iterator[tuple[int, list[Any]]]:
    """Rows with the line each starts on (a quoted cell may span several lines)."""
    start = lines_before + 1
    for row in reader:
        yield start, row
        start = lines_before + reader.line_num + 1


def _skip_blank(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    for number, row in rows:
        if any(str(v).strip() for v in row if v is not None):
            yield number, list(row)


def _encoding(data: bytes, path: Path) -> tuple[str, str]:
    """(encoding, errors) to read the file with: UTF-8 when all of it is, else the best guess
    of charset_normalizer, with undecodable bytes replaced."""
    try:
        data.decode("utf-8-sig")
        return "utf-8-sig", "strict"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200000]).best()
    if best is None or best.encoding is None:
        raise ReadError(f"{path}: not text (no character encoding fits it)")
    return best.encoding, "replace"


def read_xlsx(path: Path, mapping: Mapping[str, str] | None = None) -> Iterator[SourceRow]:
    """The first sheet whose headers name the clubs (a mapping may point at any sheet)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for files that are not workbooks
        raise ReadError(f"{path}: not a readable .xlsx workbook ({type(err).__name__})") from None
    try:
        problems = []
        for sheet in book.worksheets:
            rows = ((i, list(r)) for i, r in enumerate(sheet.iter_rows(values_only=True), 1))
            try:
                yield from _rows_to_source(str(path), _skip_blank(rows), mapping, sheet.title)
                return
            except ReadError as err:
                problems.append(str(err))
        raise ReadError("; ".join(problems) or f"{path}: the workbook has no sheets")
    finally:
        book.close()


def read_json(path: Path, mapping: Mapping[str, str] | None = None) -> Iterator[SourceRow]:
    """A JSON array (or RPDE page, or object with a list) of club objects: flat ones with
    recognisable keys, or schema.org / Club Spec JSON-LD (name, url, address, geo ...)."""
    data = path.read_bytes()
    if path.suffix.lower() == ".jsonl":
        yield from _json_lines(path, data, mapping)
        return
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise ReadError(f"{path}: not valid JSON ({err})") from None
    items = _list_in(doc)
    if items is None:
        raise ReadError(f"{path}: expected a list of clubs (or an object holding one)")
    for index, item in enumerate(items, 1):
        yield _item_row(str(path), index, item, mapping)


def _list_in(doc: Any) -> list[Any] | None:
    """The clubs of a JSON document: an array, an RPDE page's items, a @graph, the one list
    an object holds ({"clubs": [...]}), or a single club object."""
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    for key in ("items", "@graph"):
        if isinstance(doc.get(key), list):
            return list(doc[key])
    lists = [v for v in doc.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    if len(lists) == 1 and "name" not in doc:
        return list(lists[0])
    return [doc]


def _item_row(file: str, index: int, item: Any, mapping: Mapping[str, str] | None) -> SourceRow:
    if isinstance(item, dict) and isinstance(item.get("data"), dict):
        item = item["data"]
    if not isinstance(item, dict):
        problem = f"not a club object (a JSON {type(item).__name__})"
        return SourceRow(file, index, {"_problem": problem})
    kind = item.get("@type", item.get("type"))
    if isinstance(kind, str) and kind in OPPORTUNITY_TYPES:
        problem = f"a {kind} (an opportunity), not a club: its organiser is not imported alone"
        return SourceRow(file, index, {"_problem": problem})
    return json_object_row(file, index, item, mapping)


def _json_lines(path: Path, data: bytes, mapping: Mapping[str, str] | None) -> Iterator[SourceRow]:
    """JSON Lines: one club per line (what `openclubs import` and `export` write)."""
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            yield SourceRow(str(path), number, {"_problem": f"not valid JSON ({err})"})
            continue
        yield _item_row(str(path), number, item, mapping)


def json_object_row(
    file: str, index: int, item: dict[str, Any], mapping: Mapping[str, str] | None = None
) -> SourceRow:
    flat: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict) and key in ("address", "geo"):
            flat.update({k: v for k, v in value.items() if not k.startswith("@")})
        else:
            flat[key] = value
    country = flat.get("addressCountry")
    if isinstance(country, dict):  # {"@type": "Country", "name": "GB"}
        flat["addressCountry"] = country.get("name")
    headers = list(flat)
    by_index, names = map_headers(headers, mapping)
    fields = {by_index[i]: flat[h] for i, h in enumerate(headers) if i in by_index}
    for key in ("activity", "sameAs", "@id"):
        if key in item:
            fields[{"sameAs": "same_as", "@id": "id"}.get(key, key)] = item[key]
    if "location" in item:
        fields["locations"] = _places(item["location"])
    return SourceRow(
        file, index, fields, columns=names, source_id=str(fields["id"]) if "id" in fields else None
    )


def _places(location: Any) -> list[dict[str, Any]]:
    """Club Spec `location` (Place, [Place], PostalAddress or text) as place field dicts."""
    entries = location if isinstance(location, list) else [location]
    places: list[dict[str, Any]] = []
    for entry in entries:
        if isinstance(entry, str):
            places.append({"address_lines": [entry]})
            continue
        if not isinstance(entry, dict):
            continue
        kind = entry.get("@type", entry.get("type"))
        address = entry if kind == "PostalAddress" else entry.get("address")
        place: dict[str, Any] = {}
        if kind != "PostalAddress":
            for key in ("name", "description", "url", "telephone", "email"):
                if isinstance(entry.get(key), (str, int, float)):
                    place[key] = entry[key]
            if isinstance(entry.get("@id"), str):
                place["id"] = entry["@id"]
        if isinstance(address, str):
            place["address_lines"] = [address]
        elif isinstance(address, dict):
            for source_key, field in _ADDRESS_PARTS.items():
                value = address.get(source_key)
                if isinstance(value, dict):  # {"@type": "Country", "name": "GB"}
                    value = value.get("name")
                if value is not None:
                    place[field] = value
        geo = entry.get("geo")
        if isinstance(geo, dict):
            place["latitude"], place["longitude"] = geo.get("latitude"), geo.get("longitude")
        features = entry.get("amenityFeature")
        if isinstance(features, list):
            place["amenities"] = [
                f.get("name") for f in features if isinstance(f, dict) and f.get("value") is True
            ]
        images = entry.get("image")
        if isinstance(images, list):
            place["images"] = [i.get("url") if isinstance(i, dict) else i for i in images]
        places.append(place)
    return places


_ADDRESS_PARTS = {
    "streetAddress": "street_address",
    "addressLocality": "locality",
    "addressRegion": "region",
    "postalCode": "postcode",
    "addressCountry": "country",
}
