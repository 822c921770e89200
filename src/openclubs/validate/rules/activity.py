"""Activities: SKOS Concepts, checked against the OpenActive Activity List (Club Spec §3.2)."""

from __future__ import annotations

import json
from typing import Any

from openclubs.validate.rules.common import (
    Collector,
    check_keywords,
    check_text,
    check_type,
    check_url,
    child,
    describe,
    memoised,
    quote,
    unknown_properties,
)
from openclubs.vocab import OA_ACTIVITY_LIST, ConceptScheme, activity_list, normalise_label

_CONCEPT_TYPE = frozenset({"Concept"})
_CONCEPT_KNOWN = frozenset(
    """@type type @id id prefLabel inScheme altLabel broader narrower notation""".split()
)
_OA_SCHEMES = frozenset(
    {
        OA_ACTIVITY_LIST,
        "http://openactive.io/activity-list",
        "https://openactive.io/activity-list/",
        "http://openactive.io/activity-list/",
    }
)


def check_activities(ctx: Collector, value: Any, path: str, prop: str = "activity") -> None:
    """§3.1 activity: REQUIRED, "Array of skos:Concept"."""
    if isinstance(value, dict):
        ctx.add(
            "invalid_type",
            path,
            prop="activity",
            expected="a list of Concepts",
            actual="a single object",
            hint=" Put it inside [ ].",
        )
        memoised(check_concept, ctx, value, path, activity_list())
        return
    if isinstance(value, str):
        _activity_text(ctx, value, path)
        return
    if not isinstance(value, list):
        ctx.add(
            "invalid_type",
            path,
            prop="activity",
            expected="a list of Concepts",
            actual=describe(value),
        )
        return
    if not value:
        ctx.add("empty_value", path, prop="activity", actual="[]")
    for i, entry in enumerate(value):
        where = f"{path}[{i}]"
        if isinstance(entry, dict):
            memoised(check_concept, ctx, entry, where, activity_list())
        elif isinstance(entry, str):
            _activity_text(ctx, entry, where)
        else:
            ctx.add(
                "invalid_type",
                where,
                prop="activity",
                expected="a Concept object",
                actual=describe(entry),
            )


def _activity_text(ctx: Collector, text: str, path: str) -> None:
    scheme = activity_list()
    concept = scheme.find(text)
    if concept is not None:
        hint = f" Write {json.dumps(concept.reference())}."
    else:
        hint = _did_you_mean(scheme, text)
    ctx.add("activity_not_concept", path, prop="activity", value=quote(text), hint=hint)


def _did_you_mean(scheme: ConceptScheme, text: str) -> str:
    found = scheme.suggest(text, limit=3)
    if not found:
        return " Choose the nearest activity from https://openactive.io/activity-list."
    names = ", ".join(f'"{s.concept.pref_label}" ({s.concept.id})' for s in found)
    return f" Did you mean {names}?"


def check_concept(ctx: Collector, node: dict[str, Any], path: str) -> None:
    """§3.2: prefLabel REQUIRED, inScheme Recommended; altLabel, broader, narrower, notation
    Optional. The id and label are checked against the Activity List."""
    check_type(ctx, node, path, "Concept", _CONCEPT_TYPE)
    check_keywords(ctx, node, path)
    label = node.get("prefLabel")
    if "prefLabel" not in node:
        ctx.add(
            "missing_required_property",
            child(path, "prefLabel"),
            prop="prefLabel",
            owner="Concept",
            hint=" Give the activity's name from the Activity List.",
        )
        label = None
    elif not check_text(ctx, label, child(path, "prefLabel"), "prefLabel"):
        label = None
    scheme_ref = node.get("inScheme")
    if "inScheme" not in node:
        ctx.add(
            "missing_recommended_property",
            child(path, "inScheme"),
            prop="inScheme",
            owner="Concept",
            why=f'it says which list the activity comes from: "{OA_ACTIVITY_LIST}".',
        )
    elif not check_url(ctx, scheme_ref, child(path, "inScheme"), "inScheme"):
        scheme_ref = None
    for key in ("broader", "narrower"):
        if key in node:
            values = node[key] if isinstance(node[key], list) else [node[key]]
            for i, ref in enumerate(values):
                check_url(ctx, ref, f"{child(path, key)}[{i}]", key)
    if "altLabel" in node:
        values = node["altLabel"] if isinstance(node["altLabel"], list) else [node["altLabel"]]
        for i, alt in enumerate(values):
            check_text(ctx, alt, f"{child(path, 'altLabel')}[{i}]", "altLabel")
    if "notation" in node:
        check_text(ctx, node["notation"], child(path, "notation"), "notation")
    unknown_properties(ctx, node, path, _CONCEPT_KNOWN, "Concept")
    ref = node.get("@id", node.get("id"))
    if ref is None:
        _check_label_only(ctx, label, scheme_ref, path)
    elif isinstance(ref, str) and check_url(ctx, ref, child(path, "@id"), "@id"):
        _check_reference(ctx, ref, label, scheme_ref, path)
    elif not isinstance(ref, str):
        ctx.add(
            "invalid_type",
            child(path, "@id"),
            prop="@id",
            expected="a URL (text)",
            actual=describe(ref),
        )


def _check_label_only(ctx: Collector, label: str | None, scheme_ref: Any, path: str) -> None:
    if label is None:
        return
    if isinstance(scheme_ref, str) and scheme_ref not in _OA_SCHEMES:
        ctx.add("custom_activity_list", path, value=quote(label), scheme=scheme_ref)
        return
    scheme = activity_list()
    found = scheme.by_label(label)
    if found:
        concept = found[0]
        how = (
            ""
            if normalise_label(concept.pref_label) == normalise_label(label)
            else (f' "{label}" is another name for "{concept.pref_label}".')
        )
        ctx.add(
            "activity_without_id",
            path,
            value=quote(label),
            id=concept.id,
            scheme=concept.scheme,
            label=f'"{concept.pref_label}"',
            how=how,
        )
    else:
        ctx.add("activity_not_in_list", path, value=quote(label), hint=_did_you_mean(scheme, label))


def _check_reference(
    ctx: Collector, ref: str, label: str | None, scheme_ref: Any, path: str
) -> None:
    scheme = activity_list()
    where = child(path, "@id")
    if not scheme.is_own_id(ref):
        if scheme_ref in _OA_SCHEMES:
            ctx.add(
                "unknown_activity_id",
                where,
                prop="@id",
                value=quote(ref),
                hint=" Activity List ids look like https://openactive.io/activity-list#<uuid>."
                + _label_hint(scheme, label),
            )
        else:
            ctx.add(
                "custom_activity_list",
                path,
                value=quote(label or ref),
                scheme=scheme_ref if isinstance(scheme_ref, str) else ref.partition("#")[0],
            )
        return
    concept = scheme.get(ref)
    if concept is None:
        ctx.add(
            "unknown_activity_id",
            where,
            prop="@id",
            value=quote(ref),
            hint=_label_hint(scheme, label),
        )
        return
    if ref != concept.id:
        ctx.add("old_activity_id_form", where, prop="@id", value=quote(ref), id=concept.id)
    if isinstance(scheme_ref, str) and scheme_ref != concept.scheme:
        ctx.add(
            "activity_scheme_mismatch",
            child(path, "inScheme"),
            prop="inScheme",
            value=quote(scheme_ref),
            scheme=concept.scheme,
        )
    if label is not None and normalise_label(label) != normalise_label(concept.pref_label):
        if any(c.id == concept.id for c in scheme.by_label(label)):
            return  # an alternative label or synonym of this very concept
        hint = f' Write "prefLabel": "{concept.pref_label}".'
        other = scheme.by_label(label)
        if other:
            hint += f' If you meant "{other[0].pref_label}", its id is {other[0].id}.'
        ctx.add(
            "activity_label_mismatch",
            child(path, "prefLabel"),
            expected=concept.pref_label,
            value=quote(label),
            hint=hint,
        )


def _label_hint(scheme: ConceptScheme, label: str | None) -> str:
    if label is None:
        return ""
    found = scheme.by_label(label)
    if found:
        return f' "{found[0].pref_label}" is {found[0].id}.'
    return _did_you_mean(scheme, label)
