"""Calibrate ``NEWSQA_WATCH_THRESHOLD``: how a watch's score separates a question's gold article from unrelated ones.

On the realistic store (sample + RealTime QA), each RealTime QA question is taken as a watch query and every
indexed article is scored as :mod:`ingest.watches.matcher` scores a new story (best chunk cosine + 0.2 x
query-word coverage). Positives: the question's gold articles. Negatives: articles published more than 30 days
from the gold one (unrelated in all but a handful of running stories, so the false-match rate is an upper bound).
Then a set of short topic watches (an entity, an event) prints how many articles each matches and which.

    python -m benchmarks.watch_threshold [--store DIR]
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from benchmarks._common import add_store_argument, realtimeqa_engine, realtimeqa_questions
from ingest.watches.matcher import LEXICAL_WEIGHT, query_stems
from rag.text.tokens import tokenize

TOPICS = ["Supermicro", "Itaewon crowd crush", "Elon Musk Twitter", "hurricane Ian", "Federal Reserve interest rates",
          "Queen Elizabeth funeral", "monkeypox", "Artemis moon rocket"]  # fmt: skip
THRESHOLDS = (0.50, 0.55, 0.60, 0.65, 0.70)
FAR_DAYS = 30


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_store_argument(parser)
    args = parser.parse_args()
    engine = realtimeqa_engine(args.store)
    _, docs, metas, vectors = engine.store.all_chunks(with_vectors=True)
    articles = {a.id: a for a, n in engine.store.list_articles() if n}
    ids = list(articles)
    position = {a: i for i, a in enumerate(ids)}
    owner = np.array([position.get(m["article_id"], -1) for m in metas])
    texts: dict[str, list[str]] = defaultdict(list)
    for doc, meta in zip(docs, metas, strict=True):
        texts[meta["article_id"]].append(doc)
    stems = [frozenset(tokenize([f"{articles[a].title or ''}\n" + "\n".join(texts[a])])[0]) for a in ids]

    def scores(query: str) -> np.ndarray:
        sims = vectors @ engine.embedder.embed([query])[0]
        best = np.full(len(ids), -1.0)
        np.maximum.at(best, owner[owner >= 0], sims[owner >= 0])
        words = query_stems(query)
        coverage = np.array([len(words & s) / len(words) if words else 0.0 for s in stems])
        return best + LEXICAL_WEIGHT * coverage

    positives: list[float] = []
    negatives: list[float] = []
    for q in realtimeqa_questions(engine):
        gold = [g for g in q.gold_ids if g in position]
        if not gold:
            continue
        s = scores(q.text)
        when = articles[gold[0]].published
        positives += [float(s[position[g]]) for g in gold]
        for i, a in enumerate(ids):
            p = articles[a].published
            if a not in gold and p and when and abs((p - when).days) > FAR_DAYS:
                negatives.append(float(s[i]))
    pos, neg = np.array(positives), np.array(negatives)
    print(f"{len(pos)} gold (question, article) pairs, {len(neg)} far-apart pairs")
    print("threshold  gold passing  unrelated passing")
    for t in THRESHOLDS:
        print(f"{t:9.2f}  {np.mean(pos >= t):12.3f}  {np.mean(neg >= t):17.4f}")
    threshold = engine.settings.watch_threshold
    for topic in TOPICS:
        s = scores(topic)
        order = [i for i in np.argsort(-s) if s[i] >= threshold]
        print(f"\n{topic!r}: {len(order)} article(s) at {threshold}")
        for i in order[:5]:
            print(f"  {s[i]:.3f}  {(articles[ids[i]].title or '(untitled)')[:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
