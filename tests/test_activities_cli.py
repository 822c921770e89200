"""``openclubs activities``: look-ups through the CLI, and refresh against a local HTTP server."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from openclubs.cli.activities import activities
from openclubs.vocab import refresh as refresh_module
from openclubs.vocab.refresh import VocabRefreshError, refresh_activity_list
from openclubs.vocab.store import ACTIVITY_LIST_FILE, bundled_text, cached_vocab_path

from .conftest import LocalSite

pytestmark = pytest.mark.usefixtures("vocab_cache")

MARTIAL_ARTS = "https://openactive.io/activity-list#2330f2d4-d0dc-4231-8dd9-07d37a452228"
NEW_CONCEPT = {
    "id": "https://openactive.io/activity-list#00000000-1111-4222-8333-444444444444",
    "identifier": "00000000-1111-4222-8333-444444444444",
    "type": "Concept",
    "prefLabel": "Octopush Relay",
    "broader": [MARTIAL_ARTS],
    "definition": "A test concept that is not in the official list.",
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(activities, list(args))


# -- look-ups ----------------------------------------------------------------------------------


def test_about_names_licence_and_bundled_snapshot() -> None:
    result = invoke("--about")
    assert result.exit_code == 0
    assert "Creative Commons Attribution 4.0" in result.stdout
    assert "OpenActive" in result.stdout
    assert "bundled snapshot of 2026-11-22, 768 concepts" in result.stdout


def test_no_subcommand_prints_help() -> None:
    result = invoke()
    assert result.exit_code == 0
    assert "search" in result.stdout and "refresh" in result.stdout


def test_search_misspelling_and_synonym() -> None:
    result = invoke("search", "Rowwing")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("Rowing ")
    result = invoke("search", "SOCCER")
    assert result.exit_code == 0
    first = result.stdout.splitlines()[0]
    assert first.startswith("Football") and 'synonym "Soccer"' in first


def test_search_json_is_ranked_and_limited() -> None:
    result = invoke("search", "martial  ARTS", "--format", "json", "--limit", "2")
    assert result.exit_code == 0
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    assert len(rows) == 2
    assert rows[0] == {
        "id": MARTIAL_ARTS,
        "prefLabel": "Martial Arts",
        "how": "prefLabel",
        "matched": "Martial Arts",
        "score": 1.0,
    }
    assert rows[0]["score"] >= rows[1]["score"]
    assert (
        invoke("search", "martial arts", "--format", "json").stdout
        == invoke("search", "martial arts", "--format", "json").stdout
    )


@pytest.mark.parametrize(
    "ref",
    [MARTIAL_ARTS, "http://openactive.io/activity-list/#2330f2d4-d0dc-4231-8dd9-07d37a452228"],
)
def test_search_by_id_in_either_form(ref: str) -> None:
    result = invoke("search", ref)
    assert result.exit_code == 0
    (line,) = result.stdout.splitlines()
    assert line.startswith("Martial Arts ") and line.endswith(MARTIAL_ARTS)
    assert " id " in line


def test_search_without_match_exits_1() -> None:
    result = invoke("search", "zzqqxx")
    assert result.exit_code == 1
    assert 'No activity matches "zzqqxx"' in result.stderr
    unknown = invoke(
        "search", "https://openactive.io/activity-list#00000000-0000-0000-0000-000000000000"
    )
    assert unknown.exit_code == 1
    assert "no concept with the id" in unknown.stderr


def test_show_text() -> None:
    result = invoke("show", "martial arts")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Martial Arts"
    assert f"  id:          {MARTIAL_ARTS}" in lines
    assert "    - Judo" in lines and "    - Karate" in lines
    assert "24 direct, 24 at all levels" in result.stdout
    judo = invoke(
        "show", "http://openactive.io/activity-list/#1653aaaf-cb1e-4611-b45e-95a32d4a7db5"
    )
    assert "  broader:     Martial Arts" in judo.stdout.splitlines()


def test_show_json() -> None:
    result = invoke("show", "Judo", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["prefLabel"] == "Judo"
    assert data["notation"] == "judo"
    assert data["broader"] == [{"id": MARTIAL_ARTS, "prefLabel": "Martial Arts"}]
    assert data["narrower"] == [] and data["narrowerCountAll"] == 0


def test_show_unknown_suggests() -> None:
    result = invoke("show", "Footbal")
    assert result.exit_code == 1
    assert "Did you mean: Football" in result.stderr


def test_tree_of_a_concept_and_depth() -> None:
    result = invoke("tree", "Martial Arts")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Martial Arts"
    assert "  Judo" in lines and "  Karate" in lines
    assert lines[1:] == sorted(lines[1:], key=str.casefold)
    assert invoke("tree", "Martial Arts", "--depth", "0").stdout == "Martial Arts\n"
    assert invoke("tree", "nothing-like-this").exit_code == 1


def test_tree_of_everything_starts_at_the_roots() -> None:
    result = invoke("tree", "--depth", "0")
    roots = result.stdout.splitlines()
    assert "Martial Arts" in roots and "Judo" not in roots
    assert roots == sorted(roots, key=str.casefold)
    full = invoke("tree").stdout.splitlines()
    assert "  Judo" in full and len(full) > len(roots)


# -- refresh against a local server --------------------------------------------------------------


def _modified_list() -> bytes:
    doc = json.loads(bundled_text(ACTIVITY_LIST_FILE))
    doc["concept"] = [c for c in doc["concept"] if c["prefLabel"] != "Tang Soo Do"]
    doc["concept"].append(NEW_CONCEPT)
    return json.dumps(doc).encode()


JSONLD = "application/ld+json"
GOOD = _modified_list()


@pytest.fixture
def server(local_site: LocalSite) -> LocalSite:
    local_site.add("/list.jsonld", GOOD, content_type=JSONLD)
    local_site.add(
        "/moved", b"", status=302, content_type=None, headers={"Location": "/list.jsonld"}
    )
    local_site.add("/error", b"oops", status=500, content_type=None)
    local_site.add("/html", b"<!doctype html><h1>Hello</h1>", content_type="text/html")
    local_site.add("/not-a-scheme", b'{"hello": "world"}', content_type=JSONLD)
    local_site.add("/other-scheme", bundled_text("place-types.jsonld"), content_type=JSONLD)
    local_site.add("/no-length", GOOD, content_type=None, length=False)
    return local_site


def url(site: LocalSite, path: str) -> str:
    return site.url(path)


def test_refresh_installs_the_download(server: LocalSite) -> None:
    result = invoke("refresh", "--url", url(server, "/list.jsonld"))
    assert result.exit_code == 0, result.output
    cache = cached_vocab_path(ACTIVITY_LIST_FILE)
    assert cache.read_bytes() == GOOD
    assert "768 before, 768 now; 1 labels added, 1 removed" in result.stdout
    assert "  + Octopush Relay" in result.stdout and "  - Tang Soo Do" in result.stdout
    assert server.user_agents[0].startswith("openclubs/0.1.0")
    found = invoke("search", "octopush relay")
    assert found.stdout.startswith("Octopush Relay")
    assert "Octopush Relay" in invoke("tree", "Martial Arts").stdout
    about = invoke("--about").stdout
    assert f"the cached copy {cache} (downloaded " in about
    forget = invoke("refresh", "--forget")
    assert forget.exit_code == 0 and f"Removed {cache}." in forget.stdout
    assert not cache.exists()
    assert "bundled snapshot of 2026-11-22, 768 concepts" in invoke("--about").stdout
    assert "Octopush Relay" not in invoke("search", "octopush relay").output


def test_refresh_follows_redirects(server: LocalSite) -> None:
    result = refresh_activity_list(url(server, "/moved"))
    assert result.concepts_after == 768 and result.added_labels == ("Octopush Relay",)
    assert result.path.read_bytes() == GOOD


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/error", "answered HTTP 500 Internal Server Error"),
        ("/missing", "answered HTTP 404 Not Found"),
        ("/html", "did not send JSON (it looks like a web page) [text/html]"),
        ("/not-a-scheme", "sent JSON, but not a SKOS concept scheme"),
        ("/other-scheme", "not the OpenActive Activity List"),
    ],
)
def test_bad_download_exits_2_and_keeps_the_cache(
    server: LocalSite, path: str, message: str
) -> None:
    cache = cached_vocab_path(ACTIVITY_LIST_FILE)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(GOOD)
    result = invoke("refresh", "--url", url(server, path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert cache.read_bytes() == GOOD
    assert [p.name for p in cache.parent.iterdir()] == [ACTIVITY_LIST_FILE]


def test_bad_download_creates_no_cache(server: LocalSite) -> None:
    assert invoke("refresh", "--url", url(server, "/html")).exit_code == 2
    assert not cached_vocab_path(ACTIVITY_LIST_FILE).exists()


@pytest.mark.parametrize("path", ["/list.jsonld", "/no-length"])
def test_too_large(server: LocalSite, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    monkeypatch.setattr(refresh_module, "MAX_DOWNLOAD_BYTES", 10_000)
    result = invoke("refresh", "--url", url(server, path))
    assert result.exit_code == 2
    assert "sent more than 10,000 bytes: too large" in result.stderr
    assert not cached_vocab_path(ACTIVITY_LIST_FILE).exists()


def test_closed_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = invoke("refresh", "--url", f"http://127.0.0.1:{port}/list.jsonld")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: Could not connect to http://127.0.0.1:{port}/")


def test_timeout() -> None:
    with socket.socket() as sock:  # accepts connections (backlog) but never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(VocabRefreshError, match=r"Timed out after 0\.3 s"):
            refresh_activity_list(f"http://127.0.0.1:{port}/", timeout=0.3)


def test_redirect_loop_and_bad_url() -> None:
    loop = httpx.MockTransport(lambda request: httpx.Response(302, headers={"Location": "/again"}))
    with pytest.raises(VocabRefreshError, match="redirected more than 5 times"):
        refresh_activity_list("https://example.invalid/list", transport=loop)
    with pytest.raises(VocabRefreshError, match="Cannot download"):
        refresh_activity_list("ftp://example.invalid/list")


def test_forget_without_cache_and_conflicting_options() -> None:
    result = invoke("refresh", "--forget")
    assert result.exit_code == 0 and "There was no cached copy" in result.stdout
    assert invoke("refresh", "--forget", "--url", "http://127.0.0.1:1/").exit_code == 2
