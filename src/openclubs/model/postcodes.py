"""UK postcodes (also used by Jersey, Guernsey and the Isle of Man): checking and formatting.

The shape follows the Royal Mail / ONS format: an outward code (area letters, district digit
and optional letter or digit) and an inward code (a digit and two letters, never C I K M O V).
"""

from __future__ import annotations

import re
from functools import lru_cache

_OUTWARD = (
    r"(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_FULL = re.compile(rf"^(?:({_OUTWARD})({_INWARD})|(GIR)(0AA))$")
_OUTWARD_ONLY = re.compile(rf"^{_OUTWARD}$")
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_LETTER_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "5": "S"})


class PostcodeCheck:
    """The verdict on one postcode: its canonical form when well formed, else a reason.
    (A plain class: compiled, it is made several times quicker than a dataclass.)"""

    def __init__(
        self, text: str, canonical: str | None, reason: str = "", did_you_mean: str | None = None
    ) -> None:
        self.text = text
        self.canonical = canonical
        self.reason = reason
        self.did_you_mean = did_you_mean

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostcodeCheck) and (
            self.text,
            self.canonical,
            self.reason,
            self.did_you_mean,
        ) == (other.text, other.canonical, other.reason, other.did_you_mean)

    def __hash__(self) -> int:
        return hash((self.text, self.canonical))

    def __repr__(self) -> str:
        return (
            f"PostcodeCheck({self.text!r}, {self.canonical!r}, {self.reason!r}, "
            f"{self.did_you_mean!r})"
        )

    @property
    def ok(self) -> bool:
        return self.canonical is not None


def compact(text: str) -> str:
    """Without any white space (non-breaking spaces too), in capitals."""
    return "".join(text.split()).upper()


def canonical_postcode(text: str) -> str | None:
    """'sk17 6sh' → 'SK17 6SH'; None when it is not a well-formed full UK postcode.

    Spacing is free ('SK176SH', 'SK17  6SH', 'HR8 2 JE'), but when there is a space, what
    stands before the first one must be the whole outward code: 'NP7 17DB' is not read as
    'NP71 7DB'.
    """
    parts = text.split()
    if len(parts) > 1 and len("".join(parts[1:])) != 3:
        return None
    match = _FULL.match("".join(parts).upper())
    if match is None:
        return None
    outward, inward = (match.group(1), match.group(2)) if match.group(1) else ("GIR", "0AA")
    return f"{outward} {inward}"


def is_outward_code(text: str) -> bool:
    """True for a district such as 'SE10' (what people type to search an area)."""
    return bool(_OUTWARD_ONLY.match(compact(text)))


@lru_cache(maxsize=65536)
def check_postcode(text: str) -> PostcodeCheck:
    """Check a postcode and explain what is wrong; never guesses silently."""
    canonical = canonical_postcode(text)
    if canonical is not None:
        return PostcodeCheck(text, canonical)
    squeezed = compact(text)
    if not squeezed:
        return PostcodeCheck(text, None, "it is empty")
    if len(squeezed) < 5:
        reason = "it is too short (a full postcode has 5 to 7 characters, such as SE10 0BW)"
        if is_outward_code(squeezed):
            reason = "it is only the first half (the district); give the full postcode"
        return PostcodeCheck(text, None, reason)
    if len(squeezed) > 7:
        return PostcodeCheck(text, None, "it is too long (a full postcode has 5 to 7 characters)")
    parts = text.split()
    if len(parts) > 1 and len("".join(parts[1:])) != 3:
        return PostcodeCheck(
            text, None, "the part after the space must be three characters: a digit and two letters"
        )
    outward, inward = squeezed[:-3], squeezed[-3:]
    repaired = (
        (outward[0] + outward[1:].translate(_DIGIT_LOOKALIKES) if len(outward) > 1 else outward)
        + inward[0].translate(_DIGIT_LOOKALIKES)
        + inward[1:].translate(_LETTER_LOOKALIKES)
    )
    guess = canonical_postcode(repaired)
    if guess is None and len(outward) > 1:  # "S020 6BG": a zero where the letter O belongs
        second = outward[1].translate(_LETTER_LOOKALIKES)
        guess = canonical_postcode(outward[0] + second + outward[2:] + inward)
    if guess is not None:
        return PostcodeCheck(
            text, None, "a letter stands where a digit belongs (or the reverse)", guess
        )
    if not inward[0].isdigit():
        return PostcodeCheck(
            text, None, "the last three characters must be a digit and two letters"
        )
    return PostcodeCheck(text, None, "it does not have the shape of a UK postcode")
