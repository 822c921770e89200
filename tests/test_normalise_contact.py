"""Cleaning telephone numbers, email addresses, web addresses and social media columns."""

from __future__ import annotations

import csv
import random

import phonenumbers
import pytest

from openclubs.normalise.contact import (
    _uk_national,
    clean_email,
    clean_telephone,
    clean_url,
    social_url,
)
from tests.helpers import EXAMPLES

RIFLE_CLUBS = EXAMPLES / "18-uk-rifle-clubs-clubfinder.csv"


def rifle_clubs() -> list[dict[str, str]]:
    with RIFLE_CLUBS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("02083960321", "020 8396 0321"),  # Greenwich Yacht Club, spec example 1
        ("(+44) 020 7511 6463", "020 7511 6463"),  # W3C OpenTrack CG example
        ("01234 567890", "01234 567890"),  # OpenActive club finder template
        ("+44 (0)20 8396 0321", "020 8396 0321"),
        ("0044 20 8396 0321", "020 8396 0321"),
        ("Tel: 0208-396-0321", "020 8396 0321"),
        ("07911 123456", "07911 123456"),
        ("01534 123456", "01534 123456"),  # Jersey: +44 too, written the UK way
        ("0208 396 0321 ext 12", "020 8396 0321 x12"),
        ("+353 1 234 5678", "+353 1 234 5678"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
    ],
)
def test_clean_telephone(raw: str, expected: str) -> None:
    assert clean_telephone(raw) == (expected, None)


def test_telephone_with_words_or_two_numbers_keeps_the_first_with_a_note() -> None:
    number, note = clean_telephone("01234 567890 (evenings)")
    assert number == "01234 567890"
    assert note == "kept the number, left out the words around it"
    number, note = clean_telephone("020 8396 0321 / 01234 567890")
    assert (number, note) == ("020 8396 0321", "2 numbers given; kept the first")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("12345", "too few digits"),
        ("n/a", "too few digits"),
        ("0208 396 03", "not a valid UK number"),
        ("07700 900123", "not in a range of numbers in use"),  # Ofcom's drama numbers
    ],
)
def test_invalid_telephone(raw: str, problem: str) -> None:
    number, reason = clean_telephone(raw)
    assert number is None
    assert reason is not None and problem in reason


def test_empty_telephone_is_not_a_problem() -> None:
    assert clean_telephone("  ") == (None, None)
    assert clean_telephone(None) == (None, None)


def test_uk_fast_path_agrees_with_phonenumbers() -> None:
    """The +44 shortcut uses libphonenumber's metadata; it must give the same answers."""
    rng = random.Random(2024)
    prefixes = "1 2 3 5 7 8 9 20 113 121 1387 1524 15394 1697 16977 1534 1481 1624 7700 800 845"
    numbers = [
        (prefix + "".join(rng.choice("0123456789") for _ in range(12)))[:length]
        for prefix in prefixes.split()
        for length in (9, 10)
        for _ in range(150)
    ]
    for nsn in numbers:
        parsed = phonenumbers.parse("0" + nsn, "GB")
        expected = (
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
            if phonenumbers.is_valid_number(parsed)
            else None
        )
        assert _uk_national(nsn) == expected, nsn


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("training@greenwichyachtclub.co.uk", ("training@greenwichyachtclub.co.uk", None)),
        ("Info@GreenwichYC.ORG.UK", ("Info@greenwichyc.org.uk", None)),
        ("mailto:info@example.com", ("info@example.com", None)),
        ("MAILTO: sec@club.org?subject=Joining", ("sec@club.org", None)),
        (" <john@club.org>. ", ("john@club.org", None)),
        ("a@club.org; b@club.org", ("a@club.org", "2 addresses given; kept the first")),
        (
            "Secretary: sec@club.org",
            ("sec@club.org", "kept the address, left out the words around it"),
        ),
    ],
)
def test_clean_email(raw: str, expected: tuple[str | None, str | None]) -> None:
    assert clean_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("info at club dot org", "no @"),
        ("john@club", "not a valid email address"),
        ("john@@club.org", "not a valid email address"),
        ("john smith@club.org", "space"),
    ],
)
def test_invalid_email(raw: str, problem: str) -> None:
    address, reason = clean_email(raw)
    assert address is None
    assert reason is not None and problem in reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "www.cobo-arc.co.uk",
            ("https://www.cobo-arc.co.uk", "added https:// (no scheme was given)"),
        ),
        ("http://www.cobo-arc.co.uk", ("http://www.cobo-arc.co.uk", None)),
        ("https://guernseypistolclub.com", ("https://guernseypistolclub.com", None)),
        ("HTTPS://WWW.Club.co.uk/Join?Ref=A", ("https://www.club.co.uk/Join?Ref=A", None)),
        ("http//www.club.org", ("http://www.club.org", None)),
        ("https:/club.org/", ("https://club.org/", None)),
        ("www.club.org.", ("https://www.club.org", "added https:// (no scheme was given)")),
        (
            "http://www.balornock-rifle-club.co.uk/Members Wanted.htm",  # rifle clubs list
            (
                "http://www.balornock-rifle-club.co.uk/Members%20Wanted.htm",
                "spaces in the path written %20",
            ),
        ),
        ("http://https://club.org/", ("https://club.org/", None)),
    ],
)
def test_clean_url(raw: str, expected: tuple[str | None, str | None]) -> None:
    assert clean_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("our club website", "spaces"),
        ("greenwichyachtclub", "dot"),
        ("localhost", "dot"),
        ("ftp://files.club.org", "ftp:"),
        ("mailto:info@club.org", "mailto:"),
        ("info@club.org", "email address"),
    ],
)
def test_invalid_url(raw: str, problem: str) -> None:
    url, reason = clean_url(raw)
    assert url is None
    assert reason is not None and problem in reason


def test_every_rifle_club_url_is_usable() -> None:
    urls = [row["cluburl"] for row in rifle_clubs() if row["cluburl"].strip()]
    assert len(urls) == 574
    for url in urls:
        cleaned, problem = clean_url(url)
        assert cleaned is not None, (url, problem)
        assert cleaned.startswith(("http://", "https://"))


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        # values from the UK rifle clubs list
        (
            "facebook",
            "https://www.facebook.com/Newtownards-and-District-Shooting-Club-203935961106/?ref=page_internal",
            "https://www.facebook.com/Newtownards-and-District-Shooting-Club-203935961106",
        ),
        (
            "facebook",
            "https://en-gb.facebook.com/GallowaySmallArms",
            "https://www.facebook.com/GallowaySmallArms",
        ),
        (
            "facebook",
            "https://www.facebook.com/groups/2379527898/",
            "https://www.facebook.com/groups/2379527898",
        ),
        ("facebook", "http://www.facebook.com/HWDRPC", "https://www.facebook.com/HWDRPC"),
        (
            "facebook",
            "http://https://www.facebook.com/groups/CardiffUniversityRifleClub/",
            "https://www.facebook.com/groups/CardiffUniversityRifleClub",
        ),
        (
            "facebook",
            "http://www.facebook.co.uk/waltonlions",
            "https://www.facebook.com/waltonlions",
        ),
        ("twitter", "http://twitter.com/@addiscomberc", "https://twitter.com/addiscomberc"),
        (
            "twitter",
            "https://twitter.com/brauntontsc?ref_src=twsrc%5Etfw",
            "https://twitter.com/brauntontsc",
        ),
        ("twitter", "http://www.twitter.com/iomsc", "https://twitter.com/iomsc"),
        ("twitter", "http://twitter.github.io/bootstrap/", None),
        ("twitter", "https://twitter.com/search?q=raftrc&src=typd", None),
        (
            "instagram",
            "https://instagram.com/swanseaunisu/",
            "https://www.instagram.com/swanseaunisu",
        ),
        # handles, and the other shapes people type
        ("facebook", "@greenwichYC", "https://www.facebook.com/greenwichYC"),
        ("facebook", "greenwichYC", "https://www.facebook.com/greenwichYC"),
        ("facebook", "facebook.com/greenwichyc", "https://www.facebook.com/greenwichyc"),
        (
            "facebook",
            "https://m.facebook.com/profile.php?id=1000123&ref=bm",
            "https://www.facebook.com/profile.php?id=1000123",
        ),
        ("twitter", "@greenwichYC", "https://twitter.com/greenwichYC"),
        ("twitter", "https://x.com/greenwichYC", "https://twitter.com/greenwichYC"),
        ("twitter", "twitter.com/#!/greenwichYC", "https://twitter.com/greenwichYC"),
        ("x", "greenwich_yc", "https://twitter.com/greenwich_yc"),
        ("instagram", "@greenwich.yc", "https://www.instagram.com/greenwich.yc"),
        ("instagram", "https://www.instagram.com/p/Cx1abc/", None),
        ("facebook", "Greenwich Yacht Club", None),
        ("facebook", "www.greenwichyachtclub.co.uk", None),
        ("twitter", "a_handle_that_is_too_long", None),
        ("instagram", "", None),
    ],
)
def test_social_url(kind: str, raw: str, expected: str | None) -> None:
    assert social_url(kind, raw) == expected


def test_every_rifle_club_social_link_becomes_a_profile_url() -> None:
    bases = {
        "facebook": "https://www.facebook.com/",
        "twitter": "https://twitter.com/",
        "instagram": "https://www.instagram.com/",
    }
    left_out = []
    for row in rifle_clubs():
        for kind, base in bases.items():
            if row[kind].strip():
                url = social_url(kind, row[kind])
                if url is None:
                    left_out.append(row[kind])
                else:
                    assert url.startswith(base)
    assert sorted(left_out) == [
        "http://twitter.github.io/bootstrap/",
        # a news-feed link, not a page
        "http://www.facebook.com/home.php#!/home.php?sk=group_168623656515158&notif_t=group_activity",
        "https://twitter.com/search?q=raftrc&src=typd",
    ]


def test_unknown_social_network() -> None:
    with pytest.raises(ValueError, match="unknown social network"):
        social_url("myspace", "club")
