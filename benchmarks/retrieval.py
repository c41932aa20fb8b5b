"""Retrieval quality on RealTime QA: Hits@1/5/10 and MRR@10 of the gold article, per retrieval mode.

Each RealTime QA question is searched; results are ranked articles (best passage each); gold ids are
resolved as ``newsqa eval`` resolves them. Modes: dense only, BM25 only, hybrid (RRF), all without recency
and with no date filter; then hybrid with recency: as of the question's date (later articles excluded)
with the recency prior. Prints the Markdown table of docs/measurements.md.

    python -m benchmarks.retrieval [--half-life DAYS] [--weight W] [--store DIR]
"""

from __future__ import annotations

import argparse

from benchmarks._common import Question, add_store_argument, realtimeqa_engine, realtimeqa_questions
from rag.retrieve import Retriever
from rag.types import Filters, Passage


def is_gold(passage: Passage, gold_ids: set[str]) -> bool:
    """The passage's article is gold, or is the story a gold syndicated copy was grouped into."""
    return passage.article_id in gold_ids or any(o.article_id in gold_ids for o in passage.also_in)


def evaluate(
    retriever: Retriever, questions: list[Question], signals: tuple[str, ...], recency: bool
) -> dict[str, float]:
    hits = {1: 0, 5: 0, 10: 0}
    mrr = 0.0
    for q in questions:
        filters = Filters(as_of=q.as_of) if recency else None
        ranked = retriever.search(q.text, k=10, filters=filters, group_by_article=True, signals=signals)
        rank = next((i for i, p in enumerate(ranked, start=1) if is_gold(p, q.gold_ids)), None)
        if rank:
            mrr += 1 / rank
            for k in hits:
                hits[k] += rank <= k
    n = len(questions)
    return {"hits@1": hits[1] / n, "hits@5": hits[5] / n, "hits@10": hits[10] / n, "mrr@10": mrr / n}


def row(name: str, m: dict[str, float]) -> None:
    """One row of the Markdown table docs/measurements.md holds."""
    print(f"| {name} | {m['hits@1']:.3f} | {m['hits@5']:.3f} | {m['hits@10']:.3f} | {m['mrr@10']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--half-life", type=float, default=None, help="recency half-life in days")
    parser.add_argument("--weight", type=float, default=None, help="recency weight")
    add_store_argument(parser)
    args = parser.parse_args()
    overrides = {}
    if args.half_life is not None:
        overrides["recency_half_life_days"] = args.half_life
    if args.weight is not None:
        overrides["recency_weight"] = args.weight
    engine = realtimeqa_engine(args.store, **overrides)
    questions = realtimeqa_questions(engine)
    print(f"RealTime QA retrieval, n={len(questions)} questions, {engine.store.counts()}\n")
    print("| retrieval (article ranking) | Hits@1 | Hits@5 | Hits@10 | MRR@10 |\n|---|---|---|---|---|")
    weight = engine.settings.recency_weight
    no_recency = Retriever(
        engine.store, engine.query_embedder, engine.bm25, engine.settings.model_copy(update={"recency_weight": 0.0})
    )
    rows = [
        ("dense only", ("dense",), False),
        ("BM25 only", ("bm25",), False),
        ("hybrid (RRF)", ("dense", "bm25"), False),
    ]
    for name, signals, recency in rows:
        row(name, evaluate(no_recency, questions, signals, recency))
    label = f"hybrid + recency (as of the question date, half-life {engine.settings.recency_half_life_days:g} d, "
    row(label + f"weight {weight:g})", evaluate(engine.retriever, questions, ("dense", "bm25"), True))


if __name__ == "__main__":
    main()
