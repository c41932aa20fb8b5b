"""The store's metadata schema: the Chroma metadata keys, and the one encoder and decoder of each record.

Article records and chunk records carry the same article fields (a chunk's passage needs its title, source,
date, url and other outlets without a second lookup), so one function encodes them and one decodes the
shared part for both ``Article`` and ``Passage``. Chroma metadata values are scalars, so lists and dicts are
JSON strings; ``published_ts`` (seconds, ``UNDATED_TS`` when undated) and ``source_key`` exist for filters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rag.text.ids import source_key, text_hash
from rag.types import Article, Chunk, OutletCopy, Passage

ARTICLE_ID = "article_id"
TEXT_HASH = "text_hash"
N_CHUNKS = "n_chunks"  # article records only: how many chunks commit it (0 for a syndicated copy)
MINHASH = "minhash"  # near-duplicate signature (ingest.neardup), article records only
BAND_KEY = "mh_b{}"  # LSH band key i of the signature, article records only
UNDATED_TS = -1  # chunks of undated articles: pass `until`/as_of filters, fail `since`
# chunk records only: time.time_ns() of the write that last changed the chunk (taken under the write lock), so
# a derived index reads only what changed since its watermark (rag.bm25); absent on chunks of older stores.
WRITTEN_NS = "written_ns"


def timestamp(dt: datetime | None) -> int:
    return int(dt.timestamp()) if dt else UNDATED_TS


def article_metadata(article: Article) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "article_id": article.id,
        "title": article.title or "",
        "source": article.source or "",
        "source_key": source_key(article.source),
        "authors": json.dumps(article.authors),
        "published": article.published.isoformat() if article.published else "",
        "published_ts": timestamp(article.published),
        "url": article.url or "",
        "content_hash": article.content_hash,
        "text_hash": text_hash(article.text),
        "ingested_at": article.ingested_at.isoformat(),
        # web ingest (issue 8): partial feed-entry text, field provenance, syndicated story grouping
        "partial": article.partial,
        "provenance": json.dumps(article.provenance),
        "story_id": article.story_id or "",
        "also_in": also_in_json(article.also_in),
    }
    return meta


def also_in_json(copies: Sequence[OutletCopy]) -> str:
    return json.dumps([c.model_dump(mode="json") for c in copies])


def also_in_from(meta: dict[str, Any]) -> list[OutletCopy]:
    return [OutletCopy.model_validate(c) for c in json.loads(meta.get("also_in") or "[]")]


def chunk_metadata(base: dict[str, Any], chunk: Chunk) -> dict[str, Any]:
    """A chunk record: its article's fields (``article_metadata``) and where it sits in the article."""
    return {**base, "index": chunk.index, "start": chunk.start, "end": chunk.end}


def _shared_from(meta: dict[str, Any]) -> dict[str, Any]:
    """The article fields both record kinds carry, decoded once for ``article_from`` and ``passage_from``."""
    return {
        "title": meta.get("title") or None,
        "source": meta.get("source") or None,
        "authors": json.loads(meta.get("authors") or "[]"),
        "published": datetime.fromisoformat(meta["published"]) if meta.get("published") else None,
        "url": meta.get("url") or None,
        "also_in": also_in_from(meta),
    }


def article_from(meta: dict[str, Any], text: str) -> Article:
    return Article(
        id=meta[ARTICLE_ID],
        text=text,
        ingested_at=datetime.fromisoformat(meta["ingested_at"]),
        content_hash=meta.get("content_hash", ""),
        partial=bool(meta.get("partial", False)),
        provenance=json.loads(meta.get("provenance") or "{}"),
        story_id=meta.get("story_id") or None,
        **_shared_from(meta),
    )


def passage_from(chunk_id: str, text: str, meta: dict[str, Any]) -> Passage:
    return Passage(
        chunk_id=chunk_id,
        article_id=meta[ARTICLE_ID],
        index=int(meta["index"]),
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        **_shared_from(meta),
    )


def build_where(
    *, since: datetime | None = None, until: datetime | None = None, sources: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """Chroma ``where`` clause for the shared filters (published range, outlets)."""
    clauses: list[dict[str, Any]] = []
    if since is not None:
        clauses.append({"published_ts": {"$gte": timestamp(since)}})
    if until is not None:
        clauses.append({"published_ts": {"$lte": timestamp(until)}})
    if sources:
        clauses.append({"source_key": {"$in": [source_key(s) for s in sources]}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
