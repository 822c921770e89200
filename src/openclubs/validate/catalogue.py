"""Every issue type the validator can report, in one table.

Each row has a stable snake_case ``type`` (as the official OpenActive validator's issues do),
a severity, a category, a title for people, the spec clause it enforces and a message
template. ``docs/issues.md`` is generated from this table (``openclubs validate
--list-issues --format markdown``) and a test fails when the two drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Severity = Literal["failure", "warning", "notice", "suggestion"]
Category = Literal["conformance", "data-quality", "internal"]

SEVERITY_ORDER: dict[str, int] = {"failure": 0, "warning": 1, "notice": 2, "suggestion": 3}
SPEC_URL = "https://openactive-contrib.github.io/club-specification/0.2/"

ORG = "Club Spec 0.2 §3.1 Describing Organisations"
CONTACT = "Club Spec 0.2 §3.1, footnote 1: at least one of url, sameAs, email or telephone MUST"
ACT = "Club Spec 0.2 §3.2 Describing Activities"
ACT_LIST = "Club Spec 0.2 §1 and §3.2: use the OpenActive Activity List"
PLACE = "Club Spec 0.2 §3.3 Describing Place"
ADDR = "Club Spec 0.2 §3.3, PostalAddress table"
GEO = "Club Spec 0.2 §3.3, GeoCoordinates table"
FORMATS = "Club Spec 0.2 §2 Formats and §4.1 (JSON-LD in the page head)"
JSON = "Club Spec 0.2 §2 Formats (JSON-LD is JSON: RFC 8259)"
PROPERTY = "Club Spec 0.2 §3 Data Model: the property table of the object's type"
OPPORTUNITY = "Modelling Opportunity Data 2.0 (genderRestriction, ageRange), as §3.1 cites"


@dataclass(frozen=True, slots=True)
class IssueType:
    type: str
    severity: Severity
    category: Category
    title: str
    clause: str
    template: str


def _row(
    type_: str, severity: Severity, category: Category, title: str, clause: str, template: str
) -> IssueType:
    return IssueType(type_, severity, category, title, clause, template)


F: Final = "failure"
W: Final = "warning"
N: Final = "notice"
S: Final = "suggestion"
C: Final = "conformance"
Q: Final = "data-quality"
INTERNAL: Final = "internal"

CATALOGUE: tuple[IssueType, ...] = (
    # --- reading the input ---------------------------------------------------------------
    _row("source_unreadable", F, INTERNAL, "The input could not be read", FORMATS, "{detail}"),
    _row(
        "no_json_ld",
        F,
        C,
        "No JSON-LD found",
        FORMATS,
        'No JSON-LD was found: {detail}. Add a <script type="application/ld+json"> block '
        "with the club's data to the page's <head>.",
    ),
    _row(
        "json_syntax_error",
        F,
        C,
        "Broken JSON that could not be repaired",
        JSON,
        "The JSON cannot be read: {detail} (line {line}, column {column}). Fix this first: "
        "nothing else in this block could be checked.",
    ),
    _row(
        "json_invalid_escape",
        F,
        C,
        "Invalid escape in a JSON string",
        JSON,
        '`\\{char}` is not a valid escape in JSON (only \\" \\\\ \\/ \\b \\f \\n \\r \\t and '
        "\\uXXXX are). Write `{char}` without the backslash. openclubs read it as `{char}` "
        "to check the rest.",
    ),
    _row(
        "json_trailing_comma",
        F,
        C,
        "Trailing comma in JSON",
        JSON,
        "A comma before `{closer}` is not allowed in JSON. Remove it. openclubs ignored it "
        "to check the rest.",
    ),
    _row(
        "json_unclosed_bracket",
        F,
        C,
        "Bracket never closed",
        JSON,
        "`{opener}` opened at line {open_line} is never closed: add `{closer}` {where}. "
        "openclubs closed it to check the rest.",
    ),
    _row(
        "json_stray_bracket",
        F,
        C,
        "Closing bracket with nothing to close",
        JSON,
        "`{closer}` closes nothing here. Remove it. openclubs ignored it to check the rest.",
    ),
    _row(
        "not_a_club_record",
        W,
        C,
        "Not an organisation record",
        ORG,
        "This record is of type `{found}`, not an organisation: the Club Specification describes "
        "Organization, SportsClub or SportsOrganization records. {detail}",
    ),
    _row(
        "other_json_ld",
        N,
        C,
        "JSON-LD about something else",
        FORMATS,
        "This JSON-LD describes a `{found}`, not the club; openclubs only checks organisation "
        "records.",
    ),
    _row(
        "organizer_wrapper",
        N,
        C,
        "Organizer wrapper",
        ORG,
        "The organisations are wrapped in an `Organizer` object with an `organizer` list "
        "(the Modelling Opportunity Data 2.1 draft shape). The Club Specification publishes "
        "each Organization at the top level; openclubs checked each one inside.",
    ),
    # --- JSON-LD keywords ------------------------------------------------------------------
    _row(
        "missing_context",
        F,
        C,
        "No @context",
        FORMATS,
        'There is no `@context`. Add "@context": "https://openactive.io/" so that '
        "activity, ageRange and genderRestriction mean what OpenActive defines.",
    ),
    _row(
        "context_not_openactive",
        F,
        C,
        "@context is not OpenActive's",
        FORMATS,
        '`@context` is {value}; club data uses "https://openactive.io/" (alone or first in '
        "a list), otherwise `activity` and the other OpenActive terms have no meaning.",
    ),
    _row(
        "context_not_https",
        F,
        C,
        "@context uses the wrong form of OpenActive's URL",
        FORMATS,
        '`@context` has {value}; write exactly "https://openactive.io/" (https, no www).',
    ),
    _row(
        "missing_type",
        F,
        C,
        "No @type",
        PROPERTY,
        'This object has no `@type`; add "@type": "{expected}".',
    ),
    _row(
        "unrecognised_type",
        F,
        C,
        "Unrecognised @type",
        PROPERTY,
        "`@type` is {value}, which is not expected here: use {expected}.{hint}",
    ),
    _row(
        "type_not_in_club_spec",
        N,
        C,
        "Another kind of organisation",
        ORG,
        "`@type` {value} is a schema.org kind of organisation; the Club Specification names "
        "Organization, SportsClub and SportsOrganization, so consumers may not expect it.",
    ),
    _row(
        "keyword_without_at",
        W,
        C,
        "`type`/`id` written without @",
        FORMATS,
        "`{prop}` is written without `@`; the specification's examples use `@{prop}`, and "
        "consumers that read plain JSON look for that. Rename it to `@{prop}`.",
    ),
    # --- properties in general --------------------------------------------------------------
    _row(
        "missing_required_property",
        F,
        C,
        "REQUIRED property missing",
        PROPERTY,
        "`{prop}` is REQUIRED on {owner} and is missing.{hint}",
    ),
    _row(
        "missing_recommended_property",
        W,
        C,
        "Recommended property missing",
        PROPERTY,
        "`{prop}` is recommended on {owner}: {why}",
    ),
    _row(
        "invalid_type",
        F,
        C,
        "Value of the wrong kind",
        PROPERTY,
        "`{prop}` should be {expected}, but it is {actual}.{hint}",
    ),
    _row(
        "empty_value",
        F,
        C,
        "Empty value",
        PROPERTY,
        "`{prop}` is empty ({actual}). Leave the property out if there is nothing to say.",
    ),
    _row(
        "property_not_in_club_spec",
        N,
        C,
        "Property outside the Club Specification",
        PROPERTY,
        "`{prop}` is not part of the Club Specification for {owner}; openclubs did not check it.",
    ),
    _row(
        "html_in_text",
        F,
        Q,
        "HTML in a plain-text property",
        PROPERTY,
        "`{prop}` contains HTML ({tag}); it must be plain text. Remove the markup.",
    ),
    _row(
        "untidy_whitespace",
        W,
        Q,
        "Stray white space",
        PROPERTY,
        "`{prop}` has stray white space or line breaks ({value}); remove them.",
    ),
    _row(
        "invalid_url",
        F,
        C,
        "Not an absolute URL",
        PROPERTY,
        "`{prop}` must be an absolute http(s) URL, but it is {value}.{hint}",
    ),
    _row(
        "invalid_id",
        F,
        C,
        "@id is not an absolute URL",
        FORMATS,
        "`@id` must be an absolute http(s) URL that identifies this {owner}, but it is {value}.",
    ),
    _row(
        "missing_id",
        S,
        Q,
        "No @id",
        FORMATS,
        "This {owner} has no `@id`. Give it a stable URL (every example in the "
        "specification has one) so data users can recognise it across updates and sources.",
    ),
    # --- Organization -----------------------------------------------------------------------
    _row(
        "no_contact_route",
        F,
        C,
        "No way to contact the organisation",
        CONTACT,
        "There is no way to contact this organisation: give at least one of `url`, "
        "`sameAs`, `email` or `telephone` (the club's own, not a volunteer's).",
    ),
    _row(
        "invalid_email",
        F,
        Q,
        "Not an email address",
        CONTACT,
        "`{prop}` is {value}, which is not an email address.{hint}",
    ),
    _row(
        "invalid_telephone",
        W,
        Q,
        "Implausible telephone number",
        CONTACT,
        "`{prop}` is {value}: {detail}",
    ),
    _row(
        "personal_contact",
        N,
        Q,
        "Looks like a personal contact",
        CONTACT,
        "`{prop}` {detail} Publish the club's own contact route where it has one: volunteers "
        "change, and personal details in open data are hard to take back.",
    ),
    _row(
        "same_as_repeats_url",
        N,
        Q,
        "sameAs repeats url",
        ORG,
        "`{prop}` repeats the `url` ({value}); `sameAs` is for the club's social media "
        "profiles and other pages about it.",
    ),
    _row(
        "location_as_text",
        W,
        Q,
        "Location given as text only",
        PLACE,
        "`location` is only text ({value}). The specification allows it but Example 1 calls "
        'this "not recommended at all": give a Place with a name, a PostalAddress and '
        "GeoCoordinates so people can find the club on a map and by postcode.",
    ),
    _row(
        "invalid_gender_restriction",
        F,
        C,
        "Unknown genderRestriction",
        OPPORTUNITY,
        "`genderRestriction` is {value}; use one of "
        '"https://openactive.io/NoRestriction", "https://openactive.io/MaleOnly" or '
        '"https://openactive.io/FemaleOnly".{hint}',
    ),
    _row("invalid_age_range", F, C, "Impossible age range", OPPORTUNITY, "`{prop}` {detail}"),
    _row(
        "member_of_not_id",
        N,
        Q,
        "memberOf names rather than identifies",
        ORG,
        "`{prop}` is the name {value}; the specification asks for the organisation's id "
        "(its URL), so that consumers can link the two.",
    ),
    # --- activities -------------------------------------------------------------------------
    _row(
        "activity_not_concept",
        F,
        C,
        "Activity given as text",
        ACT,
        "`{prop}` is the text {value}; each activity must be a Concept object.{hint}",
    ),
    _row(
        "unknown_activity_id",
        F,
        C,
        "Activity id not in the Activity List",
        ACT_LIST,
        "`{prop}` {value} is not in the OpenActive Activity List.{hint}",
    ),
    _row(
        "activity_label_mismatch",
        W,
        Q,
        "Activity label does not match its id",
        ACT_LIST,
        'The activity id is "{expected}" in the Activity List, but `prefLabel` says {value}.{hint}',
    ),
    _row(
        "activity_without_id",
        W,
        Q,
        "Activity without an id",
        ACT_LIST,
        "Activity {value} has no `@id`, so data users cannot search by it reliably. "
        'Add "@id": "{id}" and "inScheme": "{scheme}" ({label} in the Activity '
        "List).{how}",
    ),
    _row(
        "activity_not_in_list",
        W,
        Q,
        "Activity not in the Activity List",
        ACT_LIST,
        "Activity {value} is not in the OpenActive Activity List.{hint}",
    ),
    _row(
        "old_activity_id_form",
        W,
        Q,
        "Old form of an Activity List id",
        ACT_LIST,
        '`{prop}` uses the old form {value}; write "{id}".',
    ),
    _row(
        "activity_scheme_mismatch",
        W,
        Q,
        "inScheme does not match the id",
        ACT_LIST,
        '`{prop}` is {value}, but the id belongs to "{scheme}".',
    ),
    _row(
        "custom_activity_list",
        N,
        Q,
        "Activity from another list",
        ACT_LIST,
        "Activity {value} comes from another list ({scheme}); openclubs only checks the "
        "OpenActive Activity List, and consumers may not recognise it.",
    ),
    # --- places and addresses ---------------------------------------------------------------
    _row(
        "address_as_text",
        W,
        Q,
        "Address given as text",
        PLACE,
        "`{prop}` is text ({value}); where possible give a PostalAddress object with "
        "streetAddress, addressLocality, addressRegion, postalCode and addressCountry.",
    ),
    _row(
        "place_name_is_coordinates",
        W,
        Q,
        "Place named by its coordinates",
        PLACE,
        "The place's `name` is coordinates ({value}); name the venue, and put the "
        "coordinates in `geo`.",
    ),
    _row(
        "invalid_country_code",
        F,
        C,
        "Country not an ISO 3166-1 alpha-2 code",
        ADDR,
        "`addressCountry` is {value}; it must be an ISO 3166-1 alpha-2 code.{hint}",
    ),
    _row(
        "invalid_postcode",
        F,
        Q,
        "Malformed UK postcode",
        ADDR,
        "`postalCode` {value} is not a well-formed UK postcode.{hint}",
    ),
    _row(
        "postcode_format",
        W,
        Q,
        "UK postcode not in its usual form",
        ADDR,
        '`postalCode` {value} should be written "{expected}" (capitals, one space).',
    ),
    _row(
        "address_trailing_comma",
        W,
        Q,
        "Address part ends with a comma",
        ADDR,
        "`{prop}` ends with a comma ({value}); remove it.",
    ),
    _row(
        "coordinate_out_of_range",
        F,
        C,
        "Coordinate out of range",
        GEO,
        "`{prop}` is {value}, outside {low}..{high}.{hint}",
    ),
    _row(
        "low_precision_coordinate",
        W,
        Q,
        "Coordinate too coarse",
        GEO,
        "`{prop}` is {value}; give at least two decimal places so consumers can place the "
        "club (the specification asks for two; four or five locate a building).",
    ),
    _row(
        "null_island",
        W,
        Q,
        "Coordinates are 0, 0",
        GEO,
        "Latitude and longitude are both 0 (a point in the Atlantic): this is almost "
        "certainly a missing value. Leave `geo` out or give the real coordinates.",
    ),
)

BY_TYPE: dict[str, IssueType] = {row.type: row for row in CATALOGUE}
