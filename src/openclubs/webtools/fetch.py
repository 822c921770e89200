"""Fetching a club's web page for /validate without letting the server be used against
itself or its network (server-side request forgery).

`ingest.fetch.fetch_text` trusts its caller (the CLI user fetches what they like); a public
web page must not. Here every hop of a fetch, the first and each redirect, is checked:

- only http and https, no user name or password in the address;
- the host name is resolved here, every address it resolves to must be public (not loopback,
  private, link-local, shared, multicast, reserved or unspecified, IPv4 inside IPv6 included),
  unless the `fetch_allow` setting names the host or a network holding the address;
- the connection then goes to the very address that was checked (the URL's host is kept in
  the Host header and in TLS SNI and certificate checks), so a DNS answer that changes
  between the check and the connection (DNS rebinding) cannot slip through;
- redirects are followed by hand, at most `max_redirects`, each checked like the first;
- one deadline covers the whole fetch, name look-ups included (`getaddrinfo` has no timeout
  of its own, so it runs in a worker thread that is waited for only until the deadline; a
  server that trickles bytes is cut off too), and the body is refused past `max_bytes`,
  whether or not it declared its length;
- proxies from the environment are ignored (trust_env off), since a proxy would make the
  address check meaningless.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from openclubs.ingest.fetch import USER_AGENT, Fetched, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

TIMEOUT = 10.0
MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
# NAT64 (RFC 6052): a gateway turns 64:ff9b::a.b.c.d into a.b.c.d, so the IPv4 address inside
# is the one reached; Python counts the well-known /96 as global.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
ACCEPT = "text/html, application/ld+json, application/json;q=0.9, */*;q=0.5"

__all__ = [
    "FetchError",
    "FetchPolicy",
    "Fetched",
    "UnsafeTarget",
    "address_problem",
    "fetch_page",
    "system_resolver",
]


class UnsafeTarget(FetchError):
    """The address (or one a redirect leads to) is one the server must not reach."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolves `host` to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _LookupTimeout(Exception):
    """The name look-up did not finish before the fetch's deadline."""


def resolve_within(resolver: Resolver, host: str, port: int, seconds: float) -> Sequence[str]:
    """`resolver(host, port)`, waited for at most `seconds`, else _LookupTimeout.

    The look-up runs in a daemon thread: a resolver cannot be interrupted, so a slow one is
    abandoned (it ends when the system's own resolver gives up) rather than holding the
    request, and the person waiting, past the deadline."""
    outcome: list[Sequence[str] | BaseException] = []

    def run() -> None:
        try:
            outcome.append(resolver(host, port))
        except BaseException as err:  # handed to the waiting thread, raised there
            outcome.append(err)

    worker = threading.Thread(target=run, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(max(seconds, 0.0))
    if not outcome:
        raise _LookupTimeout(host)
    found = outcome[0]
    if isinstance(found, BaseException):
        raise found
    return found


def address_problem(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address (a phrase such as "a loopback address"), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "a shared (CGNAT) address"),
        (ip.is_reserved or not ip.is_global, "a reserved address"),
    )
    return next((why for bad, why in checks if bad), None)


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What the fetcher may reach and how long and how much it may read."""

    allow_networks: tuple[IPNetwork, ...] = ()
    allow_hosts: frozenset[str] = frozenset()
    timeout: float = TIMEOUT
    max_bytes: int = MAX_BYTES
    max_redirects: int = MAX_REDIRECTS
    resolver: Resolver = field(default=system_resolver)

    @classmethod
    def from_setting(
        cls,
        allow: str,
        *,
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_BYTES,
        max_redirects: int = MAX_REDIRECTS,
        resolver: Resolver = system_resolver,
    ) -> FetchPolicy:
        """A policy from the `fetch_allow` setting: addresses, networks (CIDR) and host
        names, separated by commas or spaces; empty by default (only public addresses)."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in allow.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts), timeout, max_bytes, max_redirects, resolver)

    def allows(self, host: str, ip: IPAddress) -> bool:
        if host in self.allow_hosts:
            return True
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(c in net for c in candidates for net in self.allow_networks)

    def check(self, url: str, deadline: float | None = None) -> tuple[str, str, int, IPAddress]:
        """(scheme, host, port, the address to connect to) for a URL this policy lets the
        fetcher reach; raises UnsafeTarget or FetchError saying why not. The name look-up
        ends by `deadline` (a time.monotonic() value; default: `timeout` from now)."""
        try:
            parts = urlsplit(url)
            port_given = parts.port
        except ValueError as err:
            raise FetchError(f"{url}: not a web address ({err})") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise UnsafeTarget(f"{url}: only http and https addresses can be fetched")
        if parts.username is not None or parts.password is not None:
            raise UnsafeTarget(f"{url}: addresses with a user name or password are not fetched")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise FetchError(f"{url}: the address has no host name")
        port = port_given or (443 if scheme == "https" else 80)
        if deadline is None:
            deadline = time.monotonic() + self.timeout
        addresses = self._addresses(url, host, port, deadline)
        for ip in addresses:
            why = address_problem(ip)
            if why is not None and not self.allows(host, ip):
                named = f"{host} is" if str(ip) == host else f"{host} resolves to {ip},"
                raise UnsafeTarget(
                    f"{url}: {named} {why}; this server only fetches public web pages"
                )
        return scheme, host, port, addresses[0]

    def _addresses(self, url: str, host: str, port: int, deadline: float) -> list[IPAddress]:
        """The host itself when it is an address, else every address it resolves to."""
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        try:
            found = resolve_within(self.resolver, host, port, deadline - time.monotonic())
        except _LookupTimeout:
            raise FetchError(
                f"{url}: the host {host} could not be looked up within {self.timeout:g} seconds"
            ) from None
        except (OSError, UnicodeError) as err:
            raise FetchError(f"{url}: the host {host} cannot be found ({err})") from None
        addresses: list[IPAddress] = []
        for text in found:
            try:
                addresses.append(ipaddress.ip_address(text.partition("%")[0]))
            except ValueError:
                continue
        if not addresses:
            raise FetchError(f"{url}: the host {host} cannot be found")
        return addresses


def _origin(scheme: str, host: str, port: int) -> str:
    """The Host header: an IPv6 literal goes back in its brackets (RFC 9110 §7.2)."""
    default = 443 if scheme == "https" else 80
    name = f"[{host}]" if ":" in host else host
    return name if port == default else f"{name}:{port}"


def fetch_page(
    url: str, policy: FetchPolicy, *, transport: httpx.BaseTransport | None = None
) -> Fetched:
    """GET `url` under `policy`; the text of the page, or FetchError (UnsafeTarget for a
    refused address) with a sentence a person can act on."""
    deadline = time.monotonic() + policy.timeout
    current = url.strip()
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    with httpx.Client(transport=transport, trust_env=False, follow_redirects=False) as client:
        for hop in range(policy.max_redirects + 1):
            scheme, host, port, ip = policy.check(current, deadline)
            parts = urlsplit(current)
            literal = f"[{ip}]" if ip.version == 6 else str(ip)
            target = parts._replace(netloc=f"{literal}:{port}").geturl()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(f"{url}: no complete answer within {policy.timeout:g} seconds")
            request = client.build_request(
                "GET",
                target,
                headers={**headers, "Host": _origin(scheme, host, port)},
                extensions={"sni_hostname": host} if scheme == "https" else {},
                timeout=httpx.Timeout(remaining),
            )
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchError(f"{url}: no answer within {policy.timeout:g} seconds") from None
            except httpx.HTTPError as err:
                raise FetchError(
                    f"{url}: could not connect ({err or type(err).__name__})"
                ) from None
            try:
                if response.status_code in REDIRECTS and "location" in response.headers:
                    if hop == policy.max_redirects:
                        raise FetchError(
                            f"{url}: too many redirects (more than {policy.max_redirects})"
                        )
                    current = urljoin(current, response.headers["location"])
                    continue
                text = _read(response, url, policy, deadline)
            finally:
                response.close()
            return Fetched(
                url=current,
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                text=text,
            )
    raise FetchError(f"{url}: too many redirects")  # not reached: the loop returns or raises


def _read(response: httpx.Response, url: str, policy: FetchPolicy, deadline: float) -> str:
    if response.status_code >= 400:
        raise FetchError(
            f"{url}: the server answered HTTP {response.status_code} "
            f"{response.reason_phrase}".rstrip()
        )
    limit = policy.max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(
            f"{url}: the page is too large ({int(declared):,} bytes; the limit is {limit:,})"
        )
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{url}: the page is too large (over {limit:,} bytes)")
            if time.monotonic() > deadline:
                raise FetchError(
                    f"{url}: the page took longer than {policy.timeout:g} seconds to arrive"
                )
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise FetchError(
            f"{url}: the page took longer than {policy.timeout:g} seconds to arrive"
        ) from None
    except httpx.HTTPError as err:
        raise FetchError(f"{url}: the answer broke off ({type(err).__name__})") from None
    encoding = response.charset_encoding or "utf-8"
    try:
        return b"".join(chunks).decode(encoding, errors="replace")
    except LookupError:
        return b"".join(chunks).decode("utf-8", errors="replace")
