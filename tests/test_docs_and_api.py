"""Generated docs stay in step with the code; the public API is what we say it is."""

from __future__ import annotations

import openclubs
from openclubs.validate.catalogue import CATALOGUE
from openclubs.validate.render import render_catalogue_markdown
from tests.helpers import ROOT


def test_issue_catalogue_doc_is_current() -> None:
    on_disk = (ROOT / "docs" / "issues.md").read_text(encoding="utf-8")
    assert on_disk == render_catalogue_markdown(), (
        "docs/issues.md is stale: run "
        "`.venv/bin/openclubs validate --list-issues --format markdown > docs/issues.md`"
    )


def test_catalogue_types_are_unique_snake_case_and_cite_the_spec() -> None:
    types = [row.type for row in CATALOGUE]
    assert len(types) == len(set(types))
    for row in CATALOGUE:
        assert row.type.replace("_", "").isalnum() and row.type.islower()
        assert row.severity in ("failure", "warning", "notice", "suggestion")
        assert row.category in ("conformance", "data-quality", "internal")
        assert "Spec" in row.clause or "Modelling" in row.clause


def test_every_catalogued_type_is_emitted_somewhere_in_the_code() -> None:
    sources = "\n".join(p.read_text() for p in (ROOT / "src" / "openclubs").rglob("*.py"))
    unused = [row.type for row in CATALOGUE if sources.count(f'"{row.type}"') < 2]
    assert unused == []


def test_public_api() -> None:
    assert openclubs.__all__ == sorted(openclubs.__all__)
    assert openclubs.__all__ == ["Issue", "Report", "__version__", "validate"]
    report = openclubs.validate({"@context": "https://openactive.io/", "@type": "SportsClub"})
    assert not report.valid
    assert report.exit_code() == 1
