"""Saved HTML files: the same extraction as a fetched page (:func:`ingest.web.extract.extract_article`).

One extraction path means a saved ``.html`` file and the same page fetched by URL get the same title,
date and authors, with the same provenance.
"""

from __future__ import annotations

from ingest.readers import RawDocument
from ingest.web.extract import extract_article


def read_html(markup: str, origin: str, url: str | None = None) -> RawDocument:
    """The article in ``markup`` read from the file ``origin`` (``url``: where the page was fetched from, if known)."""
    return extract_article(markup, url=url, origin=origin)
