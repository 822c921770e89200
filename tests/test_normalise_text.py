"""Tidying names: white space, the CASC register's 40-character cut, and ALL-CAPS names."""

from __future__ import annotations

import csv
from functools import cache

import pytest

from openclubs.normalise.text import (
    _by_tokens,
    _simple_words,
    clean_text,
    join_wrapped,
    title_case_name,
)
from tests.helpers import SHARED

CASC = SHARED / "data" / "registered-casc.csv"


@cache
def casc_names() -> dict[str, str]:
    """The register's names as stored (trailing spaces and all), keyed by the stripped name."""
    with CASC.open(encoding="utf-8", newline="") as f:
        return {
            row["Organisation Name"].strip(): row["Organisation Name"] for row in csv.DictReader(f)
        }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BARROW CRICKET CLUB   ", "BARROW CRICKET CLUB"),
        ("  Greenwich\u00a0Yacht\r\nClub\t", "Greenwich Yacht Club"),
        ("A  B\u200b C", "A B C"),
        ("   ", None),
        ("\u00a0\r\n", None),
        ("", None),
        (None, None),
    ],
)
def test_clean_text(raw: str | None, expected: str | None) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ALDEBURGH & THORPENESS RUGBY FOOTBALL CL", "ALDEBURGH & THORPENESS RUGBY FOOTBALL CLUB"),
        ("ALCESTER TOWN FOOTBALL CLUB (1927) LIMIT", "ALCESTER TOWN FOOTBALL CLUB (1927) LIMITED"),
        ("HILLINGDON ABBOTS RUGBY FOOTBALL CLUB LT", "HILLINGDON ABBOTS RUGBY FOOTBALL CLUB LTD"),
        (
            "THE INCORPORATED STALYBRIDGE ST PAULS CR",
            "THE INCORPORATED STALYBRIDGE ST PAULS CRICKET CLUB",
        ),
        (
            "ROYAL TUNBRIDGE WELLS DISTRICT INDOOR BO",
            "ROYAL TUNBRIDGE WELLS DISTRICT INDOOR BOWLS CLUB",
        ),
        # cut between two words: the space stays
        (
            "ADLESTROP DAYLESFORD & ODDINGTON CRICKET",
            "ADLESTROP DAYLESFORD & ODDINGTON CRICKET CLUB",
        ),
        (
            "Aberavon Green Stars Rugby Football Club",
            "Aberavon Green Stars Rugby Football Club Limited",
        ),
        (
            "TUNSTALL AND RENDLESHAM OFF ROAD GROUP (",
            "TUNSTALL AND RENDLESHAM OFF ROAD GROUP (TROG)",
        ),
        (
            "ALDEBARAN CLUB K/A PARR'S PRIORY ROWING ",
            "ALDEBARAN CLUB K/A PARR'S PRIORY ROWING CLUB",
        ),
        # short names are left alone
        ("1066 RIFLE & PISTOL CLUB", "1066 RIFLE & PISTOL CLUB"),
    ],
)
def test_join_wrapped_on_the_casc_register(name: str, expected: str) -> None:
    raw = next(v for k, v in casc_names().items() if k.startswith(name))
    assert clean_text(join_wrapped(raw)) == expected


def test_join_wrapped_leaves_other_text_alone() -> None:
    text = "Aldershot Farnham and District Athletics Club"  # no gap at column 40
    assert join_wrapped(text) == text
    assert join_wrapped("short") == "short"


# Real names from the HMRC CASC register (checked to be there), and how they should read.
REAL_NAMES = [
    ("1066 RIFLE & PISTOL CLUB", "1066 Rifle & Pistol Club"),
    ("49TH RIFLE AND PISTOL CLUB", "49th Rifle and Pistol Club"),
    ("BARROW CRICKET CLUB", "Barrow Cricket Club"),
    ("1829 Hockey", "1829 Hockey"),
    ("7 Hills Cycling Club", "7 Hills Cycling Club"),
    ("CHAPEL-EN-LE-FRITH CRICKET CLUB", "Chapel-en-le-Frith Cricket Club"),
    ("CHESTER-LE-STREET CRICKET CLUB", "Chester-le-Street Cricket Club"),
    ("BETWS-Y-COED GOLF CLUB", "Betws-y-Coed Golf Club"),
    ("ALLT-YR-YN LAWN TENNIS CLUB", "Allt-yr-Yn Lawn Tennis Club"),
    ("SALTBURN BY THE SEA GOLF CLUB", "Saltburn by the Sea Golf Club"),
    ("JOHN O'GAUNT ROWING CLUB", "John O'Gaunt Rowing Club"),
    ("ST MARY'S BOWLS CLUB", "St Mary's Bowls Club"),
    ("STOKE D'ABERNON CRICKET CLUB", "Stoke D'Abernon Cricket Club"),
    ("MAGHERY SEAN MCDERMOTTS GFC", "Maghery Sean McDermotts GFC"),
    ("MACCLESFIELD CRICKET CLUB", "Macclesfield Cricket Club"),
    ("EAST KILBRIDE CRICKET CLUB (EKCC)", "East Kilbride Cricket Club (EKCC)"),
    (
        "MATHON CRADLEY & STORRIDGE (MCS) TENNIS CLUB",
        "Mathon Cradley & Storridge (MCS) Tennis Club",
    ),
    ("CO-OP SPORTS AND SOCIAL CLUB", "Co-op Sports and Social Club"),
    ("BENWELL HILL CRICKET CLUB C.I.C.", "Benwell Hill Cricket Club C.I.C."),
    (
        "THE 8TH WARWICKS (STRATFORD) HOME GUARD RIFLE CLUB",
        "The 8th Warwicks (Stratford) Home Guard Rifle Club",
    ),
    ("POULTON FIT4LIFE", "Poulton Fit4Life"),
    ("TRI2O TRIATHLON CLUB LTD", "Tri2O Triathlon Club Ltd"),
    ("BACTON UNITED '89 FOOTBALL CLUB", "Bacton United '89 Football Club"),
    ("CLWB RYGBI BETHESDA CYF", "Clwb Rygbi Bethesda Cyf"),
    ("TIR NA NOG GAC", "Tir na Nog GAC"),
    ("FLEUR DE LYS FOOTBALL CLUB", "Fleur de Lys Football Club"),
    ("SLYNE WITH HEST BOWLING CLUB", "Slyne with Hest Bowling Club"),
    ("RWB RFC LIMITED", "RWB RFC Limited"),
    ("MID LANCS BMX CLUB", "Mid Lancs BMX Club"),
    ("BSAC LONDON NO1 BRANCH", "BSAC London No1 Branch"),
    ("coventrians rugby football club", "Coventrians Rugby Football Club"),
    ("SKK JUDO CLUB", "SKK Judo Club"),
    ("ST EUGENE'S G.A.C. NEWTOWNSTEWART", "St Eugene's G.A.C. Newtownstewart"),
    ("WATTON AT STONE CRICKET CLUB", "Watton at Stone Cricket Club"),
    ("TUMBLE BEE'Z GYMNASTICS CLUB", "Tumble Bee'z Gymnastics Club"),
    (
        "THE WESTGATE-ON-SEA AND BIRCHINGTON GOLF CLUB LTD",
        "The Westgate-on-Sea and Birchington Golf Club Ltd",
    ),
]


@pytest.mark.parametrize(("name", "expected"), REAL_NAMES)
def test_title_case_of_real_names(name: str, expected: str) -> None:
    assert name in casc_names()
    assert title_case_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MCDONALD'S", "McDonald's"),
        ("O'NEILL", "O'Neill"),
        ("ST. HELENS", "St. Helens"),
        ("STOKE-ON-TRENT", "Stoke-on-Trent"),
        ("ABC RFC", "ABC RFC"),
        ("NEWCASTLE UPON TYNE YMCA", "Newcastle upon Tyne YMCA"),
        ("THE ROYAL BERKSHIRE CRICKET XI", "The Royal Berkshire Cricket XI"),
        ("WESTON-SUPER-MARE AFC", "Weston-super-Mare AFC"),
        ("CLUB MACDONALD", "Club MacDonald"),
        ("Barrow CC", "Barrow CC"),  # mixed case: the club's own spelling
        ("bishops stortford squash", "Bishops Stortford Squash"),
        ("1066 RIFLE & PISTOL CLUB 12", "1066 Rifle & Pistol Club 12"),
        ("OLD ELTHAMIANS  RFC", "Old Elthamians  RFC"),
        ("Ⅻ CLUB", "Ⅻ Club"),  # a numeral that is not a digit (once recursed for ever)
    ],
)
def test_title_case_rules(name: str, expected: str) -> None:
    assert title_case_name(name) == expected


def test_word_by_word_title_case_agrees_with_the_full_rules() -> None:
    """The quick path for names of plain words must give what the token rules give, on
    every name of the register (and it must be the path most of them take)."""
    quick = 0
    for raw in casc_names().values():
        name = (clean_text(join_wrapped(raw)) or "").upper()
        simple = _simple_words(name)
        if simple is not None:
            assert simple == _by_tokens(name), name
            quick += 1
        else:
            assert title_case_name(name) == _by_tokens(name)
    assert quick > 4000


def test_title_case_on_the_whole_register_only_changes_capitals() -> None:
    changed = 0
    for raw in casc_names().values():
        name = clean_text(join_wrapped(raw))
        assert name is not None
        pretty = title_case_name(name)
        assert pretty.upper() == name.upper()
        if not (name.isupper() or name.islower()):
            assert pretty == name
        changed += pretty != name
    assert changed > 5900  # 5,980 names are in capitals
