"""Tidying names and free text: white space, fixed-width wrapping, and ALL-CAPS names.

Title-case rules (for names written entirely in capitals, or entirely in lower case; a name
with both is the club's own spelling and is left alone):

* kept in capitals: words in ACRONYMS (ABC, AFC, YMCA ...), words with no vowel (RFC, CC,
  BMX, GFC; "W" counts as a vowel, for Welsh CWM or CLWB, and "Y" too, for GYM, FLY), except the
  abbreviations in TITLED (LTD, ST, MR ...); Roman numerals written with I, V and X (XI, XV,
  II); a bracketed word made of the initials of the words before it (EKCC in "EAST KILBRIDE
  CRICKET CLUB (EKCC)");
* lower case after the first word: the particles in PARTICLES ("Newcastle upon Tyne"), and
  inside hyphenated place names the ones in HYPHEN_PARTICLES ("Stoke-on-Trent");
* Mc names ("McDonald's"), Mac only for the Scottish surnames in MAC_NAMES (not Macclesfield);
  after an apostrophe a capital only when one letter comes before it (O'Neill, D'Arcy, but
  Parr's); letters after a number are lower case for ordinals (49th), else kept (U3A, A5);
* every other word: a capital and then lower case.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SPACE = re.compile(r"[\s\u00a0\u200b\ufeff]+")
ACRONYMS = frozenset(
    """ABC AC AFC ARC ARLFC ASC ATC BSAC CIC CIO GAA GAC GB IOM KW NI OTC RAF RAFA RNLI RUFC
    RWB RYA SCIO UK USA YC YCC YFC YHA YMCA YWCA""".split()
)
TITLED = frozenset("LTD ST STS MR MRS DR NR RD MT".split())
PARTICLES = frozenset("of and the upon on in de la le na at for with by".split())
HYPHEN_PARTICLES = frozenset("on in upon under le la de en y yr super cum by the of and".split())
MAC_NAMES = frozenset(
    """MACDONALD MACLEOD MACGREGOR MACLEAN MACINTYRE MACPHERSON MACKINNON MACARTHUR
    MACAULAY MACFARLANE""".split()
)
WHOLE_WORDS = frozenset(
    """AND ACADEMY ASSOCIATION ATHLETIC BOWLING BRANCH CENTRE CLUB CLUBS COMMUNITY COMPANY
    CRICKET FOOTBALL GOLF HOCKEY INTEREST JUNIORS LEAGUE LIMITED LTD RUGBY SAILING SECTION
    SOCIAL SOCIETY SPORTS SWIMMING TEAM TENNIS UNITED YOUTH""".split()
)
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]*)*")
_VOWEL = re.compile(r"[AEIOUYW]")
_ROMAN = re.compile(r"X{0,3}(?:IX|IV|V?I{0,3})")
_PIECES = re.compile(r"\d+|\D+")
_ORDINAL = re.compile(r"\d+(?:ST|ND|RD|TH)")
_APOSTROPHE = re.compile(r"(['’])")
_LETTERS = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=65536)  # an import cleans the same towns, counties and streets again and again
def clean_text(s: str | None) -> str | None:
    """`s` stripped, with runs of white space (CR/LF, tabs, non-breaking and zero-width
    spaces) made one space; None when nothing is left."""
    if s is None:
        return None
    text = s.strip()
    if "  " in text or not text.isprintable():  # tabs, line ends, odd spaces inside
        text = _SPACE.sub(" ", text).strip()
    return text or None


def join_wrapped(s: str, width: int = 40) -> str:
    """Undo the cut a fixed-width export made inside a long value at column `width`.

    The HMRC CASC register cuts names at 40 characters and puts one to three spaces after the
    cut, whether it fell inside a word ("...FOOTBALL CL  UB", "...LIMIT ED") or between two
    ("...CRICKET CLUB"), and again every 40 characters after that. The pieces are joined
    unless the one after the gap is a whole word that names often have (CLUB, LIMITED, SOCIAL
    ...) or the one before ends in punctuation. Apply it to the raw value (before stripping),
    and only to sources known to be cut like this.
    """
    out: list[str] = []
    rest = s
    while len(rest) > width and rest[width:].strip():
        head, tail = rest[:width], rest[width:]
        if head[-1].isspace():  # cut between two words: nothing was added
            out.append(head)
        elif tail[0].isspace():
            tail = tail.lstrip()
            following = tail.split(None, 1)[0].strip("()[].,").upper()
            whole = following in WHOLE_WORDS or head[-1] in ".,&)"
            out.append(head + " " if whole and head[-1] != "(" else head)
        else:
            break  # no gap: the value was not cut here
        rest = tail
    return "".join(out) + rest


@lru_cache(maxsize=65536)  # towns, counties and streets recur throughout a register
def title_case_name(s: str) -> str:
    """`s` in title case when written all in capitals (or all in lower case), else as given."""
    if s.isupper():
        text = s
    elif s.islower():
        text = s.upper()
    else:
        return s
    quick = _simple_words(text)
    return quick if quick is not None else _by_tokens(text)


def _by_tokens(text: str) -> str:
    """The title case of a name in capitals, token by token with what stands around each."""
    out: list[str] = []
    end = 0
    first = True
    for match in _TOKEN.finditer(text):
        start = match.start()
        before, after = text[end:start], text[match.end() : match.end() + 1]
        out.append(before)
        word = match.group()
        hyphen_middle = before.endswith("-") and after == "-" and not first
        if before.endswith("(") and after == ")" and _is_initialism(word, text[:start]):
            out.append(word)
        else:
            out.append(_word(word, first, hyphen_middle))
        first = False
        end = match.end()
    out.append(text[end:])
    result = "".join(out)
    return result.replace("Co-Op", "Co-op")  # the only hyphenated word with a lower second half


def _simple_words(text: str) -> str | None:
    """The title case of a name whose space-separated pieces are each a whole word or only
    punctuation ("BARROW CRICKET CLUB 12", "RIFLE & PISTOL CLUB"), word by word; None for
    the others (apostrophes, hyphens, brackets, dots inside words), which need the full
    rules. Most names of a register are simple, and each is new, so this path saves most of
    a large import's title-casing."""
    out: list[str] = []
    first = True
    for piece in text.split(" "):
        if piece.isalnum():  # one whole token: [^\W_]+ is what isalnum() accepts
            out.append(_word(piece, first, False))
            first = False
        elif any(c.isalnum() for c in piece):
            return None
        else:
            out.append(piece)
    return " ".join(out)


@lru_cache(maxsize=16384)
def _word(word: str, first: bool, hyphen_middle: bool) -> str:
    """One word in title case (positional arguments: a cache key built quicker)."""
    if "'" in word or "’" in word:
        return _apostrophes(word, first=first)
    if word in ACRONYMS:
        return word
    if word in TITLED:
        return word.capitalize()
    lower = word.lower()
    if not first and (lower in HYPHEN_PARTICLES if hyphen_middle else lower in PARTICLES):
        return lower
    if _ROMAN.fullmatch(word):
        return word
    if not word.isalpha():
        return _alphanumeric(word)
    if not _VOWEL.search(word):
        return word
    if word.startswith("MC") and len(word) > 3:
        return "Mc" + word[2:].capitalize()
    if word in MAC_NAMES:
        return "Mac" + word[3:].capitalize()
    return word.capitalize()


def _apostrophes(word: str, *, first: bool) -> str:
    parts = _APOSTROPHE.split(word)
    out = [_word(parts[0], first, False) if parts[0] else ""]
    previous = parts[0]
    for i in range(1, len(parts), 2):
        mark, part = parts[i], parts[i + 1]
        if len(previous) == 1 and previous.isalpha():
            out.append(mark + part.capitalize())
        elif part.isdigit():
            out.append(mark + part)
        else:
            out.append(mark + part.lower())
        previous = part
    return "".join(out)


def _alphanumeric(word: str) -> str:
    """Words mixing letters and digits: 49TH -> 49th, FIT4LIFE -> Fit4Life, U3A -> U3A."""
    if _ORDINAL.fullmatch(word):
        return word.lower()
    pieces = _PIECES.findall(word)
    if len(pieces) == 1:  # a numeral that is not a digit ("Ⅻ"): kept, not split forever
        return word
    return "".join(p if p.isdigit() else _word(p, True, False) for p in pieces)


def _is_initialism(word: str, before: str) -> bool:
    """True when `word` is made of initials of the words in `before`, in order (EKCC)."""
    if not word.isalpha() or len(word) < 2:
        return False
    initials = iter(w[0] for w in _LETTERS.findall(before))
    return all(letter in initials for letter in word)
