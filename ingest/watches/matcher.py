"""Which newly stored stories match which watch, and how well: a score against a calibrated threshold.

``score = dense + LEXICAL_WEIGHT * coverage``, where ``dense`` is the best cosine similarity between the watch
query's vector and the article's chunk vectors (the vectors already in Chroma: nothing is re-embedded), and
``coverage`` is the share of the query's content words (stemmed, stop and question words dropped) found in the
article's title and text. Dense similarity alone misses short entity watches (``Supermicro`` scores 0.47
against the article that is all about it: a one-word query sits far from any paragraph in MiniLM's space),
while word overlap alone matches long queries too loosely; the sum is calibrated in ``benchmarks/watch_threshold.py``
(measured numbers in docs/watches.md and on ``NEWSQA_WATCH_THRESHOLD``).

A syndicated copy (a chunkless record with ``story_id``) stands for its story: the story's indexed article is
scored, and a story appears once however many of its copies arrived. Source and date filters apply to the
story (any of its outlets may satisfy ``sources``).

Cost: three Chroma reads for all the stories of an ingest, and each watch query embedded once per process; 20
new articles against 24 watches take 0.16 s on the realistic store (1.1 s the first time, embedding the queries).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.watches.store import Watch
from rag.store import ChromaStore
from rag.store.schema import ARTICLE_ID, article_from
from rag.text.ids import source_key
from rag.text.lexicon import QUESTION_STEMS
from rag.text.tokens import tokenize
from rag.types import Article

log = logging.getLogger(__name__)
LEXICAL_WEIGHT = 0.2  # coverage 1.0 adds 0.2: a one-word entity watch passes on (nearly) any on-topic article


@dataclass
class Story:
    """A stored story as the matcher sees it: its indexed article, chunk vectors, words and outlets."""

    story_id: str
    article: Article
    vectors: np.ndarray
    stems: frozenset[str]
    source_keys: frozenset[str]


@dataclass
class Hit:
    story_id: str
    article_id: str
    score: float


def query_stems(query: str) -> frozenset[str]:
    return frozenset(tokenize([query])[0]) - QUESTION_STEMS


def score(query_vector: np.ndarray, stems: frozenset[str], story: Story) -> float:
    """``dense + LEXICAL_WEIGHT * coverage`` (see the module docstring)."""
    dense = float(np.max(story.vectors @ query_vector)) if len(story.vectors) else 0.0
    coverage = len(stems & story.stems) / len(stems) if stems else 0.0
    return dense + LEXICAL_WEIGHT * coverage


def passes_filters(watch: Watch, story: Story) -> bool:
    published = story.article.published
    if watch.since and (published is None or published < watch.since):
        return False
    if watch.until and published is not None and published > watch.until:
        return False
    return not watch.sources or bool({source_key(s) for s in watch.sources} & story.source_keys)


class Matcher:
    """Scores new stories against watches. ``embed`` turns query texts into unit vectors (the engine's embedder)."""

    def __init__(self, store: ChromaStore, embed: Callable[[list[str]], np.ndarray], threshold: float) -> None:
        self.store = store
        self.embed = embed
        self.threshold = threshold
        self._vectors: dict[str, np.ndarray] = {}

    def stories(self, article_ids: Iterable[str]) -> list[Story]:
        """The distinct stories the given (new, updated or copied) articles belong to (three Chroma reads in all)."""
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return []
        got = self.store.articles.get(ids=ids, include=["metadatas"])
        story_ids = list(dict.fromkeys(str(m.get("story_id") or m[ARTICLE_ID]) for m in got["metadatas"] or []))
        if not story_ids:
            return []
        records = self.store.articles.get(ids=story_ids, include=["metadatas", "documents"])
        where: dict[str, Any] = {ARTICLE_ID: {"$in": story_ids}}
        chunks = self.store.chunks.get(where=where, include=["metadatas", "embeddings"])
        vectors: dict[str, list[np.ndarray]] = {}
        embeddings = chunks["embeddings"] if chunks["ids"] and chunks["embeddings"] is not None else []
        for meta, vector in zip(chunks["metadatas"] or [], embeddings, strict=True):
            vectors.setdefault(str(meta[ARTICLE_ID]), []).append(np.asarray(vector, dtype=np.float32))
        out = []
        for meta, text in zip(records["metadatas"] or [], records["documents"] or [], strict=True):
            article = article_from(dict(meta), text)
            stems = frozenset(tokenize([f"{article.title or ''}\n{article.text}"])[0])
            keys = {source_key(article.source), *(source_key(c.source) for c in article.also_in)}
            matrix = np.stack(vectors[article.id]) if article.id in vectors else np.zeros((0, 1), dtype=np.float32)
            out.append(Story(article.id, article, matrix, stems, frozenset(keys)))
        return out

    def match(self, watches: list[Watch], article_ids: Iterable[str]) -> dict[str, list[Hit]]:
        """Watch id -> the stories among ``article_ids`` scoring at or above the threshold, best first."""
        if not watches:
            return {}
        stories = self.stories(article_ids)
        if not stories:
            return {}
        missing = [q for q in dict.fromkeys(w.query for w in watches) if q not in self._vectors]
        if missing:  # a watch's query is embedded once per process
            self._vectors.update(zip(missing, self.embed(missing), strict=True))
        vectors = [self._vectors[w.query] for w in watches]
        out: dict[str, list[Hit]] = {}
        for watch, vector in zip(watches, vectors, strict=True):
            stems = query_stems(watch.query)
            hits = [
                Hit(s.story_id, s.article.id, round(score(vector, stems, s), 4))
                for s in stories
                if passes_filters(watch, s)
            ]
            kept = sorted((h for h in hits if h.score >= self.threshold), key=lambda h: -h.score)
            log.debug("watch %s: %d of %d stories match", watch.id, len(kept), len(hits))
            if kept:
                out[watch.id] = kept
        return out
