"""SKOS concept schemes (the OpenActive Activity List and friends) and look-ups over them.

A scheme is read once from its JSON-LD file and indexed by id, by label (preferred,
alternative, hidden and openclubs' own synonyms) and by hierarchy, so that look-ups during
validation and search cost a dictionary access.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

OA_ACTIVITY_LIST = "https://openactive.io/activity-list"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_SPACING = re.compile(r"[\s\-_.'’]+")


def normalise_label(text: str) -> str:
    """The key labels are compared by: case, spacing, hyphens and apostrophes ignored."""
    return _SPACING.sub("", text.casefold())


@dataclass(frozen=True, slots=True)
class Concept:
    """One concept of a scheme, with the SKOS properties the Club Specification uses."""

    id: str
    pref_label: str
    scheme: str
    alt_labels: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()
    narrower: tuple[str, ...] = ()
    definition: str = ""
    notation: str = ""
    top: bool = False

    @property
    def uuid(self) -> str:
        return self.id.rpartition("#")[2]

    def reference(self) -> dict[str, str]:
        """The Concept object a club record should carry for this activity."""
        return {
            "@type": "Concept",
            "@id": self.id,
            "prefLabel": self.pref_label,
            "inScheme": self.scheme,
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A ranked answer to a free-text activity query."""

    concept: Concept
    score: float
    matched: str
    how: str  # "prefLabel", "altLabel", "hiddenLabel", "synonym", "similar spelling", "contains"


@dataclass(slots=True, eq=False)
class ConceptScheme:
    """An indexed SKOS ConceptScheme (compared and hashed by identity)."""

    id: str
    title: str
    license: str
    source: str
    concepts: dict[str, Concept]
    synonyms: Mapping[str, str] = field(default_factory=dict)
    _by_label: dict[str, list[tuple[Concept, str, str]]] = field(default_factory=dict)
    _narrower: dict[str, set[str]] = field(default_factory=dict)
    _broader: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_jsonld(
        cls, doc: Mapping[str, Any], source: str, synonyms: Mapping[str, str] | None = None
    ) -> ConceptScheme:
        """Build a scheme from a parsed JSON-LD ConceptScheme document."""
        scheme_id = str(doc.get("id") or doc.get("@id") or "")
        raw = doc.get("concept")
        if not scheme_id or not isinstance(raw, list) or not raw:
            raise ValueError(f"{source}: not a SKOS ConceptScheme with concepts")
        concepts: dict[str, Concept] = {}
        for item in raw:
            if not isinstance(item, dict):
                continue
            cid = item.get("id") or item.get("@id")
            label = item.get("prefLabel")
            if not isinstance(cid, str) or not isinstance(label, str):
                continue
            concepts[cid] = Concept(
                id=cid,
                pref_label=label,
                scheme=scheme_id,
                alt_labels=_strings(item.get("altLabel")),
                hidden_labels=_strings(item.get("hiddenLabel")),
                broader=_strings(item.get("broader")),
                narrower=_strings(item.get("narrower")),
                definition=str(item.get("definition") or ""),
                notation=str(item.get("notation") or ""),
                top="topConceptOf" in item,
            )
        if not concepts:
            raise ValueError(f"{source}: the scheme has no usable concepts")
        scheme = cls(
            id=scheme_id,
            title=str(doc.get("title") or scheme_id),
            license=str(doc.get("license") or ""),
            source=source,
            concepts=concepts,
            synonyms=dict(synonyms or {}),
        )
        scheme._index()
        return scheme

    def _index(self) -> None:
        by_label: dict[str, list[tuple[Concept, str, str]]] = {}

        def put(label: str, concept: Concept, how: str) -> None:
            entries = by_label.setdefault(normalise_label(label), [])
            if all(c.id != concept.id for c, _, _ in entries):
                entries.append((concept, label, how))

        for concept in self.concepts.values():
            put(concept.pref_label, concept, "prefLabel")
        for concept in self.concepts.values():
            for alt in concept.alt_labels:
                put(alt, concept, "altLabel")
            for hidden in concept.hidden_labels:
                put(hidden, concept, "hiddenLabel")
        by_pref = {normalise_label(c.pref_label): c for c in self.concepts.values()}
        for synonym, target in self.synonyms.items():
            meant = by_pref.get(normalise_label(target))
            if meant is not None:
                put(synonym, meant, "synonym")
        self._by_label = by_label

        narrower: dict[str, set[str]] = {cid: set() for cid in self.concepts}
        broader: dict[str, set[str]] = {cid: set() for cid in self.concepts}
        for concept in self.concepts.values():
            for parent in concept.broader:
                if parent in self.concepts:
                    broader[concept.id].add(parent)
                    narrower[parent].add(concept.id)
            for child in concept.narrower:
                if child in self.concepts:
                    narrower[concept.id].add(child)
                    broader[child].add(concept.id)
        self._narrower, self._broader = narrower, broader

    # -- look-ups ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.concepts)

    def __iter__(self) -> Iterator[Concept]:
        return iter(self.concepts.values())

    def canonical_id(self, ref: str) -> str | None:
        """The scheme's own id for `ref`: an id in either official form, or a bare UUID."""
        if ref in self.concepts:
            return ref
        match = _UUID.search(ref)
        if match is None:
            return None
        candidate = f"{self.id}#{match.group(0).lower()}"
        return candidate if candidate in self.concepts and self.is_own_id(ref) else None

    def is_own_id(self, ref: str) -> bool:
        """True when `ref` points into this scheme (either official spelling), known or not."""
        base = ref.partition("#")[0].rstrip("/")
        own = self.id.split("://", 1)[-1]
        return base.split("://", 1)[-1] == own and "#" in ref

    def get(self, ref: str) -> Concept | None:
        cid = self.canonical_id(ref)
        return self.concepts[cid] if cid else None

    def by_label(self, label: str) -> list[Concept]:
        """Concepts whose preferred, alternative or hidden label (or synonym) is `label`."""
        return [c for c, _, _ in self._by_label.get(normalise_label(label), [])]

    def find(self, text: str) -> Concept | None:
        """One concept for an id or an exact label, or None."""
        concept = self.get(text)
        if concept is not None:
            return concept
        found = self.by_label(text)
        return found[0] if found else None

    def suggest(self, text: str, limit: int = 5) -> list[Suggestion]:
        """Concepts ranked for a free-text query: exact labels, then synonyms, then spelling."""
        key = normalise_label(text)
        if not key:
            return []
        ranked: dict[str, Suggestion] = {}

        def offer(suggestion: Suggestion) -> None:
            best = ranked.get(suggestion.concept.id)
            if best is None or suggestion.score > best.score:
                ranked[suggestion.concept.id] = suggestion

        for concept, label, how in self._by_label.get(key, []):
            offer(Suggestion(concept, 1.0 if how == "prefLabel" else 0.98, label, how))
        for label_key, entries in self._by_label.items():
            if label_key == key:
                continue
            ratio = difflib.SequenceMatcher(None, key, label_key).ratio()
            contains = len(key) >= 3 and (key in label_key or label_key in key)
            if ratio >= 0.75 or contains:
                for concept, label, _how in entries:
                    score = ratio if ratio >= 0.75 else 0.5 + ratio / 4
                    offer(
                        Suggestion(
                            concept,
                            round(score, 3),
                            label,
                            "similar spelling" if ratio >= 0.75 else "contains",
                        )
                    )
        ordered = sorted(ranked.values(), key=lambda s: (-s.score, s.concept.pref_label))
        return ordered[:limit]

    def narrower_ids(self, ref: str, transitive: bool = True) -> set[str]:
        """Ids of the concepts narrower than `ref` (all levels by default)."""
        return self._walk(ref, self._narrower, transitive)

    def broader_ids(self, ref: str, transitive: bool = True) -> set[str]:
        """Ids of the concepts broader than `ref` (all levels by default)."""
        return self._walk(ref, self._broader, transitive)

    def _walk(self, ref: str, edges: dict[str, set[str]], transitive: bool) -> set[str]:
        start = self.canonical_id(ref)
        if start is None:
            return set()
        if not transitive:
            return set(edges[start])
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            cid = todo.pop()
            if cid not in seen and cid != start:
                seen.add(cid)
                todo.extend(edges[cid])
        return seen

    def roots(self) -> list[Concept]:
        """Concepts with nothing broader, sorted by label."""
        tops = [c for c in self.concepts.values() if not self._broader[c.id]]
        return sorted(tops, key=lambda c: c.pref_label.casefold())

    def children(self, ref: str) -> list[Concept]:
        ids = self.narrower_ids(ref, transitive=False)
        return sorted((self.concepts[i] for i in ids), key=lambda c: c.pref_label.casefold())


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, (bytes, dict)):
        return tuple(v for v in value if isinstance(v, str))
    return ()
