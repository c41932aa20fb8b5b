"""Web ingest: fetch user-supplied URLs safely (:mod:`ingest.web.fetch`) and extract articles from the pages
(:mod:`ingest.web.extract`); this module puts the two together for one URL or a batch.

Extracted text is data: it is stored and quoted, never interpreted as instructions or settings.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from ingest.readers import Failure, RawDocument
from ingest.web.extract import extract_article
from ingest.web.fetch import (
    FEED_TYPES,
    HTML_TYPES,
    MAX_REDIRECTS,
    Fetched,
    FetchError,
    UnsafeURL,
    blocked_reason,
    check_url,
    fetch,
    is_url,
    make_client,
    resolve,
)
from rag.errors import ArticleRejected, InputError
from rag.settings import Settings

__all__ = [
    "FEED_TYPES",
    "HTML_TYPES",
    "MAX_REDIRECTS",
    "FetchError",
    "Fetched",
    "UnsafeURL",
    "blocked_reason",
    "check_url",
    "extract_article",
    "fetch",
    "fetch_article",
    "is_url",
    "make_client",
    "read_urls",
    "resolve",
]


def fetch_article(url: str, settings: Settings, client: httpx.Client | None = None) -> RawDocument:
    """Fetch one article page and extract it; FetchError/UnsafeURL/ArticleRejected say why it failed.

    This is what ``POST /v1/articles {"url": ...}`` and ``newsqa ingest https://...`` call.
    """
    fetched = fetch(url, settings, accept=HTML_TYPES, client=client)
    return extract_article(fetched.text(), fetched.url, origin=url)


def read_urls(urls: Iterable[str], settings: Settings) -> list[RawDocument | Failure]:
    """Fetch each URL; a failure becomes a Failure (with its reason) and the batch goes on."""
    out: list[RawDocument | Failure] = []
    with make_client(settings) as client:
        for url in urls:
            try:
                out.append(fetch_article(url, settings, client=client))
            except (ArticleRejected, InputError) as exc:
                reason = exc.reason if isinstance(exc, FetchError) else str(exc).removeprefix(f"{url}: ")
                out.append(Failure(url, reason))
    return out
