"""Identity of articles and outlets: canonical URLs, stable ids, content hashes, outlet keys."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "at_")
_MORE_TRACKING_KEYS = {"mkt_tok", "_hsenc", "_hsmi", "yclid", "twclid", "wt.mc_id", "cmp", "ito", "guccounter"}
_INDEX_PAGE = ("/index.html", "/index.htm", "/index.php")
_TRACKING_KEYS = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "igshid",
    "ref",
    "ref_src",
    "cmpid",
    "smid",
    "ocid",
    "sr_share",
}


def canonical_url(url: str) -> str:
    """Normalise a URL so two links to one article compare equal (case, tracking params, fragment, slash)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "https"
    host = (parts.hostname or "").lower()
    if parts.port and not ((scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    if path.lower().endswith(_INDEX_PAGE):  # /story/index.html and /story/ are one page
        path = path[: path.rindex("/") + 1]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES) and k.lower() not in _TRACKING_KEYS | _MORE_TRACKING_KEYS
    ]
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def article_id(url: str | None, source: str | None, title: str | None, text: str) -> str:
    """Stable id: from the canonical URL when there is one, else from outlet + title + text."""
    if url:
        return _digest("url", canonical_url(url))[:16]
    return _digest("content", source or "", title or "", text)[:16]


def text_hash(text: str) -> str:
    return _digest(" ".join(text.split()))[:32]


def content_hash(text: str, *metadata: str | None) -> str:
    """Changes when the text or any indexed metadata changes (then the article is re-indexed)."""
    return _digest(text, *(m or "" for m in metadata))[:32]


def source_key(source: str | None) -> str:
    """Outlet name as matched by filters: case-insensitive, typographic apostrophes folded."""
    return (source or "").replace("\u2019", "'").strip().casefold()
