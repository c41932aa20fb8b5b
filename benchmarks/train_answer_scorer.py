"""Fit the answer scorer (``rag/answer/model/answer_scorer.json``) and report it on held-out folds.

Training data, on the realistic store (bundled sample + RealTime QA corpus, ``--store``): every candidate
sentence of the retrieved articles for

- RealTime QA's 206 questions (asked as of their date): a sentence is positive when, quoted alone, it is
  judged correct by the one multiple-choice rule (``evals.metrics.correct``);
- the sample set's 32 questions: positive when it holds every expected string (unanswerables: none);
- the 62 same-topic unanswerable questions: no positives (they teach abstention).

Folds: k-fold by question (``--folds``, default 5), an unanswerable question in the same fold as the
RealTime QA question it was written from (``related_id``), so no story leaks across folds. For each fold a
logistic regression is fitted on the other folds, and its decision thresholds (abstain below probability
t; join a further sentence within ratio r of the best) are chosen on those training folds only:
t = the highest value whose false abstention on the training folds' answerable questions is <= 4%,
r = the best training accuracy. Held-out figures are printed; the fold models are written to
``--fold-dir`` so ``benchmarks/answer_quality.py --folds`` measures the real engine on held-out folds too.
The shipped model is then fitted on all questions with thresholds chosen the same way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.answer_quality import DEFAULT_STORE, SHARED, item_filters, judge, open_engine
from evals.sets import DATA, EvalItem, load_jsonl, realtimeqa_items
from rag.answer.features import FEATURES, Candidate, candidates, featurize
from rag.answer.scorer import MODEL_PATH, Scorer
from rag.answer.sentences import abstains, select
from rag.types import Answer

ROOT = Path(__file__).resolve().parent.parent

VERSION = 1
MAX_FALSE_ABSTENTION = 0.04
JOIN_RATIOS = (0.6, 0.75, 0.9, 1.01)
C = 0.5


@dataclass
class Q:
    item: EvalItem
    set: str
    group: str
    cands: list[Candidate]
    x: np.ndarray
    y: np.ndarray


def fold_of(group: str, k: int) -> int:
    return int(hashlib.sha1(group.encode()).hexdigest(), 16) % k


def collect(engine, items: list[tuple[str, EvalItem]]) -> list[Q]:  # type: ignore[no-untyped-def]
    answerer = engine.answerer
    out = []
    for name, item in items:
        passages = engine.search(item.question, filters=item_filters(item))
        cands = candidates(passages, answerer.sentences_of)
        x = featurize(item.question, cands, answerer._qvec(item.question), answerer.idf)
        y = np.array(
            [
                0.0 if item.unanswerable else float(bool(judge(item, Answer(question=item.question, answer=c.text))))
                for c in cands
            ]
        )
        extra = item.model_extra or {}
        group = str(extra.get("related_id") or item.id)
        out.append(Q(item, name, group, cands, x, y))
    return out


def fit(qs: list[Q]) -> Scorer:
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([q.x for q in qs if len(q.x)])
    y = np.concatenate([q.y for q in qs if len(q.y)])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    model.fit((x - mean) / scale, y)
    return Scorer(list(FEATURES), mean, scale, model.coef_[0], float(model.intercept_[0]))


def simulate(q: Q, scorer: Scorer) -> Answer:
    """Exactly what SentenceAnswerer does for a one-part question, on the collected candidates."""
    if not q.cands:
        return Answer(question=q.item.question, answer="", abstained=True)
    probs = scorer.probabilities(q.x)
    best = int(np.argmax(probs))
    if abstains(q.item.question, q.cands[best], float(probs[best]), scorer):
        return Answer(question=q.item.question, answer="", abstained=True)
    chosen = select(q.cands, probs, scorer)
    return Answer(question=q.item.question, answer=" ".join(f"{c.text} [{i}]" for i, c in enumerate(chosen, 1)))


def figures(qs: list[Q], answers: list[Answer]) -> dict[str, float]:
    def rate(sel: list[bool]) -> float:
        return sum(sel) / len(sel) if sel else float("nan")

    out: dict[str, float] = {}
    for name, unans in (("rtqa", False), ("unanswerable", True), ("sample", False), ("sample", True)):
        pairs = [(q, a) for q, a in zip(qs, answers, strict=True) if q.set == name and q.item.unanswerable == unans]
        if not pairs:
            continue
        if unans:
            out[f"{name}_abstention"] = rate([a.abstained for _, a in pairs])
        else:
            out[f"{name}_correct"] = rate([bool(judge(q.item, a)) for q, a in pairs])
            out[f"{name}_false_abstention"] = rate([a.abstained for _, a in pairs])
            out[f"{name}_oracle"] = rate([bool(q.y.sum()) for q, _ in pairs])
    return out


def choose_thresholds(qs: list[Q], scorer: Scorer) -> Scorer:
    """Thresholds from ``qs`` (training folds) only: for each focus rule (the question's names must be in the
    best sentence's article: not required / half / all), the highest abstention threshold keeping false
    abstention on the answerable questions <= MAX_FALSE_ABSTENTION; the pair abstaining most on the
    unanswerable questions wins. Then the join ratio with the best accuracy."""
    answerable = [q for q in qs if not q.item.unanswerable and len(q.x)]
    unanswerable = [q for q in qs if q.item.unanswerable]
    probs = {id(q): scorer.probabilities(q.x) for q in qs if len(q.x)}

    def best(q: Q) -> tuple[Candidate | None, float]:
        if not len(q.x):
            return None, 0.0
        i = int(np.argmax(probs[id(q)]))
        return q.cands[i], float(probs[id(q)][i])

    choice = (-1.0, 0.0, 0.0)  # (unanswerable abstention, need, threshold)
    for need in (0.0, 0.5, 1.0):
        scorer.meta["require_entity_article"] = need
        scorer.abstain_below = 0.0
        kept = [b for q in answerable for c, b in [best(q)] if not abstains(q.item.question, c, b, scorer)]
        budget = int(MAX_FALSE_ABSTENTION * len(answerable)) - (len(answerable) - len(kept))
        if budget < 0:
            continue
        kept.sort()
        scorer.abstain_below = round(kept[budget - 1], 4) if budget > 0 else 0.0
        right = np.mean([abstains(q.item.question, *best(q), scorer) for q in unanswerable]) if unanswerable else 0
        if right > choice[0]:
            choice = (float(right), need, scorer.abstain_below)
    scorer.meta["require_entity_article"], scorer.abstain_below = choice[1], choice[2]
    best_r, best_acc = JOIN_RATIOS[0], -1.0
    for r in JOIN_RATIOS:
        scorer.join_ratio = r
        acc = np.mean([bool(judge(q.item, simulate(q, scorer))) for q in answerable])
        if acc > best_acc:
            best_r, best_acc = r, float(acc)
    scorer.join_ratio = best_r
    return scorer


def training_arguments(description: str | None, out: Path) -> argparse.Namespace:
    """The options every answer-model trainer takes: the store, the folds and where its fold models go."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fold-dir", type=Path, default=ROOT / ".newsqa-bench" / "answer-folds")
    parser.add_argument("--out", type=Path, default=out)
    return parser.parse_args()


def training_items() -> list[tuple[str, EvalItem]]:
    """RealTime QA, its same-topic unanswerables and the sample set, each with its set's name."""
    items = [("rtqa", i) for i in realtimeqa_items(SHARED)]
    items += [("unanswerable", i) for i in load_jsonl(DATA / "realtimeqa_unanswerable.jsonl")]
    return items + [("sample", i) for i in load_jsonl(DATA / "sample.jsonl")]


def main() -> None:
    args = training_arguments(__doc__, MODEL_PATH)
    engine = open_engine(args.store, scorer="learned")
    items = training_items()
    qs = collect(engine, items)
    print(
        f"{len(qs)} questions, {sum(len(q.y) for q in qs)} candidates, {int(sum(q.y.sum() for q in qs))} positive",
        file=sys.stderr,
    )

    k = args.folds
    held: list[Answer | None] = [None] * len(qs)
    args.fold_dir.mkdir(parents=True, exist_ok=True)
    assignment = {}
    for fold in range(k):
        train = [q for q in qs if fold_of(q.group, k) != fold]
        scorer = choose_thresholds(train, fit(train))
        (args.fold_dir / f"fold{fold}.json").write_text(json.dumps(scorer.to_json(), indent=1))
        for i, q in enumerate(qs):
            if fold_of(q.group, k) == fold:
                held[i] = simulate(q, scorer)
                assignment[q.item.id] = fold
    (args.fold_dir / "assignment.json").write_text(json.dumps({"k": k, "fold_of": assignment}))
    report = {key: round(v, 4) for key, v in figures(qs, [a for a in held if a is not None]).items()}
    print("held-out folds:", json.dumps(report, indent=1))

    final = choose_thresholds(qs, fit(qs))
    final.meta = {
        **final.meta,
        "version": VERSION,
        "trained_on": "RealTime QA 206 + same-topic unanswerables 62 + sample 32, on the sample + RealTime QA store",
        "folds": k,
        "report": {"held_out": report, "scheme": f"{k}-fold by question (related unanswerables grouped)"},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(final.to_json(), indent=1) + "\n")
    coefs = sorted(zip(final.features, final.coef, strict=True), key=lambda fc: -abs(fc[1]))
    print("weights:", ", ".join(f"{f}={c:+.2f}" for f, c in coefs[:15]))
    print(f"thresholds: abstain below {final.abstain_below}, join ratio {final.join_ratio}; wrote {args.out}")


if __name__ == "__main__":
    main()
