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

from rag.text.dates import parse_date
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
    questions = realtimeqa_questions(engine)[: args.limit]
    unanswerable = [
        json.loads(line)
        for line in (ROOT / "evals/data/realtimeqa_unanswerable.jsonl").read_text().splitlines()
        if line.strip()
    ]

    def features(question: str, as_of):  # type: ignore[no-untyped-def]
        passages = engine.search(question, filters=Filters(as_of=as_of))
        ranked = answerer.score(question, passages)
        best = ranked[0].score if ranked else 0.0
        missing = answerer.missing_share(question, ranked) if ranked else 1.0
        semantic = ranked[0].semantic if ranked else 0.0
        return best, (missing, semantic), answerer.answer(question, passages)

    pos = []
    for q in questions:
        gold = int(q["answer"][0])
        best, missing, answer = features(q["question_sentence"], q["as_of"])
        text = answer.answer
        pos.append((best, missing, answer, correct(text, q["choices"], gold), contains(text, q["choices"][gold])))
    neg = [features(u["question"], parse_date(u.get("as_of"), end_of_day=True)) for u in unanswerable]

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
