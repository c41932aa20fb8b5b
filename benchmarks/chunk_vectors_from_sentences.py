"""Can a chunk's vector be the mean of its sentences' vectors (so ingest embeds each sentence once)?

On the realistic store (sample + RealTime QA corpus), for the 206 RealTime QA questions asked as of their
date, retrieval of the gold article is measured twice with the same code: with the stored chunk vectors
(the chunk embedded as one text) and with each chunk's vector replaced by the normalised mean of the
vectors of the sentences it holds (``rag/answer/sentence_index``). Dense-only and hybrid (dense + BM25)
figures are printed: MRR@10 and Hits@1/5 over distinct articles (``evals.metrics``).

Measured 2026-12-01 (925 articles, 9874 chunks; sentence vectors from the static embedder of
``rag/answer/static_vectors.py``, centred; queries still embedded by MiniLM):
    dense   chunk vectors     MRR@10 0.739  Hits@1 0.617  Hits@5 0.893
    dense   mean of sentences MRR@10 0.743  Hits@1 0.646  Hits@5 0.869
    hybrid  chunk vectors     MRR@10 0.767  Hits@1 0.650  Hits@5 0.922
    hybrid  mean of sentences MRR@10 0.757  Hits@1 0.636  Hits@5 0.927
So retrieval stays within ~1 point either way; ingest could embed sentences only (not yet done).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.answer_quality import DEFAULT_STORE, SHARED, item_filters, open_engine
from evals.metrics import hits_at_k, mean, mrr_at_k
from evals.sets import realtimeqa_items

ROOT = Path(__file__).resolve().parent.parent


def derived_vectors(engine, snap) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = np.array(snap.vectors, copy=True)
    missing = 0
    for i, meta in enumerate(snap.metas):
        sents = engine.sentences.get(meta["article_id"])
        s, e = int(meta["start"]), int(meta["end"])
        inside = [] if sents is None else [j for j in range(len(sents)) if sents.starts[j] < e and sents.ends[j] > s]
        if not inside:
            missing += 1
            continue
        v = sents.vectors[inside].mean(axis=0)
        out[i] = v / (np.linalg.norm(v) or 1.0)
    print(f"{len(out)} chunks, {missing} kept their own vector (no sentence found)", file=sys.stderr)
    return out


def measure(engine, items, signals) -> dict[str, float]:  # type: ignore[no-untyped-def]
    mrr, h1, h5 = [], [], []
    for item in items:
        ids = [
            p.article_id
            for p in engine.retriever.search(item.question, k=30, filters=item_filters(item), signals=signals)
        ]
        gold = item.gold_ids()
        mrr.append(mrr_at_k(ids, gold, 10))
        h1.append(hits_at_k(ids, gold, 1))
        h5.append(hits_at_k(ids, gold, 5))
    return {"mrr@10": mean(mrr) or 0.0, "hits@1": mean(h1) or 0.0, "hits@5": mean(h5) or 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    args = parser.parse_args()
    engine = open_engine(args.store)
    snap = engine.bm25.current()
    if snap.vectors is None:
        sys.exit("the store keeps chunk vectors in Chroma only (too large for memory): nothing to compare")
    items = realtimeqa_items(SHARED)
    stored = snap.vectors
    derived = derived_vectors(engine, snap)
    for name, signals in (("dense", ("dense",)), ("hybrid", ("dense", "bm25"))):
        snap.vectors = stored
        a = measure(engine, items, signals)
        snap.vectors = derived
        b = measure(engine, items, signals)
        snap.vectors = stored
        print(f"{name:7s} chunk vectors:    " + "  ".join(f"{k} {v:.3f}" for k, v in a.items()))
        print(f"{name:7s} mean of sentences: " + "  ".join(f"{k} {v:.3f}" for k, v in b.items()))


if __name__ == "__main__":
    main()
