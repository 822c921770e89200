"""Activity List concepts from club names and from activity columns.

`infer_activities` reads a club name word by word and takes the longest run of words that is
a label of the Activity List (prefLabel, altLabel, hiddenLabel or openclubs synonym) or a
club-name word of CLUB_WORDS ("bowling" is Bowls, "RFC" Rugby Union, "wheelers" Cycling).
Words are compared without case, spaces or hyphens, so "TEN PIN BOWLING" is Ten-Pin Bowling
and "CR ICKET" Cricket; "Table Tennis" wins over "Tennis" because it is longer. It does not
guess:

* labels that are ordinary words in names are not used (NAME_STOPLIST: Boston Spa, Golf House,
  Eton, Burn, Racing, Fitness, and Diving, which is sub-aqua as often as springboard);
* ambiguous abbreviations are not read: CC (cricket or cycling club), AC, ASC (amateur
  swimming, or athletic and sports club), BC, SC, HC; nor are Harriers, Athletic, Wanderers,
  Boat Club (rowing, motor boats or angling) or Target Club (shooting or archery);
* "ABC" is Boxing only when the name names nothing else ("ABC RFC" is a rugby club);
* "Rugby" opening a name that names another activity is the town ("Rugby Bowling Club");
* a broader concept is dropped when a narrower one is found too (Indoor Bowls, not Bowls).
"""

from __future__ import annotations

import re
from functools import lru_cache

from openclubs.normalise.text import clean_text
from openclubs.vocab import Concept, ConceptScheme, activity_list, normalise_label


def _words(label: str, *phrases: str, note: str = "") -> dict[str, tuple[str, str]]:
    return dict.fromkeys(phrases, (label, note))


# club-name word or phrase -> (prefLabel, or "" for a phrase that names no activity; note)
CLUB_WORDS: dict[str, tuple[str, str]] = {
    **_words("Bowls", "bowling", "bowlers"),
    **_words("Indoor Bowls", "indoor bowling"),
    **_words("Crown Green Bowls", "crown green bowling"),
    **_words("Flat Green Bowls", "flat green bowling"),
    **_words("Short Mat Bowls", "short mat bowling"),
    **_words("Carpet Bowls", "carpet bowling"),
    **_words("Rugby Union", "rugby football", note="rugby union; league clubs say league"),
    **_words("Rugby Union", "rugby union football", "rugby football union", "rugby fc"),
    **_words("Rugby League", "rugby league football", "rugby football league", "rugby league fc"),
    **_words("Rugby Union", "rfc", note="Rugby Football Club"),
    **_words("Rugby Union", "rufc", note="Rugby Union Football Club"),
    **_words("Rugby League", "rlfc", note="Rugby League Football Club"),
    **_words("Rugby League", "arlfc", note="Amateur Rugby League Football Club"),
    **_words("Rugby", "rygbi", note="Welsh for rugby"),
    **_words("Football", "fc", note="Football Club"),
    **_words("Football", "afc", note="Association Football Club"),
    **_words("Football", "jfc", note="Junior Football Club"),
    **_words("Football", "yfc", note="Youth Football Club"),
    **_words("Gaelic Football", "gfc", note="Gaelic Football Club"),
    **_words("Gaelic Games", "gaa", note="Gaelic Athletic Association"),
    **_words("Gaelic Games", "gac", note="Gaelic Athletic Club"),
    **_words("Gaelic Games", "clg", note="Cumann Lúthchleas Gael"),
    **_words("Gaelic Games", "gaelic athletic"),
    **_words("Shinty", "camanachd", note="Gaelic for shinty"),
    **_words("Tennis", "ltc", note="Lawn Tennis Club"),
    **_words("Padel Tennis", "padel"),
    **_words("Sailing", "yacht"),
    **_words("Sand Yachting", "sand yacht"),
    **_words("", "motor yacht", "model yacht", note="not sailing"),
    **_words("Swimming", "swim"),
    **_words("Scuba Diving", "sub aqua", "scuba"),
    **_words("Scuba Diving", "bsac", note="British Sub-Aqua Club"),
    **_words("Canoeing", "canoe"),
    **_words("Kayaking", "kayak"),
    **_words("Cornish Pilot Gig Rowing", "gig"),
    **_words("Powerboating", "power boat"),
    **_words("Dragon Boat Racing", "dragon boat"),
    **_words("Angling", "anglers"),
    **_words("Archery", "archers", "bowmen"),
    **_words("Pistol", "revolver"),
    **_words("Shooting", "gun"),
    **_words("Cycling", "cycle", "cyclists", "wheelers", "velo"),
    **_words("Cycling", "cycle speedway", note="not motorcycle Speedway"),
    **_words("Motor Cycling", "motorcycle"),
    **_words("Bmx Racing", "bmx"),
    **_words("Running", "runners"),
    **_words("Jogging", "joggers"),
    **_words("Triathlon", "triathletes", "tri club"),
    **_words("Orienteering", "orienteers"),
    **_words("Gymnastics", "gymnastic"),
    **_words("Trampolining", "trampoline"),
    **_words("Judo", "judokwai", note="a judo club"),
    **_words("Skiing", "ski"),
    **_words("Water Skiing", "water ski", "aqua ski"),
    **_words("Jet Skiing", "jet ski"),
    **_words("Figure Skating", "ice dance"),
    **_words("Equestrian", "riding club"),
    **_words("Golf", "golfing"),
    **_words("", "rugby road", "rugby town", "rugby borough", note="the town of Rugby"),
}
# Used only when nothing else is found: "ABC RFC" is a rugby club, "Trojan ABC" a boxing one.
WEAK_WORDS = _words("Boxing", "abc", note="Amateur Boxing Club")
NAME_STOPLIST = frozenset(
    """acting aerial air bounce burn camping carnival commercial contemporary creche disco
    diving drumming eton extend fabs fierce fitness freestyle funk gardening gym hacking house
    jazz jive kfa latin locking lyrical meditation modern nia nova otago pool popping racing
    rebound sauna schooling singing snatch spa sprint suspension swing tap tre urban""".split()
)
ABBREVIATIONS = frozenset(
    "abc afc arlfc bmx bsac clg fc gaa gac gfc jfc ltc rfc rlfc rufc yfc".split()
)
PLACE_WORDS = frozenset({"rugby"})  # a town too: ignored opening a name that names more
_WORDS = re.compile(r"[^\W_]+")
_ENDS_IN_CLUB = re.compile(r"\b(\w{3,})(club)\b")

Match = tuple[Concept | None, str]


def _glued_club(text: str) -> bool:
    """Whether "club" ends a longer word (most names have it as a word of its own, and the
    check is quicker than the substitution)."""
    at = text.find("club")
    while at >= 0:
        if at > 0 and text[at - 1].isalnum():
            return True
        at = text.find("club", at + 4)
    return False


def _tokens(text: str) -> list[str]:
    text = text.casefold()
    if "&" in text:
        text = text.replace("&", " and ")
    if _glued_club(text):  # "CRICKETCLUB"
        text = _ENDS_IN_CLUB.sub(r"\1 \2", text)
    return _WORDS.findall(text)


@lru_cache(maxsize=4)
def _name_index(scheme: ConceptScheme) -> tuple[dict[str, Match], dict[str, Match], set[str]]:
    """Keys (words run together) -> (concept or None, note), the weak keys, and every prefix
    of a key (so that a scan stops as soon as no key can follow): built once per scheme."""
    index: dict[str, Match] = {}
    for concept in scheme:
        for label in (concept.pref_label, *concept.alt_labels, *concept.hidden_labels):
            key = "".join(_tokens(label))
            if key not in NAME_STOPLIST:
                index.setdefault(key, (concept, ""))
    for synonym, target in scheme.synonyms.items():
        key, found = "".join(_tokens(synonym)), scheme.by_label(target)
        if found and key not in NAME_STOPLIST:
            index.setdefault(key, (found[0], ""))

    def table(words: dict[str, tuple[str, str]]) -> dict[str, Match]:
        out: dict[str, Match] = {}
        for phrase, (label, note) in words.items():
            found = scheme.by_label(label) if label else []
            if label and not found:
                continue  # an older or newer list without this concept
            out["".join(phrase.split())] = (found[0] if found else None, note)
        return out

    index.update(table(CLUB_WORDS))
    prefixes = {key[:n] for key in index for n in range(1, len(key) + 1)}
    return index, table(WEAK_WORDS), prefixes


def infer_activities(name: str, scheme: ConceptScheme | None = None) -> list[tuple[Concept, str]]:
    """The Activity List concepts a club name names, each with how it was found."""
    scheme = scheme or activity_list()
    index, weak, prefixes = _name_index(scheme)
    words = _tokens(name)
    found: dict[str, tuple[Concept, str, bool]] = {}
    fallback: list[tuple[Concept, str]] = []
    i = 0
    while i < len(words):
        key, best, j = "", None, i
        while j < len(words):
            key += words[j]
            j += 1
            if key not in prefixes:
                break
            if key in index:
                best = (index[key], key, j)
        if best is None:
            hit = weak.get(words[i])
            if hit is not None and hit[0] is not None and not fallback:
                fallback.append((hit[0], _how(words[i : i + 1], words[i], hit[1])))
            i += 1
            continue
        (concept, note), key, end = best
        if concept is not None and concept.id not in found:
            place = i == 0 and end == 1 and words[0] in PLACE_WORDS
            found[concept.id] = (concept, _how(words[i:end], key, note), place)
        i = end
    if len(found) > 1:
        for cid, (_, _, place) in list(found.items()):
            if place or scheme.narrower_ids(cid) & found.keys():
                del found[cid]
    return [(concept, how) for concept, how, _ in found.values()] or fallback


def _how(words: list[str], key: str, note: str) -> str:
    shown = key.upper() if key in ABBREVIATIONS else " ".join(words)
    return f"name contains '{shown}'" + (f" ({note})" if note else "")


def map_activity(
    text: str, scheme: ConceptScheme | None = None
) -> tuple[Concept | None, str, tuple[str, ...]]:
    """(concept, how, ()) for an activity column value that is an Activity List id, label or
    synonym, or a club-name word such as "Bowling"; else (None, why, suggested prefLabels).
    A fuzzy match is only ever a suggestion."""
    return _map(clean_text(text) or "", scheme or activity_list())


@lru_cache(maxsize=8192)
def _map(text: str, scheme: ConceptScheme) -> tuple[Concept | None, str, tuple[str, ...]]:
    if not text:
        return None, "no activity given", ()
    concept = scheme.get(text)
    if concept is not None:
        return concept, "Activity List id", ()
    found = scheme.by_label(text)
    if found:
        concept = found[0]
        key = normalise_label(text)
        if key == normalise_label(concept.pref_label):
            return concept, f"prefLabel '{concept.pref_label}'", ()
        if any(key == normalise_label(a) for a in concept.alt_labels):
            return concept, f"altLabel of {concept.pref_label}", ()
        if any(key == normalise_label(h) for h in concept.hidden_labels):
            return concept, f"hiddenLabel of {concept.pref_label}", ()
        return concept, f"openclubs synonym for {concept.pref_label}", ()
    hit = _name_index(scheme)[0].get("".join(_tokens(text)))
    if hit is not None and hit[0] is not None:
        return hit[0], f"club-name word for {hit[0].pref_label}", ()
    suggestions = tuple(dict.fromkeys(s.concept.pref_label for s in scheme.suggest(text, 5)))
    return None, "not in the Activity List", suggestions
