"""UK postcodes and country codes, on the values real registers contain."""

from __future__ import annotations

import pytest

from openclubs.model.countries import country_code, is_alpha2
from openclubs.model.postcodes import canonical_postcode, check_postcode, is_outward_code


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("sk17 6sh", "SK17 6SH"),
        ("Sk17 6SH", "SK17 6SH"),
        ("SE100BW", "SE10 0BW"),
        ("  ec1a  1bb ", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("BT1 1AA", "BT1 1AA"),
        ("JE2 3NN", "JE2 3NN"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_well_formed_postcodes(text: str, canonical: str) -> None:
    assert canonical_postcode(text) == canonical
    assert check_postcode(text).ok


@pytest.mark.parametrize(
    ("text", "reason", "did_you_mean"),
    [
        ("CRO 5JH", "a letter stands where a digit belongs", "CR0 5JH"),
        ("NP7 17DB", "the part after the space must be three characters", None),
        ("KK", "too short", None),
        ("SE10", "only the first half", None),
        ("SW1A 1AAA", "too long", None),
        ("", "empty", None),
    ],
)
def test_malformed_postcodes_are_explained_not_guessed(
    text: str, reason: str, did_you_mean: str | None
) -> None:
    verdict = check_postcode(text)
    assert verdict.canonical is None
    assert reason in verdict.reason
    assert verdict.did_you_mean == did_you_mean


def test_outward_codes() -> None:
    assert is_outward_code("SE10") and is_outward_code("se10") and not is_outward_code("SE10 0BW")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("UK", "GB"),
        ("England", "GB"),
        ("Northern Ireland", "GB"),
        ("Wales", "GB"),
        ("Jersey", "JE"),
        ("Guernsey", "GG"),
        ("Isle of Man", "IM"),
        ("France", "FR"),
        ("gb", "GB"),
        ("Narnia", None),
    ],
)
def test_country_codes(text: str, code: str | None) -> None:
    assert country_code(text) == code


def test_alpha2_is_exact() -> None:
    assert is_alpha2("GB") and is_alpha2("JE") and not is_alpha2("UK") and not is_alpha2("gb")
