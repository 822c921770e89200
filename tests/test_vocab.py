"""Look-ups on the real OpenActive Activity List (the bundled snapshot)."""

from __future__ import annotations

import pytest

from openclubs.vocab import ConceptScheme, activity_list, normalise_label

pytestmark = pytest.mark.usefixtures("vocab_cache")

UUID = "2330f2d4-d0dc-4231-8dd9-07d37a452228"  # Martial Arts
NEW_ID = f"https://openactive.io/activity-list#{UUID}"
OLD_ID = f"http://openactive.io/activity-list/#{UUID}"


@pytest.fixture
def scheme() -> ConceptScheme:
    return activity_list()


def test_snapshot_is_the_whole_list(scheme: ConceptScheme) -> None:
    assert len(scheme) == 768
    assert scheme.source.startswith("bundled snapshot")


@pytest.mark.parametrize("ref", [NEW_ID, OLD_ID])
def test_both_id_forms_find_the_concept(scheme: ConceptScheme, ref: str) -> None:
    concept = scheme.get(ref)
    assert concept is not None
    assert concept.pref_label == "Martial Arts"
    assert concept.id == NEW_ID
    assert scheme.find(ref) == concept


def test_an_id_of_another_scheme_is_not_found(scheme: ConceptScheme) -> None:
    assert scheme.get(f"https://openactive.io/place-types#{UUID}") is None


@pytest.mark.parametrize(
    "label", ["Martial Arts", "martial  ARTS", "MARTIAL-arts", " martial arts "]
)
def test_labels_ignore_case_and_spacing(scheme: ConceptScheme, label: str) -> None:
    concept = scheme.find(label)
    assert concept is not None
    assert concept.id == NEW_ID


def test_normalise_label() -> None:
    assert normalise_label("Martial  ARTS") == normalise_label("martial-arts") == "martialarts"


def test_misspelling_suggests_the_right_concept_first(scheme: ConceptScheme) -> None:
    suggestions = scheme.suggest("Rowwing")
    assert suggestions
    assert suggestions[0].concept.pref_label == "Rowing"
    assert suggestions[0].how == "similar spelling"


def test_synonym_finds_football(scheme: ConceptScheme) -> None:
    first = scheme.suggest("Soccer")[0]
    assert (first.concept.pref_label, first.how, first.matched) == ("Football", "synonym", "Soccer")
    football = scheme.find("soccer")
    assert football is not None
    assert football.pref_label == "Football"


def test_exact_label_ranks_first(scheme: ConceptScheme) -> None:
    first = scheme.suggest("judo")[0]
    assert (first.concept.pref_label, first.how, first.score) == ("Judo", "prefLabel", 1.0)


def test_nonsense_suggests_nothing(scheme: ConceptScheme) -> None:
    assert scheme.suggest("zzqqxx") == []
    assert scheme.find("zzqqxx") is None


def test_narrower_of_martial_arts_is_transitive(scheme: ConceptScheme) -> None:
    labels = {scheme.concepts[i].pref_label for i in scheme.narrower_ids(NEW_ID)}
    assert {"Judo", "Karate"} <= labels
    direct = scheme.narrower_ids(NEW_ID, transitive=False)
    assert direct <= scheme.narrower_ids(NEW_ID)


def test_narrower_is_transitive_below_the_first_level(scheme: ConceptScheme) -> None:
    # A concept with grandchildren: every descendant of a child is a descendant of the parent.
    parent = next(
        c
        for c in scheme
        if any(scheme.narrower_ids(k, transitive=False) for k in scheme.narrower_ids(c.id, False))
    )
    everything = scheme.narrower_ids(parent.id)
    for child in scheme.narrower_ids(parent.id, transitive=False):
        assert scheme.narrower_ids(child) <= everything
    assert len(everything) > len(scheme.narrower_ids(parent.id, transitive=False))


def test_broader_of_judo_includes_martial_arts(scheme: ConceptScheme) -> None:
    judo = scheme.find("Judo")
    assert judo is not None
    assert NEW_ID in scheme.broader_ids(judo.id)
    assert NEW_ID in scheme.broader_ids(judo.id, transitive=False)


def test_roots_are_sorted_and_have_nothing_broader(scheme: ConceptScheme) -> None:
    roots = scheme.roots()
    labels = [c.pref_label.casefold() for c in roots]
    assert labels == sorted(labels)
    assert all(not scheme.broader_ids(c.id) for c in roots)
    assert "Martial Arts" in {c.pref_label for c in roots}
