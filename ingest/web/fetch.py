"""Fetching user-supplied URLs safely: the SSRF guard, the guarded httpx client, and :func:`fetch`.

:func:`fetch` is httpx with connect/read timeouts, an overall deadline, a byte cap, at most five
redirects followed by hand (each hop re-checked), a content-type allow-list and a clear User-Agent.
The SSRF guard lives in the connection layer: every TCP connection, on every hop, resolves the host,
refuses it when any address is private, loopback, link-local, reserved or otherwise not global (unless
``NEWSQA_ALLOW_PRIVATE_URLS=true``), and then connects to the address it checked, so a DNS answer that
changes between check and connect (rebinding) cannot slip through. An IPv6 address that embeds an IPv4 one
(IPv4-mapped, IPv4-compatible, 6to4 ``2002:7f00:1::``, Teredo, NAT64 ``64:ff9b::``) is judged by the IPv4
address it reaches. A URL that httpx cannot parse (``http://0177.0.0.1/``) is a FetchError like any other
refusal (it was an uncaught ``InvalidURL``: a 500 over HTTP, and ``newsqa ingest`` dropped the whole batch);
a URL with ``user:password@`` is refused, and credentials never appear in an error message.

Longer than our usual ~300 lines on purpose: the guard and the fetch loop are one security boundary, kept in
one module so that it is reviewed whole.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from ingest.readers import decode
from rag.errors import ArticleRejected
from rag.settings import Settings

MAX_REDIRECTS = 5
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
)
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def redact(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@`` (for messages and logs)."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@", r"\1***@", url.strip())


class FetchError(ArticleRejected):
    """A URL could not be fetched or is not allowed; ``reason`` says why without the URL."""

    def __init__(self, url: str, reason: str) -> None:
        url = redact(url)
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class UnsafeURL(FetchError):
    """The URL points at a scheme or an address newsqa must not reach."""


def is_url(text: str) -> bool:
    """True for something the CLI should fetch rather than open as a file (``scheme://...``)."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text.strip()))


# ---- the SSRF guard ---------------------------------------------------------------------------------
def blocked_reason(address: str) -> str | None:
    """Why ``address`` must not be reached (``'loopback'``, ``'private'``...), or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and (inner := embedded_ipv4(ip)) is not None:
        ip = inner  # ::ffff:127.0.0.1 and 2002:7f00:1:: (6to4) are 127.0.0.1
    for attr, label in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_private", "private"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, attr):
            return label
    return None if ip.is_global else "non-public"


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to: IPv4-mapped, 6to4, Teredo (its client), NAT64, IPv4-compatible."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 are themselves
        return ipaddress.IPv4Address(int(ip))
    return None


_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsqa-dns")


def resolve(host: str, port: int, timeout: float | None = None) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself), within ``timeout`` seconds."""
    # getaddrinfo has no timeout of its own: run it on a worker so a dead resolver cannot hang a fetch.
    job = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = job.result(timeout=timeout)
    except FuturesTimeout:
        raise httpcore.ConnectTimeout(f"resolving host {host!r} took longer than {timeout:g} s") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve host {host!r}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _GuardedBackend(httpcore.SyncBackend):
    """Resolve, check every address, then connect to a checked address (never re-resolving)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port, timeout)
        if not self.allow_private:
            for address in addresses:
                if reason := blocked_reason(address):
                    raise UnsafeURL(
                        host,
                        f"refused: {host} resolves to {address}, a {reason} address "
                        "(set NEWSQA_ALLOW_PRIVATE_URLS=true to allow private addresses)",
                    )
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host}")


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()  # loading the CA bundle takes a while: once per process


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the connection pool swapped for one using :class:`_GuardedBackend`."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=10,
            network_backend=_GuardedBackend(allow_private),
        )


def make_client(settings: Settings) -> httpx.Client:
    """An httpx client for untrusted URLs: guarded connections, timeouts, no proxies from the environment."""
    return httpx.Client(
        transport=_GuardedTransport(settings.allow_private_urls),
        timeout=httpx.Timeout(settings.fetch_timeout_s, connect=settings.fetch_connect_timeout_s),
        # gzip only: the byte cap is applied to the wire bytes and again while inflating (no zip bombs)
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip"},
        follow_redirects=False,  # followed by hand below, so that every hop is checked and counted
        trust_env=False,
    )


def check_url(url: str) -> str:
    """``url`` stripped, if it is an absolute http(s) URL with a host and no credentials, that httpx can parse;
    else FetchError (UnsafeURL for a refused scheme or credentials). Callers report it per URL and go on."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise FetchError(url, f"not a valid URL ({exc})") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise UnsafeURL(url, f"refused: only http and https URLs are fetched, not {parts.scheme or 'a relative URL'!r}")
    if not parts.hostname:
        raise FetchError(url, "not a valid URL (no host)")
    if "@" in parts.netloc:
        raise UnsafeURL(url, "refused: the URL holds a user name or password (newsqa neither sends nor stores them)")
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:  # e.g. 0177.0.0.1 (octal) or ①②⑦.⓪.⓪.①: httpx refuses to guess
        raise FetchError(url, f"not a valid URL ({exc})") from None
    return url


# ---- fetching ----------------------------------------------------------------------------------------
@dataclass
class Fetched:
    """One fetched resource (after redirects), or a 304 answer to a conditional GET."""

    url: str
    status: int
    content: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def text(self) -> str:
        """The body decoded: the declared charset, else UTF-8, else the detected encoding."""
        if self.charset:
            try:
                return self.content.decode(self.charset)
            except (LookupError, UnicodeDecodeError):
                pass
        return decode(self.content, self.url)


def _media_type(header: str | None, body_start: bytes) -> tuple[str, str | None]:
    """(media type, charset) from Content-Type; without one, sniff HTML/XML from the first bytes."""
    if header:
        media, _, params = header.partition(";")
        match = re.search(r"charset=\"?([\w.:-]+)", params, re.IGNORECASE)
        return media.strip().lower(), match.group(1) if match else None
    head = body_start.lstrip()[:200].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "text/html", None
    if head.startswith(b"<?xml") or head.startswith((b"<rss", b"<feed")):
        return "application/xml", None
    return "", None


def fetch(
    url: str,
    settings: Settings,
    accept: frozenset[str] = HTML_TYPES,
    headers: dict[str, str] | None = None,
    client: httpx.Client | None = None,
) -> Fetched:
    """GET ``url`` safely; raise FetchError (or UnsafeURL) with the reason when it cannot be had.

    ``headers`` may carry ``If-None-Match``/``If-Modified-Since``: a 304 comes back as ``Fetched.status``.
    """
    own = client is None
    client = client or make_client(settings)
    deadline = time.monotonic() + settings.fetch_timeout_s
    current = url
    try:
        current = check_url(url)
        visited = [current]
        for _hop in range(MAX_REDIRECTS + 1):
            result = _get_once(client, current, settings, accept, headers or {}, deadline)
            if isinstance(result, Fetched):
                return result
            nxt = check_url(result)
            if nxt in visited:
                raise FetchError(url, f"redirect loop ({' -> '.join([*visited, nxt])})")
            visited.append(nxt)
            current = nxt
        raise FetchError(url, f"too many redirects (more than {MAX_REDIRECTS})")
    except UnsafeURL as exc:
        hop = f" (redirected to {redact(current)})" if current != url.strip() else ""
        raise UnsafeURL(url, exc.reason + hop) from None
    except httpx.TimeoutException as exc:
        kind = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for the server"
        raise FetchError(url, f"timed out {kind} (NEWSQA_FETCH_TIMEOUT_S={settings.fetch_timeout_s:g})") from None
    except httpx.InvalidURL as exc:  # a redirect to a URL httpx cannot parse
        raise FetchError(url, f"not a valid URL ({exc})") from None
    except httpx.HTTPError as exc:
        raise FetchError(url, f"cannot fetch: {exc or type(exc).__name__}") from None
    finally:
        if own:
            client.close()


def _get_once(
    client: httpx.Client,
    url: str,
    settings: Settings,
    accept: frozenset[str],
    headers: dict[str, str],
    deadline: float,
) -> Fetched | str:
    """One GET: the Fetched resource, or the absolute URL a redirect points to."""
    with client.stream("GET", url, headers=headers) as resp:
        if resp.status_code in _REDIRECTS:
            location = resp.headers.get("location")
            if not location:
                raise FetchError(url, f"HTTP {resp.status_code} redirect without a Location header")
            return str(resp.url.join(location))
        if resp.status_code == 304:
            return Fetched(
                str(resp.url), 304, etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified")
            )
        if resp.status_code >= 400:
            raise FetchError(url, f"HTTP {resp.status_code} {resp.reason_phrase}".strip())
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.fetch_max_bytes:
            raise FetchError(url, _too_large(int(declared), settings))
        body = _read_capped(resp.iter_raw(_CHUNK), url, settings, deadline)
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        if encoding == "gzip":
            body = _gunzip(body, url, settings)
        elif encoding not in {"", "identity"}:
            raise FetchError(url, f"unsupported content encoding {encoding!r}")
        media, charset = _media_type(resp.headers.get("content-type"), body[:512])
        if media not in accept:
            wanted = "an HTML page" if accept == HTML_TYPES else "a feed"
            raise FetchError(url, f"not {wanted}: content type {media or 'unknown'!r}")
        return Fetched(
            str(resp.url),
            resp.status_code,
            body,
            media,
            charset,
            resp.headers.get("etag"),
            resp.headers.get("last-modified"),
        )


def _too_large(size: int, settings: Settings) -> str:
    return f"too large (over {settings.fetch_max_bytes:,} bytes, NEWSQA_FETCH_MAX_BYTES; got {size:,})"


def _read_capped(chunks: Iterator[bytes], url: str, settings: Settings, deadline: float) -> bytes:
    """The body, stopping at the byte cap (a lying Content-Length) or the overall deadline (a slow drip)."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > settings.fetch_max_bytes:
            raise FetchError(url, _too_large(size, settings))
        if time.monotonic() > deadline:
            raise FetchError(url, f"timed out reading the body (NEWSQA_FETCH_TIMEOUT_S={settings.fetch_timeout_s:g})")
        parts.append(chunk)
    return b"".join(parts)


def _gunzip(raw: bytes, url: str, settings: Settings) -> bytes:
    import zlib

    try:
        out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, settings.fetch_max_bytes + 1)
    except zlib.error as exc:
        raise FetchError(url, f"corrupt gzip body: {exc}") from None
    if len(out) > settings.fetch_max_bytes:
        raise FetchError(url, _too_large(len(out), settings))
    return out
