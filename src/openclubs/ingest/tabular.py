"""Generic club lists: CSV (any common encoding and delimiter), XLSX sheets and JSON, with
columns recognised from their headers (or named in a mapping file).

Known registers work without a mapping because their headers are recognised: the HMRC CASC
register (Organisation Name, Address Line 1-4, Postcode), the UK rifle clubs list (clubname,
countyname, cluburl, facebook, twitter, instagram, countryname) and schema.org JSON such as
the CASC register's SportsOrganization form.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from charset_normalizer import from_bytes

from openclubs.ingest.rows import ReadError, SourceRow

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
    headers = [str(h).strip() if h is not None else "" for h in headers]
    by_index, names = map_headers(headers, mapping)
    # The HMRC CASC register cuts names at 40 characters and pads each cut with spaces.
    cut_at = 40 if {header_key(h) for h in headers} == CASC_HEADERS else None
    if "name" not in names:
        shown = ", ".join(repr(h) for h in headers if h) or "none"
        raise ReadError(
            f"{file}{f' (sheet {sheet!r})' if sheet else ''}: no column with the clubs' names "
            f"(row {header_row} has the headers {shown}). Name it with --mapping, e.g. "
            '{"name": "Club Title"}.'
        )
    for number, values in rows:
        fields: dict[str, Any] = {}
        lines: dict[int, Any] = {}
        for index, field in by_index.items():
            value = values[index] if index < len(values) else None
            if isinstance(value, str):
                value = value if value.strip() else None
            if value is None:
                continue
            if field.startswith("address_line_"):
                lines[int(field[-1])] = value
            else:
                fields[field] = value
        if cut_at and "name" in fields:
            fields["name_cut_at"] = cut_at
        if lines:
            fields["address_lines"] = [lines[k] for k in sorted(lines)]
            names.setdefault("address_lines", "Address Line 1-4")
        yield SourceRow(
            file,
            number,
            fields,
            sheet=sheet,
            columns=names,
            source_id=str(fields["id"]) if "id" in fields else None,
        )


def read_csv(path: Path, mapping: Mapping[str, str] | None = None) -> Iterator[SourceRow]:
    data = path.read_bytes()
    if not data.strip():
        raise ReadError(f"{path}: the file is empty")
    text = _decode(data, path)
    sample = text[:20000]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    numbered = ((reader.line_num, row) for row in reader)
    yield from _rows_to_source(str(path), _skip_blank(numbered), mapping)


def _skip_blank(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    for number, row in rows:
        if any(str(v).strip() for v in row if v is not None):
            yield number, list(row)


def _decode(data: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    best = from_bytes(data[:200000]).best()
    if best is None or best.encoding is None:
        raise ReadError(f"{path}: not text (no character encoding fits it)")
    return data.decode(best.encoding, errors="replace")


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
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as err:
        raise ReadError(f"{path}: not valid JSON ({err})") from None
    items = doc.get("items", doc.get("@graph", [doc])) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ReadError(f"{path}: expected a list of clubs")
    for index, item in enumerate(items, 1):
        if isinstance(item, dict) and isinstance(item.get("data"), dict):
            item = item["data"]
        if isinstance(item, dict):
            yield json_object_row(str(path), index, item, mapping)


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
    for key in ("activity", "location", "sameAs", "@id"):
        if key in item:
            fields[{"sameAs": "same_as", "@id": "id"}.get(key, key)] = item[key]
    return SourceRow(
        file, index, fields, columns=names, source_id=str(fields["id"]) if "id" in fields else None
    )
