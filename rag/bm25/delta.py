"""What a search reads: the base snapshot, plus the chunks written since (the delta), minus those deleted since.

Why: rebuilding the whole snapshot after every write cost 6.2 s at 9,874 chunks on the query path, linear
in size. A delta costs work proportional to the write: the chunks a write touched are read back from Chroma
(by ``written_ns``), tokenised, and scored with the *base's* BM25 statistics (document frequencies, number of
documents, mean length) by the same formula bm25s uses (``lucene``: idf = ln(1 + (N - df + 0.5)/(df + 0.5)),
tf / (tf + k1 (1 - b + b dl/avgdl))), so a delta chunk scores exactly as it would as a base chunk of an index
with those statistics, and base and delta scores rank together. A term the base never saw gets the idf of
df = 0, so a brand-new name ranks its new article first. Chunks rewritten since the base (an article
re-ingested, its other outlets updated) replace the base's chunks of that article; deleted chunks are
tombstones, masked out at query time.

The statistics drift as the delta grows (at 1,000 delta chunks over 9,874 base chunks the idf of a term is
off by under 0.1 in ln units), so ``rag.bm25.live`` folds the delta into a new base in the background once it
passes a size threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import bm25s
import numpy as np

from rag.bm25.ondisk import Chained, Picked
from rag.bm25.snapshot import Bm25Snapshot, _article_texts, _published, _source_keys, index_text, scores
from rag.store import WRITTEN_NS
from rag.text.tokens import tokenize

K1, B = 1.5, 0.75  # bm25s's defaults, which the base snapshot is built with


class TermStats:
    """A BM25 index's statistics: each term's document frequency, the number of documents, their mean length."""

    def __init__(self, retriever: bm25s.BM25 | None, avgdl: float) -> None:
        self.avgdl = avgdl
        self._vocab: dict[str, int] = retriever.vocab_dict if retriever is not None else {}
        self._indptr = np.asarray(retriever.scores["indptr"]) if retriever is not None else np.zeros(1, np.int64)
        self.n = int(retriever.scores["num_docs"]) if retriever is not None else 0

    def df(self, token: str) -> int:
        i = self._vocab.get(token)  # CSC columns are terms: a column's entry count is the term's df
        return int(self._indptr[i + 1] - self._indptr[i]) if i is not None and i + 1 < len(self._indptr) else 0

    def idf(self, token: str) -> float:
        df = self.df(token)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))


class DeltaScorer:
    """BM25 over a few documents with another index's statistics (``TermStats``)."""

    def __init__(self, docs: list[list[str]], stats: TermStats) -> None:
        self.stats = stats
        self.n = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avgdl = stats.avgdl if stats.avgdl > 0 else float(lengths.mean()) if self.n else 1.0
        self._norm = K1 * (1.0 - B + B * lengths / max(avgdl, 1e-9))
        postings: dict[str, dict[int, int]] = {}
        for i, doc in enumerate(docs):
            for token in doc:
                row = postings.setdefault(token, {})
                row[i] = row.get(i, 0) + 1
        self._postings = {
            t: (np.fromiter(row.keys(), dtype=np.int64), np.fromiter(row.values(), dtype=np.float32))
            for t, row in postings.items()
        }

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """Score of each document; a repeated query term counts each time, as in bm25s."""
        out = np.zeros(self.n, dtype=np.float32)
        for token in query_tokens:
            hit = self._postings.get(token)
            if hit is not None:
                docs, tf = hit
                out[docs] += self.stats.idf(token) * tf / (self._norm[docs] + tf)
        return out


@dataclass(frozen=True)
class DeltaChunk:
    """A chunk written since the base: as read back from Chroma, with its tokens and (optionally) vector."""

    id: str
    text: str
    meta: dict[str, Any]
    tokens: list[str]
    vector: np.ndarray | None

    @property
    def article_id(self) -> str:
        return str(self.meta["article_id"])

    @property
    def written_ns(self) -> int:
        return int(self.meta.get(WRITTEN_NS, 0))


def delta_chunks(
    ids: list[str],
    texts: list[str],
    metas: list[dict[str, Any]],
    vectors: np.ndarray | None,
    known: dict[str, DeltaChunk] | None = None,
) -> list[DeltaChunk]:
    """Chunks read back from Chroma; the tokens of a chunk ``known`` with the same title and text are reused."""
    known = known or {}
    docs = [index_text(m.get("title"), t) for t, m in zip(texts, metas, strict=True)]
    same = [
        cid in known and index_text(known[cid].meta.get("title"), known[cid].text) == doc
        for cid, doc in zip(ids, docs, strict=True)
    ]
    todo = [d for d, s in zip(docs, same, strict=True) if not s]
    fresh = iter(tokenize(todo))
    tokens = [known[cid].tokens if s else next(fresh) for cid, s in zip(ids, same, strict=True)]
    rows = list(vectors) if vectors is not None and len(vectors) == len(ids) else [None] * len(ids)
    return [DeltaChunk(*fields) for fields in zip(ids, texts, metas, tokens, rows, strict=True)]


class View:
    """Base + delta - tombstones, as flat rows: base rows first (row i = base chunk i), then the delta's.

    Immutable: a catch-up makes a new one (``changed``), so a search holds one consistent view throughout."""

    def __init__(
        self,
        generation: str,
        base: Bm25Snapshot,
        delta: dict[str, DeltaChunk] | None = None,
        dead: frozenset[str] = frozenset(),
    ) -> None:
        self.generation = generation
        self.base = base
        self.delta = delta or {}  # chunk id -> chunk, grouped by article in insertion order
        self.dead = dead  # base chunk ids deleted since the base (not counting replaced articles)
        nb, chunks = len(base.ids), list(self.delta.values())
        self.row_ids = base.ids + [c.id for c in chunks]
        self.row_texts = Chained(base.texts, [c.text for c in chunks])  # the base's read from disk when used
        self.row_metas = Chained(base.metas, [c.meta for c in chunks])
        self.published_ts = np.concatenate([base.published_ts, _published([c.meta for c in chunks])])
        self.published = base.columns.published + [str(c.meta.get("published") or "") for c in chunks]
        self.source_keys = np.concatenate([base.source_keys, _source_keys([c.meta for c in chunks])])
        self._delta_row = {c.id: nb + i for i, c in enumerate(chunks)}
        alive = np.ones(nb + len(chunks), dtype=bool)
        replaced = {c.article_id for c in chunks}
        for aid in replaced:  # an article rewritten since the base: its base chunks are gone or superseded
            j = base.article_index.get(aid)
            if j is not None:
                alive[base.article_chunks[j]] = False
        for cid in dead:
            pos = base.position.get(cid)
            if pos is not None:
                alive[pos] = False
        self.alive = alive
        # Whole articles: the base's (alive while any chunk is), then the delta's, stitched from their chunks.
        delta_texts, groups = _article_texts([c.text for c in chunks], [c.meta for c in chunks])
        self.article_rows = base.article_chunks + [[nb + i for i in g] for g in groups]
        base_articles = np.bincount(base.chunk_article[alive[:nb]], minlength=len(base.article_chunks)) > 0
        self.article_alive = np.concatenate([base_articles, np.ones(len(groups), dtype=bool)])
        self._article_order = np.array([i for rows in self.article_rows for i in rows], dtype=np.int64)
        self._article_starts = np.cumsum([0] + [len(rows) for rows in self.article_rows[:-1]], dtype=np.int64)
        self._chunk_delta = DeltaScorer([c.tokens for c in chunks], TermStats(base.retriever, base.chunk_avgdl))
        stats = TermStats(base.article_retriever, base.article_avgdl)
        self._article_delta = DeltaScorer(tokenize(delta_texts), stats)
        # Delta vectors: a chunk read without its vector (another process's write, before this process reopened
        # Chroma off the query path) has no dense score until the worker reads it (``missing_vectors``).
        self._delta_has = np.array([c.vector is not None for c in chunks], dtype=bool)
        dim = base.vectors.shape[1] if base.vectors is not None and base.vectors.ndim == 2 else 0
        dim = dim or next((len(c.vector) for c in chunks if c.vector is not None), 0)
        self._delta_vectors = np.zeros((len(chunks), dim), dtype=np.float32)
        for i, c in enumerate(chunks):
            if c.vector is not None:
                self._delta_vectors[i] = c.vector

    # ---- what search reads --------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.row_ids)

    def locate(self, chunk_id: str) -> int | None:
        """The live row of ``chunk_id`` (None: not in this view, or deleted)."""
        row = self._delta_row.get(chunk_id)
        if row is None:
            row = self.base.position.get(chunk_id)
        return row if row is not None and self.alive[row] else None

    def written(self, chunk_id: str) -> int | None:
        """The ``written_ns`` of the live row of ``chunk_id`` (None when this view does not hold it)."""
        row = self.locate(chunk_id)
        return None if row is None else int(self.row_metas[row].get(WRITTEN_NS, 0))

    def chunk_scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query`` (0 for deleted rows)."""
        tokens = tokenize([query])[0]
        base = scores(self.base.retriever, query, len(self.base.ids))
        return np.where(self.alive, np.concatenate([base, self._chunk_delta.scores(tokens)]), 0.0)

    def article_scores(self, query: str) -> np.ndarray:
        """BM25 score of every whole article (order of ``article_rows``; 0 for deleted articles)."""
        tokens = tokenize([query])[0]
        base = scores(self.base.article_retriever, query, len(self.base.article_chunks))
        return np.where(self.article_alive, np.concatenate([base, self._article_delta.scores(tokens)]), 0.0)

    def articles_any(self, row_mask: np.ndarray) -> np.ndarray:
        """Per article (order of ``article_rows``): whether any of its rows is set in ``row_mask``."""
        if not self.article_rows:
            return np.zeros(0, dtype=bool)
        return np.logical_or.reduceat(row_mask[self._article_order], self._article_starts)

    def dense_scores(self, vector: np.ndarray) -> np.ndarray | None:
        """Cosine similarity of every row to ``vector`` (-inf: no vector yet); None when the base holds no vectors
        (large stores: Chroma searches)."""
        base = self.base.vectors
        if base is None or len(base) != len(self.base.ids):
            return None
        parts = [base @ vector] if len(base) else []
        if len(self.delta):
            sims = self._delta_vectors @ vector if self._delta_vectors.shape[1] else np.zeros(len(self.delta))
            parts.append(np.where(self._delta_has, sims, -np.inf))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    @property
    def missing_vectors(self) -> list[str]:
        """Delta chunks read without their vector while the base holds vectors (the worker reads them)."""
        if self.base.vectors is None:
            return []
        return [c.id for c, has in zip(self.delta.values(), self._delta_has, strict=True) if not has]

    # ---- the live chunks, for callers that read the snapshot as lists ----------------------------------
    @cached_property
    def _live(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.alive)]

    @cached_property
    def ids(self) -> list[str]:
        return [self.row_ids[i] for i in self._live]

    @property
    def texts(self) -> Sequence[str]:
        return Picked(self.row_texts, self._live)

    @property
    def metas(self) -> Sequence[dict[str, Any]]:
        return Picked(self.row_metas, self._live)

    def article_rows_of(self, article_ids: Iterable[str]) -> list[int]:
        """The live rows of these articles, in row order (without reading every chunk's metadata)."""
        wanted = set(article_ids)
        rows = [
            r
            for aid in wanted
            if (j := self.base.article_index.get(aid)) is not None
            for r in self.base.article_chunks[j]
        ]
        rows += [row for cid, row in self._delta_row.items() if self.delta[cid].article_id in wanted]
        return sorted(r for r in rows if self.alive[r])

    @property
    def vectors(self) -> np.ndarray | None:
        """The base's chunk vectors (row i = base chunk i); settable, for benchmarks that swap them."""
        return self.base.vectors

    @vectors.setter
    def vectors(self, value: np.ndarray | None) -> None:
        self.base.vectors = value

    @property
    def doc_freq(self) -> dict[str, int]:
        return self.base.doc_freq

    @property
    def watermark(self) -> int:
        """The newest ``written_ns`` this view holds: a catch-up reads what was written from (about) here."""
        return max([self.base.watermark, *(c.written_ns for c in self.delta.values())])

    # ---- catch-up --------------------------------------------------------------------------------------
    def changed(
        self, generation: str, written: Iterable[DeltaChunk], gone: Iterable[str] = (), newest_only: bool = True
    ) -> View:
        """A new view at ``generation``: ``written`` (every current chunk of each article they belong to, as
        Chroma holds it now) replaces what this view holds of those articles; ``gone`` chunk ids are deleted.

        ``newest_only``: of an article's chunks keep those of its latest write (a reader between a rewrite's
        upsert and its clean-up also sees the old version's extra chunks)."""
        delta = dict(self.delta)
        fresh: dict[str, list[DeltaChunk]] = {}
        for chunk in written:
            fresh.setdefault(chunk.article_id, []).append(chunk)
        for aid, chunks in fresh.items():
            for old in [cid for cid, c in delta.items() if c.article_id == aid]:
                del delta[old]
            newest = max(c.written_ns for c in chunks) if newest_only else 0
            delta.update((c.id, c) for c in chunks if c.written_ns >= newest)
        dead = set(self.dead)
        for cid in gone:
            delta.pop(cid, None)
            if cid in self.base.position:
                dead.add(cid)
        return View(generation, self.base, delta, frozenset(dead))
