"""Plain-text and Markdown articles, including pages captured from news aggregators."""

from __future__ import annotations

from ingest.clean import clean_page
from ingest.readers import RawDocument


def read_text(text: str, origin: str) -> RawDocument:
    page = clean_page(text)
    return RawDocument(
        text=page.text,
        origin=origin,
        title=page.title,
        source=page.source,
        authors=page.authors,
        published=page.published,
        url=page.url,
    )
