"""Activity List concepts from club names (the CASC register has no activity column) and from
activity columns."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from openclubs.normalise.activities import infer_activities, map_activity
from openclubs.normalise.text import clean_text, join_wrapped
from openclubs.vocab import activity_list
from tests.helpers import SHARED

pytestmark = pytest.mark.usefixtures("vocab_cache")
CASC = SHARED / "data" / "registered-casc.csv"
MARTIAL_ARTS = "2330f2d4-d0dc-4231-8dd9-07d37a452228"


def casc_names() -> list[str]:
    with CASC.open(encoding="utf-8", newline="") as f:
        names = [clean_text(join_wrapped(row["Organisation Name"])) for row in csv.DictReader(f)]
    return [name for name in names if name]


def labels(name: str) -> list[str]:
    return [concept.pref_label for concept, _ in infer_activities(name)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("BARROW CRICKET CLUB", ["Cricket"]),
        ("Agecroft Rowing Club", ["Rowing"]),
        ("1066 RIFLE & PISTOL CLUB", ["Rifle", "Pistol"]),
        ("ABBEY BOWLING CLUB", ["Bowls"]),
        ("ABERGAVENNY BOWLS CLUB", ["Bowls"]),
        ("ABERDEEN INDOOR BOWLING CLUB", ["Indoor Bowls"]),
        ("BAGLAN R F C", ["Rugby Union"]),
        ("ABERAVON HARLEQUINS RUGBY FOOTBALL CLUB", ["Rugby Union"]),
        ("BARROW ISLAND AMATEUR RUGBY LEAGUE FOOTBALL CLUB", ["Rugby League"]),
        ("ABBEY RANGERS FOOTBALL CLUB", ["Football"]),
        ("A F C PORTCHESTER", ["Football"]),
        ("ABERDARE GOLF CLUB", ["Golf"]),
        ("ABERDOUR TENNIS CLUB", ["Tennis"]),
        ("ABINGDON LAWN TENNIS CLUB", ["Tennis"]),
        ("ALBRIGHTON TABLE TENNIS CLUB", ["Table Tennis"]),
        ("Cardiff Beach Volleyball Club", ["Beach Volleyball"]),
        ("GREENWICH YACHT CLUB LIMITED", ["Sailing"]),
        ("ABERDEEN AMATEUR SWIMMING CLUB", ["Swimming"]),
        ("7 Hills Cycling Club", ["Cycling"]),
        ("1829 Hockey", ["Hockey"]),
        ("HAZELHEAD NETBALL CLUB", ["Netball"]),
        ("CARMARTHEN JUDO CLUB", ["Judo"]),
        ("ALDERSHOT AMATEUR BOXING CLUB", ["Boxing"]),
        ("AIDRIE AND DISTRICT ANGLING CLUB", ["Angling"]),
        ("BRADFORD SUB-AQUA CLUB", ["Scuba Diving"]),
        ("ST BRIGID'S GAC", ["Gaelic Games"]),
        ("ARDGLASS GFC", ["Gaelic Football"]),
        ("Trojan ABC", ["Boxing"]),
        ("ABC RFC", ["Rugby Union"]),  # ABC means boxing only when nothing else is named
        ("ARDLEIGH GREEN AND HAVERING ATTE BOWER CRICKETCLUB", ["Cricket"]),
        ("Sheffield Sports Association", []),
        ("Wanderers", []),
        ("BELGRAVE HARRIERS", []),  # athletics or cross-country running: not guessed
        ("ROCHDALE CATHOLIC CLUB CC", []),  # cricket or cycling club: not guessed
        ("DULWICH RUNNERS AC", ["Running"]),
    ],
)
def test_infer_activities(name: str, expected: list[str]) -> None:
    assert labels(name) == expected


def test_how_says_what_was_read() -> None:
    (cricket, how), *_ = infer_activities("BARROW CRICKET CLUB")
    assert cricket.pref_label == "Cricket"
    assert how == "name contains 'cricket'"
    ((_, how),) = infer_activities("RWB RFC LIMITED")
    assert how == "name contains 'RFC' (Rugby Football Club)"


# Names checked by hand: each was wrong, or tempting to get wrong, before the rules.
HAND_CHECKED = {
    "RUGBY BOWLING CLUB": ["Bowls"],  # the town of Rugby
    "Rugby Borough JFC": ["Football"],
    "BOSTON SPA BOWLING CLUB": ["Bowls"],  # not Spa
    "ETON EXCELSIOR ROWING CLUB": ["Rowing"],  # not Eton fives
    "Burn Gliding Club Ltd": ["Gliding"],  # not Burn (a class)
    "BURNTISLAND GOLF HOUSE CLUB": ["Golf"],  # not House (a dance)
    "Carnethy Hill Racing Club": [],  # hill running; Racing is road cycling in the list
    "ABERDARE RUGBY UNION FOOTBALL CLUB": ["Rugby Union"],  # not Football as well
    "SHEFFIELD CYCLE SPEEDWAY CLUB": ["Cycling"],  # not (motorcycle) Speedway
    "BRUNDALL MOTOR YACHT CLUB": [],  # motor cruising, not Sailing
    "HACKLETON HARRIERS FOOTBALL CLUB": ["Football"],
    "HULL & EAST RIDING SQUASH CLUB": ["Squash"],  # East Riding, not a riding club
    "CATHAL BRUGHA ASC": [],  # ASC: swimming, or athletic and sports
    "CUCHULAINN HURLING G A A CLUB": ["Hurling"],  # narrower than Gaelic Games
    "Rugby Phoenix Volleyball Club": ["Volleyball"],
    "EXETER AMATEUR BOXING CLUB & FITNESS CENTRE": ["Boxing"],  # Fitness is too vague
}


def test_full_register() -> None:
    names = casc_names()
    assert len(names) == 7761
    counts: Counter[str] = Counter()
    families: Counter[str] = Counter()
    scheme = activity_list()
    nothing = 0
    for name in names:
        found = infer_activities(name, scheme)
        nothing += not found
        for concept, _ in found:
            counts[concept.pref_label] += 1
            for top in (concept.id, *scheme.broader_ids(concept.id)):
                families[scheme.concepts[top].pref_label] += 1
        if name in HAND_CHECKED:
            assert labels(name) == HAND_CHECKED[name], name
    print(f"\n{len(names)} names, {nothing} with no activity; most common:")
    for label, n in counts.most_common(30):
        print(f"  {n:5d}  {label}")
    assert set(HAND_CHECKED) <= set(names)
    assert counts["Cricket"] >= 1300
    assert families["Bowls"] >= 1000 and counts["Bowls"] >= 800
    assert counts["Football"] >= 600
    assert families["Rugby"] >= 550 and counts["Rugby Union"] >= 450
    assert counts["Golf"] >= 400
    assert counts["Tennis"] >= 600
    assert counts["Sailing"] >= 180
    assert families["Shooting"] >= 150
    assert nothing <= 900  # sports associations, athletic clubs, boat clubs ...


@pytest.mark.parametrize(
    ("text", "expected", "how"),
    [
        ("Football", "Football", "prefLabel 'Football'"),
        ("football ", "Football", "prefLabel 'Football'"),
        ("Soccer", "Football", "openclubs synonym for Football"),
        ("Rifle shooting", "Target Shooting", "openclubs synonym for Target Shooting"),
        ("Fishing", "Angling", "altLabel of Angling"),
        ("lawn-bowls", "Bowls", "altLabel of Bowls"),
        ("Bowling", "Bowls", "club-name word for Bowls"),
        (f"https://openactive.io/activity-list#{MARTIAL_ARTS}", "Martial Arts", "Activity List id"),
        (f"http://openactive.io/activity-list/#{MARTIAL_ARTS}", "Martial Arts", "Activity List id"),
    ],
)
def test_map_activity(text: str, expected: str, how: str) -> None:
    concept, said, suggestions = map_activity(text)
    assert concept is not None and concept.pref_label == expected
    assert said == how
    assert suggestions == ()


@pytest.mark.parametrize(
    ("text", "first"),
    [("Footbal", "Football"), ("Rowwing", "Rowing"), ("Underwater hockey", "Hockey")],
)
def test_a_near_miss_is_only_suggested(text: str, first: str) -> None:
    concept, how, suggestions = map_activity(text)
    assert concept is None
    assert how == "not in the Activity List"
    assert suggestions[0] == first


def test_empty_activity() -> None:
    assert map_activity("  ") == (None, "no activity given", ())
