"""Extractive answers on RealTime QA, and abstention both ways.

Answerable: each question asked as of its question date (no choices shown); correct by the eval's
multiple-choice rule (``evals.metrics.choice_correct``: the answer names the correct choice and no other,
as a whole phrase, case and quote style ignored), so this prints what ``newsqa eval realtimeqa`` reports.
Unanswerable: evals/data/realtimeqa_unanswerable.jsonl (same topics, answers not in the corpus). Prints
accuracy, abstention rates, and the rates over a sweep of abstention thresholds (for calibration).

    python -m benchmarks.answers [--limit N] [--store DIR]
"""

from __future__ import annotations

import argparse
from datetime import datetime

from benchmarks._common import add_store_argument, realtimeqa_engine, realtimeqa_questions
from evals import metrics as m
from evals.sets import DATA, load_jsonl
from rag.answer.extractive import ExtractiveAnswerer
from rag.text.dates import parse_date
from rag.types import Answer, Filters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None)
    add_store_argument(parser)
    args = parser.parse_args()
    engine = realtimeqa_engine(args.store)
    answerer = engine.answerer
    if not isinstance(answerer, ExtractiveAnswerer):
        raise SystemExit("error: benchmarks.answers calibrates the extractive answerer; unset NEWSQA_LLM")
    questions = realtimeqa_questions(engine)[: args.limit]
    unanswerable = load_jsonl(DATA / "realtimeqa_unanswerable.jsonl")

    def features(question: str, as_of: datetime | None) -> tuple[float, tuple[float, float], Answer]:
        passages = engine.search(question, filters=Filters(as_of=as_of))
        ranked = answerer.score(question, passages)
        best = ranked[0].score if ranked else 0.0
        missing = answerer.missing_share(question, ranked) if ranked else 1.0
        semantic = ranked[0].semantic if ranked else 0.0
        return best, (missing, semantic), answerer.answer(question, passages, as_of=as_of)

    pos = []
    for q in questions:
        choices, gold = q.item.choices or [], q.item.answer_index or 0
        best, feats, answer = features(q.text, q.as_of)
        text = answer.answer
        pos.append((best, feats, answer, m.choice_correct(choices, gold, text), m.contains(choices[gold], text)))
    neg = [features(u.question, parse_date(u.as_of, end_of_day=True)) for u in unanswerable]

    n, s = len(pos), engine.settings
    print(
        f"RealTime QA answers (extractive; abstain below score {s.abstain_threshold}, or missing share above "
        f"{s.abstain_missing} with similarity below {s.abstain_semantic}), n={n} answerable, {len(neg)} unanswerable"
    )
    print(f"  correct (gold choice, no other choice): {sum(c for _, _, a, c, _ in pos if not a.abstained) / n:.3f}")
    print(f"  contains the gold choice:               {sum(g for _, _, a, _, g in pos if not a.abstained) / n:.3f}")
    print(f"  abstained on answerable (false):        {sum(a.abstained for _, _, a, _, _ in pos) / n:.3f}")
    print(f"  abstained on unanswerable (right):      {sum(a.abstained for _, _, a in neg) / max(len(neg), 1):.3f}")
    print("  sweep: missing  similarity  false-abstain  right-abstain")

    def abstains(best: float, feats: tuple[float, float], missing: float, semantic: float) -> bool:
        return best < s.abstain_threshold or (feats[0] > missing and feats[1] < semantic)

    for missing in (0.3, 0.35, 0.4):
        for semantic in (0.6, 0.65, 0.7, 1.0):
            fa = sum(abstains(b, f, missing, semantic) for b, f, *_ in pos) / n
            ra = sum(abstains(b, f, missing, semantic) for b, f, _ in neg) / max(len(neg), 1)
            print(f"         {missing:.2f}     {semantic:.2f}        {fa:.3f}          {ra:.3f}")


if __name__ == "__main__":
    main()
