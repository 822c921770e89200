"""Reading HTML form posts (urlencoded, and multipart for a file upload) with the standard
library, under a size limit.

Starlette's own form parser needs the python-multipart package; these pages post a handful of
fields and at most one small file, which `urllib.parse` and `email` read well enough, so the
service keeps one dependency fewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from fastapi import Request

MAX_FORM_BYTES = 2 * 1024 * 1024


class FormTooLarge(ValueError):
    """The posted form is larger than the limit."""


@dataclass(slots=True)
class Form:
    """Field values (several per name when repeated) and uploaded files (name -> (file
    name, bytes))."""

    values: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[0] if found else default

    def getlist(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)


async def read_body(request: Request, max_bytes: int = MAX_FORM_BYTES) -> bytes:
    """The request body, read no further than `max_bytes` (then FormTooLarge)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormTooLarge(f"it is larger than {max_bytes // 1024:,} KiB")
    return bytes(body)


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES) -> Form:
    """The posted form; FormTooLarge past `max_bytes`."""
    body = await read_body(request, max_bytes)
    return parse_form(body, request.headers.get("content-type", ""))


def parse_form(body: bytes, content_type: str) -> Form:
    form = Form()
    if content_type.lower().startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                if data or filename:
                    form.files[name] = (filename, data)
            else:
                charset = part.get_content_charset() or "utf-8"
                try:
                    form.add(name, data.decode(charset, errors="replace"))
                except LookupError:
                    form.add(name, data.decode("utf-8", errors="replace"))
        return form
    text = body.decode("utf-8", errors="replace")
    for name, value in parse_qsl(text, keep_blank_values=True):
        form.add(name, value)
    return form
