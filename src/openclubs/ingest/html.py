"""JSON-LD blocks embedded in HTML pages: every <script type="application/ld+json">."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
_LD_TYPE = re.compile(r"""\btype\s*=\s*["']?\s*application/ld\+json""", re.I)


@dataclass(frozen=True, slots=True)
class ScriptBlock:
    text: str
    first_line: int  # the line of the page on which `text` starts
    index: int  # 1 for the page's first JSON-LD block


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:512].lower()
    return head.startswith("<") and (
        "<script" in text.lower() or "<html" in head or "<!doctype" in head
    )


def json_ld_blocks(page: str) -> list[ScriptBlock]:
    """Every JSON-LD script block of `page`, in page order, with its starting line."""
    blocks: list[ScriptBlock] = []
    for match in _SCRIPT.finditer(page):
        if not _LD_TYPE.search(match.group(1)):
            continue
        start = match.start(2)
        line = page.count("\n", 0, start) + 1
        blocks.append(ScriptBlock(match.group(2), line, len(blocks) + 1))
    return blocks
