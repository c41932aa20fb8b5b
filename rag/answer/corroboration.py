"""Corroboration: a sentence that other outlets also report is more likely the news a question asks about.

A question about the week's news asks for what the story is about, and what a story is about gets reported by
several outlets in their own words; a sentence only one article has is more often its background, colour or a
side remark ("Musk even appeared publicly with Supermicro's CEO"). For each of the hand-weighted ranking's best
sentences, the signal is its highest similarity to any sentence of another retrieved article (the static
sentence vectors the answerer already holds, so no transformer pass), and that adds to its score.

Measured held-out on the sample + RealTime QA store (fold models of session 6; dev / test = the questions split
in two halves by story): RealTime QA correct 0.612 -> 0.626 (dev +2 / test +1; 4 gained, 1 lost), sample
answerable 0.958 -> 1.0, two-part 0.80 -> 0.85; the same figures for weights 0.3-0.5, looking at the top 5-20
sentences, and copy thresholds 0.9-0.99. The mean or the second-best article's similarity, or counting the
articles above a similarity, did worse (docs/measurements.md, session 8).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rag.answer.extractive import Candidate
from rag.answer.sentence_index import ArticleSentences, TextEmbedder

CORROBORATION_WEIGHT = 0.3  # added to a hand-weighted score (which lies in [0, 1]) times the similarity
CORROBORATION_REACH = 10  # how many of the best sentences are re-scored (the rest cannot overtake them)
SAME_TEXT = 0.95  # at or above this similarity the other sentence is a copy of this one, not another report


def corroboration(
    ranked: list[Candidate], sentences_of: Callable[[str], ArticleSentences | None], embedder: TextEmbedder
) -> list[float]:
    """For each of the first ``CORROBORATION_REACH`` sentences of ``ranked``: its highest cosine similarity to a
    sentence of another article among the ranking's articles (0.0 when there is none)."""
    top = ranked[:CORROBORATION_REACH]
    if not top:
        return []
    articles: dict[str, np.ndarray] = {}
    for c in ranked:
        aid = c.passage.article_id
        if aid not in articles:
            sents = sentences_of(aid)
            articles[aid] = sents.vectors if sents is not None and len(sents.texts) else np.zeros((0, 1))
    vectors = embedder.embed([c.text for c in top])
    out = []
    for c, vector in zip(top, vectors, strict=True):
        best = 0.0
        for aid, others in articles.items():
            if aid == c.passage.article_id or not len(others) or others.shape[1] != len(vector):
                continue
            sims = others @ vector
            sims = sims[sims < SAME_TEXT]
            if len(sims):
                best = max(best, float(sims.max()))
        out.append(best)
    return out


def corroborated(
    ranked: list[Candidate], sentences_of: Callable[[str], ArticleSentences | None], embedder: TextEmbedder
) -> list[Candidate]:
    """``ranked`` with each of its first ``CORROBORATION_REACH`` sentences' score raised by
    ``CORROBORATION_WEIGHT`` times its :func:`corroboration`, and those re-sorted (stable: ties keep their order)."""
    top = ranked[:CORROBORATION_REACH]
    for c, support in zip(top, corroboration(ranked, sentences_of, embedder), strict=True):
        c.score += CORROBORATION_WEIGHT * support
    return sorted(top, key=lambda c: c.score, reverse=True) + ranked[CORROBORATION_REACH:]
