"""A question answered over one watch's delivered stories only (a reply in a Slack digest's thread).

Retrieval is exact and local: the chunks of those articles (read from Chroma with their vectors) ranked by
cosine similarity to the question, so a story the global top-k would drown out still counts. The answerer
and the citation rules are the engine's own: every quote is still a verbatim slice of its article.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from rag.engine import Answered, QueryEngine
from rag.store import passage_from
from rag.store.schema import ARTICLE_ID


def answer_over(engine: QueryEngine, question: str, article_ids: list[str], top_k: int | None = None) -> Answered:
    """Answer ``question`` from the chunks of ``article_ids`` (none: the answerer abstains, as with no hits)."""
    as_of, _ = engine._dated(None)
    t0 = time.perf_counter()
    passages = []
    if article_ids:
        where: dict[str, Any] = {ARTICLE_ID: {"$in": list(dict.fromkeys(article_ids))}}
        got = engine.store.chunks.get(where=where, include=["documents", "metadatas", "embeddings"])
        if got["ids"]:
            vector = engine.embedder.embed([question])[0]
            sims = np.asarray(got["embeddings"], dtype=np.float32) @ vector
            for i in np.argsort(-sims)[: top_k or engine.settings.top_k]:
                p = passage_from(got["ids"][i], (got["documents"] or [])[i], dict((got["metadatas"] or [])[i]))
                p.dense = p.fused = p.score = float(sims[i])
                passages.append(p)
    t1 = time.perf_counter()
    answer = engine.answerer.answer(question, passages, as_of=as_of)
    return Answered(engine._finish(answer, passages, as_of, t0, t1), passages)
