"""The Chroma store (``chroma``), its metadata schema (``schema``) and the writers' locks (``locks``).

Re-exported here so callers import ``rag.store`` as before.
"""

from rag.store.chroma import ChromaStore, Committed
from rag.store.schema import (
    UNDATED_TS,
    WRITTEN_NS,
    also_in_from,
    also_in_json,
    article_from,
    article_metadata,
    build_where,
    passage_from,
    timestamp,
)

__all__ = [
    "UNDATED_TS",
    "WRITTEN_NS",
    "ChromaStore",
    "Committed",
    "also_in_from",
    "also_in_json",
    "article_from",
    "article_metadata",
    "build_where",
    "passage_from",
    "timestamp",
]
