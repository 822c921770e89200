"""Fetching a document over http(s): time-outs, a size limit and clear messages.

Errors are raised as :class:`FetchError` with a sentence a person can act on; nothing here
prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from openclubs.version import __version__

USER_AGENT = f"openclubs/{__version__} (+https://openactive.io/; club data tools)"
MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A URL could not be fetched; the message says why."""


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    status: int
    content_type: str
    text: str


def fetch_text(
    url: str,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 20.0,
    max_bytes: int = MAX_BYTES,
) -> Fetched:
    """GET `url` and return its text; raise FetchError when it cannot be had."""
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"{url}: only http and https addresses can be fetched")
    limits = httpx.Timeout(timeout, connect=min(timeout, 10.0))
    try:
        with (
            httpx.Client(
                transport=transport,
                timeout=limits,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                headers={
                    "User-Agent": USER_AGENT,
                    "Accept": "application/ld+json, application/json, text/html;q=0.9, */*;q=0.5",
                },
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise FetchError(
                    f"{url}: the server answered HTTP {response.status_code} "
                    f"{response.reason_phrase}".rstrip()
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(
                    f"{url}: the document is too large ({int(declared):,} bytes; "
                    f"the limit is {max_bytes:,})"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url}: the document is too large (over {max_bytes:,} bytes)")
                chunks.append(chunk)
            body = b"".join(chunks)
            encoding = response.charset_encoding or "utf-8"
            return Fetched(
                url=str(response.url),
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                text=body.decode(encoding, errors="replace"),
            )
    except httpx.TooManyRedirects:
        raise FetchError(f"{url}: too many redirects (more than {MAX_REDIRECTS})") from None
    except httpx.TimeoutException:
        raise FetchError(f"{url}: no answer within {timeout:g} seconds (timed out)") from None
    except httpx.ConnectError as err:
        raise FetchError(f"{url}: could not connect ({err or 'connection refused'})") from None
    except httpx.HTTPError as err:
        raise FetchError(f"{url}: the request failed ({type(err).__name__}: {err})") from None
