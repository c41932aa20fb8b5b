"""BM25 (and, on small stores, the chunk vectors) over the chunks: a derived cache of the Chroma collection.

The index also keeps every chunk's text and metadata in memory, so search builds passages without a
second round trip to the store. It is persisted with the store's generation token and rebuilt whenever
the store's token differs (another process ingested or deleted).
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from rag.store import ChromaStore
from rag.text.ids import source_key
from rag.text.tokens import tokenize

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s forces DEBUG on import

_FORMAT = 4  # bump when Bm25Snapshot changes: old cache files are then ignored and rebuilt


def index_text(title: str | None, text: str) -> str:
    """What both retrievers see of a chunk: its article's title, then the chunk."""
    return f"{title}\n{text}" if title else text


@dataclass
class Bm25Snapshot:
    generation: str
    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    published_ts: np.ndarray
    source_keys: np.ndarray
    retriever: bm25s.BM25 | None
    doc_freq: dict[str, int] = field(default_factory=dict)
    # Whole-article BM25: article_chunks[j] are the chunk positions of article j (in order).
    article_retriever: bm25s.BM25 | None = None
    article_chunks: list[list[int]] = field(default_factory=list)
    # Chunk vectors (row i = ids[i]) for exact dense search in memory on small stores; None on large ones.
    vectors: np.ndarray | None = None
    position: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.position = {cid: i for i, cid in enumerate(self.ids)}


def _article_texts(texts: list[str], metas: list[dict[str, Any]]) -> tuple[list[str], list[list[int]]]:
    """Each article's title and text, stitched back from its chunks' offsets (overlaps counted once)."""
    groups: dict[str, list[int]] = {}
    for i, m in enumerate(metas):
        groups.setdefault(m["article_id"], []).append(i)
    docs, members = [], []
    for positions in groups.values():
        positions.sort(key=lambda i: int(metas[i]["index"]))
        parts, covered = [], 0
        for i in positions:
            start, end = int(metas[i]["start"]), int(metas[i]["end"])
            if end > covered:
                parts.append(texts[i][max(covered - start, 0) :])
                covered = end
        docs.append(index_text(metas[positions[0]].get("title"), " ".join(parts)))
        members.append(positions)
    return docs, members


def build_snapshot(
    generation: str,
    ids: list[str],
    texts: list[str],
    metas: list[dict[str, Any]],
    vectors: np.ndarray | None = None,
) -> Bm25Snapshot:
    retriever = article_retriever = None
    article_chunks: list[list[int]] = []
    doc_freq: Counter[str] = Counter()
    if ids:
        tokens = tokenize([index_text(m.get("title"), t) for t, m in zip(texts, metas, strict=True)])
        for doc in tokens:
            doc_freq.update(set(doc))
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        article_docs, article_chunks = _article_texts(texts, metas)
        article_retriever = bm25s.BM25()
        article_retriever.index(tokenize(article_docs), show_progress=False)
    return Bm25Snapshot(
        generation=generation,
        ids=ids,
        texts=texts,
        metas=metas,
        published_ts=np.array([int(m.get("published_ts", -1)) for m in metas], dtype=np.int64),
        source_keys=np.array([source_key(m.get("source")) for m in metas], dtype=object),
        retriever=retriever,
        doc_freq=dict(doc_freq),
        article_retriever=article_retriever,
        article_chunks=article_chunks,
        vectors=vectors,
    )


def _scores(retriever: bm25s.BM25 | None, query: str, n: int) -> np.ndarray:
    if retriever is None:
        return np.zeros(n, dtype=np.float32)
    tokens = [t for t in tokenize([query])[0] if t in retriever.vocab_dict]
    if not tokens:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(retriever.get_scores(tokens))


class Bm25Index:
    """Keeps a BM25 snapshot in step with the store; thread-safe for concurrent searches."""

    def __init__(self, store: ChromaStore, cache_dir: Path, name: str, max_vector_chunks: int = 200_000) -> None:
        self._store = store
        self._max_vector_chunks = max_vector_chunks
        self._path = cache_dir / f"bm25-{name}-v{_FORMAT}.pkl"
        self._lock = threading.Lock()
        self._snapshot: Bm25Snapshot | None = None

    def current(self) -> Bm25Snapshot:
        """The snapshot for the store as it is now, rebuilt or reloaded if another process wrote."""
        generation = self._store.generation()
        snap = self._snapshot
        if snap is not None and snap.generation == generation:
            return snap
        with self._lock:
            if self._snapshot is not None and self._snapshot.generation == generation:
                return self._snapshot
            snap = self._load(generation)
            if snap is None:
                keep = 0 < self._store.counts()["chunks"] <= self._max_vector_chunks
                ids, texts, metas, vectors = self._store.all_chunks(with_vectors=keep)
                snap = build_snapshot(generation, ids, texts, metas, vectors if keep else None)
                self._save(snap)
            self._snapshot = snap
            return snap

    def scores(self, snap: Bm25Snapshot, query: str) -> np.ndarray:
        """BM25 score of every chunk in the snapshot for ``query`` (zeros when nothing matches)."""
        return _scores(snap.retriever, query, len(snap.ids))

    def article_scores(self, snap: Bm25Snapshot, query: str) -> np.ndarray:
        """BM25 score of every whole article (order of ``snap.article_chunks``)."""
        return _scores(snap.article_retriever, query, len(snap.article_chunks))

    def idf(self, token: str) -> float:
        """Inverse document frequency of a (stemmed) token over the chunks of the latest snapshot."""
        snap = self._snapshot
        if snap is None:
            return 1.0
        df = max(snap.doc_freq.get(token, 0), 1)  # unseen terms are no rarer than a term seen once
        return math.log(1.0 + (len(snap.ids) - df + 0.5) / (df + 0.5))

    def _load(self, generation: str) -> Bm25Snapshot | None:
        try:
            with self._path.open("rb") as fh:
                snap = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            return None
        return snap if isinstance(snap, Bm25Snapshot) and snap.generation == generation else None

    def _save(self, snap: Bm25Snapshot) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(snap, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path)  # atomic: concurrent readers see the old or the new file
        except OSError as exc:  # a read-only cache dir costs start-up time, not correctness
            log.warning("could not persist the BM25 cache at %s: %s", self._path, exc)
