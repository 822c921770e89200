"""``openclubs activities``: look up, browse and refresh the OpenActive Activity List."""

from __future__ import annotations

from typing import Any

import click
import orjson

from openclubs.vocab.concepts import Concept, ConceptScheme
from openclubs.vocab.refresh import (
    VocabRefreshError,
    copy_in_use,
    forget_cached_activity_list,
    refresh_activity_list,
)
from openclubs.vocab.store import ACTIVITY_LIST_URL, ATTRIBUTION, activity_list

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Plain text, or JSON for programs.",
)


@click.group(invoke_without_command=True)
@click.option("--about", is_flag=True, help="Show the licence, and which copy of the list is used.")
@click.pass_context
def activities(ctx: click.Context, about: bool) -> None:
    """Look up activities in the OpenActive Activity List (by label, synonym or id)."""
    if about:
        copy = copy_in_use()
        click.echo(ATTRIBUTION)
        where = (
            f"the cached copy {copy.cached} (downloaded {copy.date})"
            if copy.cached
            else f"the bundled snapshot of {copy.date}"
        )
        click.echo(f"In use: {where}, {copy.concepts} concepts.")
        click.echo(f"Live list: {ACTIVITY_LIST_URL} (update with 'openclubs activities refresh').")
    elif ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@activities.command()
@click.argument("text")
@click.option(
    "--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Most results."
)
@FORMAT
def search(text: str, limit: int, fmt: str) -> None:
    """Rank activities for TEXT (ignoring case and spacing), or find the concept with id TEXT.

    Exits 1 when nothing matches."""
    scheme = activity_list()
    concept = scheme.get(text)
    if concept is not None:
        rows = [(concept, "id", concept.id, 1.0)]
    elif scheme.is_own_id(text):
        raise click.ClickException(f"The Activity List has no concept with the id {text}.")
    else:
        rows = [(s.concept, s.how, s.matched, s.score) for s in scheme.suggest(text, limit)]
    if not rows:
        raise click.ClickException(
            f'No activity matches "{text}". Try another word, or browse: openclubs activities tree'
        )
    if fmt == "json":
        keys = ("id", "prefLabel", "how", "matched", "score")
        _json([dict(zip(keys, (c.id, c.pref_label, h, m, s), strict=True)) for c, h, m, s in rows])
        return
    width = max(len(c.pref_label) for c, *_ in rows)
    for c, how, matched, score in rows:
        why = how if matched in (c.pref_label, c.id) else f'{how} "{matched}"'
        click.echo(f"{c.pref_label:<{width}}  {score:5.3f}  {why:<28}  {c.id}")


@activities.command()
@click.argument("id_or_label")
@FORMAT
def show(id_or_label: str, fmt: str) -> None:
    """Show one concept: labels, definition, broader and narrower concepts. Exits 1 if unknown."""
    scheme = activity_list()
    concept = _resolve(scheme, id_or_label)
    broader = _labelled(scheme, scheme.broader_ids(concept.id, transitive=False))
    narrower = scheme.children(concept.id)
    total = len(scheme.narrower_ids(concept.id))
    if fmt == "json":
        refs = [{"id": c.id, "prefLabel": c.pref_label} for c in (*broader, *narrower)]
        data: dict[str, Any] = {
            "id": concept.id,
            "prefLabel": concept.pref_label,
            "altLabels": sorted(concept.alt_labels),
            "hiddenLabels": sorted(concept.hidden_labels),
            "definition": concept.definition,
            "notation": concept.notation,
            "broader": refs[: len(broader)],
            "narrower": refs[len(broader) :],
            "narrowerCountAll": total,
        }
        _json(data)
        return
    click.echo(concept.pref_label)
    for name, value in (
        ("id", concept.id),
        ("alt labels", ", ".join(sorted(concept.alt_labels)) or "-"),
        ("definition", concept.definition or "-"),
        ("notation", concept.notation or "-"),
        ("broader", ", ".join(c.pref_label for c in broader) or "- (a top concept)"),
        ("narrower", f"{len(narrower)} direct, {total} at all levels"),
    ):
        click.echo(f"  {name + ':':<12} {value}")
    for child in narrower:
        click.echo(f"    - {child.pref_label}")


@activities.command()
@click.argument("id_or_label", required=False)
@click.option("--depth", type=click.IntRange(min=0), help="Levels shown below the start [all].")
def tree(id_or_label: str | None, depth: int | None) -> None:
    """Print the narrower concepts of ID_OR_LABEL (or of every top concept) as an indented tree."""
    scheme = activity_list()
    starts = [_resolve(scheme, id_or_label)] if id_or_label else scheme.roots()
    for start in starts:
        _branch(scheme, start, 0, depth, frozenset())


@activities.command()
@click.option("--url", help=f"Download from URL instead of {ACTIVITY_LIST_URL}.")
@click.option("--forget", is_flag=True, help="Delete the cached copy; use the bundled snapshot.")
def refresh(url: str | None, forget: bool) -> None:
    """Download the live Activity List into the user cache, where it replaces the bundled
    snapshot. A bad download leaves the copy in use untouched and exits 2."""
    if forget and url:
        raise click.UsageError("--forget and --url cannot be used together.")
    try:
        if forget:
            gone = forget_cached_activity_list()
            click.echo(f"Removed {gone}." if gone else "There was no cached copy to remove.")
            copy = copy_in_use()
            click.echo(f"In use: the bundled snapshot of {copy.date} ({copy.concepts} concepts).")
            return
        result = refresh_activity_list(url or ACTIVITY_LIST_URL)
    except VocabRefreshError as err:
        click.echo(f"Error: {err.message}", err=True)
        raise SystemExit(2) from None
    click.echo(f"Downloaded {result.url}\nWrote {result.path}")
    click.echo(
        f"Concepts: {result.concepts_before} before, {result.concepts_after} now; "
        f"{result.added} labels added, {result.removed} removed."
    )
    for sign, labels in (("+", result.added_labels), ("-", result.removed_labels)):
        for label in labels:
            click.echo(f"  {sign} {label}")


def _resolve(scheme: ConceptScheme, text: str) -> Concept:
    concept = scheme.find(text)
    if concept is not None:
        return concept
    hints = [s.concept.pref_label for s in scheme.suggest(text, 5)]
    hint = f" Did you mean: {', '.join(hints)}?" if hints else ""
    click.echo(f'Error: no activity "{text}" in the Activity List.{hint}', err=True)
    raise SystemExit(1)


def _labelled(scheme: ConceptScheme, ids: set[str]) -> list[Concept]:
    return sorted((scheme.concepts[i] for i in ids), key=lambda c: (c.pref_label.casefold(), c.id))


def _branch(
    scheme: ConceptScheme, concept: Concept, level: int, depth: int | None, seen: frozenset[str]
) -> None:
    click.echo(f"{'  ' * level}{concept.pref_label}")
    if (depth is not None and level >= depth) or concept.id in seen:
        return
    for child in scheme.children(concept.id):
        _branch(scheme, child, level + 1, depth, seen | {concept.id})


def _json(data: object) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
