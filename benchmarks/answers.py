"""Extractive answers on RealTime QA, and abstention both ways.

Answerable: each `question_sentence` asked as of its question date (no choices shown); correct when the
answer contains the correct choice and none of the other three (case-insensitive, quotes and punctuation
ignored). Unanswerable: evals/data/realtimeqa_unanswerable.jsonl (same topics, answers not in the corpus).
Prints accuracy, abstention rates, and the rates over a sweep of abstention thresholds (for calibration).
"""

from __future__ import annotations

import argparse
import json
import re

from _common import ROOT, realtimeqa_engine, realtimeqa_questions

from rag.dates import parse_date
from rag.types import Filters


def _norm(text: str) -> str:
    return " " + re.sub(r"[^\w$%.]+", " ", text.lower()).replace(" . ", " ").strip() + " "


def contains(answer: str, choice: str) -> bool:
    return _norm(choice).strip() in _norm(answer)


def correct(answer: str, choices: list[str], gold: int) -> bool:
    return contains(answer, choices[gold]) and not any(contains(answer, c) for i, c in enumerate(choices) if i != gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    engine = realtimeqa_engine()
    answerer = engine.answerer
    questions = realtimeqa_questions()[: args.limit]
    unanswerable = [
        json.loads(line)
        for line in (ROOT / "evals/data/realtimeqa_unanswerable.jsonl").read_text().splitlines()
        if line.strip()
    ]

    def best_and_answer(question: str, as_of):  # type: ignore[no-untyped-def]
        passages = engine.search(question, filters=Filters(as_of=as_of))
        ranked = answerer.score(question, passages)
        return (ranked[0].score if ranked else 0.0), answerer.answer(question, passages)

    pos = []
    for q in questions:
        gold = int(q["answer"][0])
        best, answer = best_and_answer(q["question_sentence"], q["as_of"])
        pos.append(
            (best, answer, correct(answer.answer, q["choices"], gold), contains(answer.answer, q["choices"][gold]))
        )
    neg = [best_and_answer(u["question"], parse_date(u.get("as_of"), end_of_day=True))[0] for u in unanswerable]

    n = len(pos)
    threshold = engine.settings.abstain_threshold
    print(f"RealTime QA answers (extractive, threshold {threshold}), n={n} answerable, {len(neg)} unanswerable")
    print(f"  correct (gold choice, no other choice): {sum(c for _, a, c, _ in pos if not a.abstained) / n:.3f}")
    print(f"  contains the gold choice:               {sum(g for _, a, _, g in pos if not a.abstained) / n:.3f}")
    print(f"  abstained on answerable (false):        {sum(a.abstained for _, a, _, _ in pos) / n:.3f}")
    print(f"  abstained on unanswerable (right):      {sum(s < threshold for s in neg) / max(len(neg), 1):.3f}")
    print("  threshold sweep: thr  false-abstain  right-abstain")
    for thr in [0.2, 0.25, 0.3, 0.32, 0.34, 0.36, 0.38, 0.4, 0.42, 0.45, 0.5]:
        fa = sum(b < thr for b, _, _, _ in pos) / n
        ra = sum(s < thr for s in neg) / max(len(neg), 1)
        print(f"                   {thr:.2f}  {fa:.3f}          {ra:.3f}")


if __name__ == "__main__":
    main()
