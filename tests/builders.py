"""Builders for test data: one passage, one citation, one article record, and the flagship question."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rag.types import Citation, Passage

FLAGSHIP = "Who benefits if Supermicro loses xAI?"
"""The question the bundled seed article (samples/supermicro_xai_dell.txt) answers: Dell, Wistron, Inventec."""


def passage(
    text: str,
    start: int = 0,
    article: str = "a1",
    index: int = 0,
    title: str = "T",
    source: str = "Wire",
    published: datetime | None = None,
    **extra: Any,
) -> Passage:
    """A retrieved passage whose ``text`` sits at ``start`` in article ``article``."""
    return Passage(
        chunk_id=f"{article}:{index}",
        article_id=article,
        index=index,
        text=text,
        start=start,
        end=start + len(text),
        title=title,
        source=source,
        published=published,
        **extra,
    )


def citation(n: int, article: str, quote: str, **fields: Any) -> Citation:
    """Citation ``[n]`` quoting ``quote`` from article ``article`` (title ``T<article>``, outlet ``O``)."""
    defaults: dict[str, Any] = {"title": f"T{article}", "source": "O"}
    return Citation(n=n, article_id=article, chunk_id=f"{article}:0", quote=quote, **(defaults | fields))


def article(i: int, sentences: int = 40, **fields: Any) -> dict[str, Any]:
    """A JSONL article record ``i`` of ``sentences`` distinct sentences (for ingest corpora)."""
    body = " ".join(
        f"Story {i} sentence {j} reports on the harbour project number {i} in detail." for j in range(sentences)
    )
    return {"title": f"Story {i}", "url": f"https://example.com/s/{i}", "text": body, **fields}
