"""HTML articles: main text and metadata extracted with trafilatura."""

from __future__ import annotations

from typing import Any

from ingest.clean import split_authors
from ingest.readers import RawDocument
from rag.errors import ArticleRejected


def read_html(markup: str, origin: str, url: str | None = None) -> RawDocument:
    import trafilatura

    doc: Any = trafilatura.bare_extraction(  # a Document (as_dict=False): typed loosely upstream
        markup, url=url, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    if doc is None or not (doc.text or "").strip():
        raise ArticleRejected(f"{origin}: no article text found in the HTML")
    return RawDocument(
        text=doc.text,
        origin=origin,
        title=doc.title or None,
        source=doc.sitename or None,
        authors=split_authors(doc.author) if doc.author else [],
        published=doc.date or None,
        url=url or doc.url or None,
    )
