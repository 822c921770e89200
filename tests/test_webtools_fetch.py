"""The /validate page's URL fetcher refuses what a public server must not reach: loopback,
private, link-local and other non-public addresses (given as numbers, as names that resolve
to them, or reached through redirects), other schemes, oversize and slow answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from openclubs.webtools.fetch import (
    FetchError,
    FetchPolicy,
    UnsafeTarget,
    address_problem,
    fetch_page,
)
from tests.conftest import LocalSite
from tests.helpers import EXAMPLES

PAGE = (EXAMPLES / "01-club-spec-0.2-example1-greenwich-yc-required-only.html").read_text()


def never(request: httpx.Request) -> httpx.Response:
    """A transport for refusals: reaching it at all means a refused address was contacted."""
    raise AssertionError(f"the fetcher tried to reach {request.url}")


NO_NETWORK = httpx.MockTransport(never)


def resolver(table: dict[str, list[str]]) -> Any:
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.9.9.9:8080/club", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/admin", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fd00::1]/", "private"),
        ("http://100.64.0.1/", "shared"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 wrapping 127.0.0.1
        ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),  # NAT64 wrapping 169.254.169.254
        ("http://224.0.0.1/", "multicast"),
    ],
)
def test_non_public_addresses_are_refused_by_default(url: str, why: str) -> None:
    with pytest.raises(UnsafeTarget, match=why):
        fetch_page(url, FetchPolicy(), transport=NO_NETWORK)


def test_names_that_resolve_to_private_addresses_are_refused() -> None:
    # the real system resolver: localhost and a decimal IPv4 both mean 127.0.0.1
    for url in ("http://localhost/", "http://2130706433/"):
        with pytest.raises(UnsafeTarget, match=r"resolves to .* a loopback address"):
            fetch_page(url, FetchPolicy(), transport=NO_NETWORK)
    table = {
        "internal.example": ["10.0.0.7"],
        "metadata.example": ["169.254.169.254"],
        "mixed.example": ["93.184.216.34", "192.168.0.10"],  # one bad answer is enough
    }
    policy = FetchPolicy(resolver=resolver(table))
    for host, reason in [
        ("internal.example", "10.0.0.7, a private"),
        ("metadata.example", "169.254.169.254, a link-local"),
        ("mixed.example", "192.168.0.10, a private"),
    ]:
        with pytest.raises(UnsafeTarget, match=f"{host} resolves to {reason} address"):
            fetch_page(f"http://{host}/club", policy, transport=NO_NETWORK)
    with pytest.raises(FetchError, match="cannot be found"):
        fetch_page("http://nowhere.example/", policy, transport=NO_NETWORK)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/club.json",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "http://user:secret@example.org/",
    ],
)
def test_other_schemes_and_credentials_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        fetch_page(url, FetchPolicy(), transport=NO_NETWORK)


def test_the_connection_goes_to_the_checked_address_with_the_host_kept() -> None:
    """No second DNS look-up: the request is sent to the address that passed the check,
    with the name in the Host header and for TLS (SNI and the certificate check)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=PAGE, headers={"content-type": "text/html"})

    policy = FetchPolicy(resolver=resolver({"club.example": ["93.184.216.34"]}))
    page = fetch_page("https://club.example/about", policy, transport=httpx.MockTransport(answer))
    assert page.text == PAGE and page.url == "https://club.example/about"
    assert [str(r.url) for r in seen] == ["https://93.184.216.34/about"]
    assert seen[0].headers["host"] == "club.example"
    assert seen[0].extensions["sni_hostname"] == "club.example"


def test_a_name_look_up_that_hangs_is_cut_off_at_the_deadline() -> None:
    """getaddrinfo has no timeout: a resolver that never answers (a DNS server that drops
    queries) must not hold the request past the fetch's own deadline. The resolver here
    blocks until released, so the FetchError can only come from the deadline."""
    release = threading.Event()
    asked: list[str] = []

    def hanging(host: str, port: int) -> list[str]:
        asked.append(host)
        release.wait(30)
        return ["93.184.216.34"]

    policy = FetchPolicy(timeout=0.3, resolver=hanging)
    try:
        with pytest.raises(FetchError, match=r"could not be looked up within 0\.3 seconds"):
            fetch_page("http://slow-dns.example/club", policy, transport=NO_NETWORK)
        assert asked == ["slow-dns.example"] and not release.is_set()
    finally:
        release.set()
    # a resolver's own error still reads as a host that cannot be found
    with pytest.raises(FetchError, match=r"the host nowhere\.example cannot be found"):
        fetch_page(
            "http://nowhere.example/", FetchPolicy(resolver=resolver({})), transport=NO_NETWORK
        )


def test_ipv6_literals_keep_their_brackets_in_the_host_header() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=PAGE)

    policy = FetchPolicy.from_setting("::1")
    fetch_page("http://[::1]:8080/club", policy, transport=httpx.MockTransport(answer))
    assert seen[0].headers["host"] == "[::1]:8080"
    assert str(seen[0].url) == "http://[::1]:8080/club"


def test_allowed_hosts_and_networks_are_fetched(local_site: LocalSite) -> None:
    local_site.add("/club.html", PAGE, content_type="text/html; charset=utf-8")
    page = fetch_page(local_site.url("/club.html"), FetchPolicy.from_setting("127.0.0.1"))
    assert page.text == PAGE and page.status == 200
    port = local_site.server.server_address[1]
    named = FetchPolicy.from_setting(
        "10.0.0.0/8, club.test", resolver=resolver({"club.test": ["127.0.0.1"]})
    )
    assert fetch_page(f"http://club.test:{port}/club.html", named).text == PAGE
    assert local_site.requests == ["/club.html", "/club.html"]
    # allowing 127.0.0.1 alone does not open the rest of the loopback network
    with pytest.raises(UnsafeTarget, match="loopback"):
        fetch_page(f"http://127.0.0.2:{port}/club.html", FetchPolicy.from_setting("127.0.0.1"))


def test_redirects_are_checked_hop_by_hop(local_site: LocalSite) -> None:
    port = local_site.server.server_address[1]
    local_site.add("/page", PAGE, content_type="text/html")
    local_site.add("/a", "", status=301, headers={"Location": "/b"})
    local_site.add("/b", "", status=302, headers={"Location": local_site.url("/page")})
    local_site.add(
        "/to-loopback", "", status=302, headers={"Location": f"http://127.0.0.2:{port}/"}
    )
    local_site.add(
        "/to-metadata", "", status=307, headers={"Location": "http://169.254.169.254/latest/"}
    )
    local_site.add("/to-name", "", status=308, headers={"Location": "http://internal.example/"})
    local_site.add("/to-file", "", status=302, headers={"Location": "file:///etc/passwd"})
    local_site.add("/loop", "", status=302, headers={"Location": "/loop"})
    policy = FetchPolicy.from_setting(
        "127.0.0.1", resolver=resolver({"internal.example": ["10.0.0.1"]})
    )
    page = fetch_page(local_site.url("/a"), policy)
    assert page.text == PAGE and page.url == local_site.url("/page")
    assert local_site.requests == ["/a", "/b", "/page"]
    for path, reason in [
        ("/to-loopback", "127.0.0.2 is a loopback address"),
        ("/to-metadata", "169.254.169.254 is a link-local address"),
        ("/to-name", "internal.example resolves to 10.0.0.1, a private address"),
        ("/to-file", "only http and https"),
    ]:
        local_site.requests.clear()
        with pytest.raises(UnsafeTarget, match=reason):
            fetch_page(local_site.url(path), policy)
        assert local_site.requests == [path]  # the refused hop was never asked
    local_site.requests.clear()
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_page(local_site.url("/loop"), policy)
    assert len(local_site.requests) == policy.max_redirects + 1


def test_oversize_answers_are_refused(local_site: LocalSite, slow_site: str) -> None:
    local_site.add("/big.html", "x" * 5000, content_type="text/html")
    policy = FetchPolicy.from_setting("127.0.0.1", max_bytes=4000)
    with pytest.raises(FetchError, match="too large \\(5,000 bytes; the limit is 4,000\\)"):
        fetch_page(local_site.url("/big.html"), policy)
    # no Content-Length: counted while reading, stopped past the limit
    with pytest.raises(FetchError, match="too large \\(over 4,000 bytes\\)"):
        fetch_page(slow_site + "/endless", policy)


def test_slow_answers_are_cut_off(slow_site: str) -> None:
    policy = FetchPolicy.from_setting("127.0.0.1", timeout=0.6)
    with pytest.raises(FetchError, match=r"no answer within 0\.6 seconds"):
        fetch_page(slow_site + "/stall", policy)
    # a byte every 0.1 s never trips a per-read time-out; the whole fetch has a deadline (the
    # error is raised only when the fetch was cut off, not read to the end)
    with pytest.raises(FetchError, match=r"took longer than 0\.6 seconds"):
        fetch_page(slow_site + "/drip", policy)


def test_http_errors_say_what_the_server_answered(local_site: LocalSite) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_page(local_site.url("/missing"), FetchPolicy.from_setting("127.0.0.1"))


def test_address_problem_passes_public_addresses() -> None:
    import ipaddress

    for text in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert address_problem(ipaddress.ip_address(text)) is None


@pytest.fixture
def slow_site() -> Iterator[str]:
    """A server on 127.0.0.1 that stalls before answering (/stall), trickles its body a
    byte at a time (/drip) or sends without end and without a Content-Length (/endless)."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                if self.path == "/stall":
                    stop.wait(3)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                for _ in range(300):
                    if stop.is_set():
                        return
                    if self.path == "/drip":
                        self.wfile.write(b"<")
                        self.wfile.flush()
                        stop.wait(0.1)
                    else:
                        self.wfile.write(b"<p>club</p>" * 100)
            except OSError:
                pass  # the client hung up, as it should

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    stop.set()
    server.shutdown()
    server.server_close()
