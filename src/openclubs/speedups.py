"""Which modules `scripts/setup.sh` compiles with mypyc, and whether the compiled copies are
current.

The hot paths (validation rules, cleaning, building records) are plain typed Python that
mypyc compiles into C extensions beside the sources, about twice as fast. Without a C
compiler openclubs runs the same code as pure Python. A compiled module is loaded in
preference to its source, so a stale one would hide an edit: the stamp file records the
hash of the sources it was built from, and the test suite refuses to run on a stale build.
"""

from __future__ import annotations

import hashlib
import sys
from importlib import machinery
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent
COMPILED = (
    "openclubs/validate/rules/common.py",
    "openclubs/validate/rules/address.py",
    "openclubs/validate/rules/place.py",
    "openclubs/validate/rules/activity.py",
    "openclubs/validate/rules/organization.py",
    "openclubs/validate/rules/contact.py",
    "openclubs/validate/report.py",
    "openclubs/validate/engine.py",
    "openclubs/validate/records.py",
    "openclubs/ingest/jsontext.py",
    "openclubs/vocab/concepts.py",
    "openclubs/model/postcodes.py",
    "openclubs/model/countries.py",
    "openclubs/normalise/text.py",
    "openclubs/normalise/contact.py",
    "openclubs/normalise/activities.py",
    "openclubs/importer/build.py",
    "openclubs/ingest/tabular.py",
    "openclubs/ingest/rows.py",
)
STAMP = SRC / "openclubs" / ".compiled-stamp"


def source_digest() -> str:
    """Hash of the compiled modules' sources and the Python version they are built for."""
    digest = hashlib.sha256(sys.version.encode())
    for name in COMPILED:
        digest.update(name.encode())
        digest.update((SRC / name).read_bytes())
    return digest.hexdigest()


def compiled_files() -> list[Path]:
    """The extension files present beside the compiled modules' sources."""
    found = []
    for name in COMPILED:
        stem = (SRC / name).with_suffix("")
        for suffix in machinery.EXTENSION_SUFFIXES:
            candidate = stem.with_name(stem.name + suffix)
            if candidate.exists():
                found.append(candidate)
    return found


def state() -> str:
    """'compiled', 'pure' (no compiled modules) or 'stale' (compiled from other sources)."""
    files = compiled_files()
    if not files:
        return "pure"
    stamp = STAMP.read_text().strip() if STAMP.exists() else ""
    if len(files) != len(COMPILED) or stamp != source_digest():
        return "stale"
    return "compiled"
