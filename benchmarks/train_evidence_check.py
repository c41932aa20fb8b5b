"""Fit the evidence check (``rag/answer/model/evidence_check.json``) and report it on held-out folds.

One logistic regression per extractive answerer: ``hand`` (the default) and ``learned`` (which adds the learned
sentence scorer's best probability, taken from the fold model that never saw the question: stacking on
out-of-fold predictions, so run ``make train``'s ``train_answer_scorer`` first). Data, on the realistic store:
RealTime QA's 206 questions and the sample set's answerable questions are positives (the articles answer
them), the 62 same-topic unanswerables and the sample's 8 unanswerables negatives. The signals are those of
``rag.answer.evidence.evidence_features``, computed by the answerer's own code.

Folds: the answer scorer's (5, by story; an unanswerable goes with the question it was written from). Per fold
the model is fitted on the other folds (sample questions weighted x4, so one article's 32 questions are not
drowned by RealTime QA's 268) and its threshold chosen there: the highest probability that keeps false
abstention <= 4% on the training folds' RealTime QA answerables and on their sample answerables. The held-out
figures come from the real engine (``engine.ask``) with each question's fold model in place. The shipped
model is fitted on all questions the same way.

Usage: ``python -m benchmarks.train_evidence_check [--store DIR] [--fold-dir DIR]`` (after ``train_answer_scorer``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.answer_quality import FoldModels, item_filters, judge, open_engine
from benchmarks.train_answer_scorer import fold_of, training_arguments, training_items
from evals.sets import EvalItem
from ingest.engine import Engine
from rag.answer.evidence import FEATURES, MODEL_PATH, EvidenceCheck

ROOT = Path(__file__).resolve().parent.parent
MAX_FALSE_ABSTENTION = 0.04
SAMPLE_WEIGHT = 4.0
C = 1.0
VERSION = 1
SIGNS = {"missing": -1.0}  # every other signal may only raise P(answerable)


@dataclass
class Row:
    item: EvalItem
    set: str
    group: str
    x: dict[str, float] | None  # None: no candidate sentence at all (always abstains)
    thresholds_abstain: bool  # the hand answerer's threshold rules abstain (the hybrid answerer's first test)


def collect(engine: Engine, items: list[tuple[str, EvalItem]], folds: FoldModels) -> list[Row]:
    """Each question's signals, the learned probability from the scorer of the fold that never saw it."""
    answerer: Any = engine.answerer
    out = []
    for name, item in items:
        passages = engine.search(item.question, filters=item_filters(item))
        hand = answerer.score(item.question, passages)
        folds.use_for(engine, item)
        _, probs = answerer.rank(item.question, passages)
        learned_p = float(probs[0]) if len(probs) else 0.0
        x = answerer.evidence(item.question, hand, learned_p) if hand else None
        group = str((item.model_extra or {}).get("related_id") or item.id)
        out.append(Row(item, name, group, x, not hand or answerer.abstains(item.question, hand)))
    return out


def fit_signed(x: np.ndarray, y: np.ndarray, w: np.ndarray, signs: np.ndarray) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression, classes balanced, each weight held to the sign of ``signs``: more
    evidence may only make an answer more likely. Unconstrained, the fit gave "the asking sentence's terms are
    in the best sentence" a negative weight (our unanswerable questions were written from the same stories, so
    they share those terms), and refused the flagship question on the fold that held it out."""
    from scipy.optimize import minimize

    n, d = x.shape
    balance = np.where(y, n / (2 * max(y.sum(), 1)), n / (2 * max((~y).sum(), 1))) * w
    target = y.astype(float)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ theta[:d] + theta[d]
        p = 1.0 / (1.0 + np.exp(-z))
        eps = 1e-12
        value = -np.sum(balance * (target * np.log(p + eps) + (1 - target) * np.log(1 - p + eps)))
        value += 0.5 / C * float(theta[:d] @ theta[:d])
        grad_z = balance * (p - target)
        grad = np.concatenate([x.T @ grad_z + theta[:d] / C, [grad_z.sum()]])
        return float(value), grad

    bounds = [(0.0, None) if s > 0 else (None, 0.0) for s in signs] + [(None, None)]
    result = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return result.x[:d], float(result.x[d])


def fit(rows: list[Row], features: list[str], after_thresholds: bool) -> EvidenceCheck:
    """The regression, and its threshold: for the hybrid answerer (``after_thresholds``) false abstention counts
    the questions the threshold rules already refuse too, since the check only runs after they pass."""
    used = [r for r in rows if r.x is not None]
    answerable_rows = [r for r in used if not r.item.unanswerable]
    x = np.array([[r.x[f] for f in features] for r in used if r.x is not None])
    y = np.array([not r.item.unanswerable for r in used])
    w = np.array([SAMPLE_WEIGHT if r.set == "sample" else 1.0 for r in used])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    coef, intercept = fit_signed((x - mean) / scale, y, w, np.array([SIGNS.get(f, 1.0) for f in features]))
    check = EvidenceCheck(features, mean, scale, coef, intercept, threshold=0.0)
    # The highest threshold whose false abstention stays within budget on each answerable set.
    probs = {id(r): check.probability(r.x) for r in used if r.x is not None}
    answerable = {
        s: [(probs[id(r)], after_thresholds and r.thresholds_abstain) for r in answerable_rows if r.set == s]
        for s in ("rtqa", "sample")
    }

    def false_abstention(t: float, pairs: list[tuple[float, bool]]) -> float:
        return float(np.mean([p < t or refused for p, refused in pairs]))

    for t in sorted(set(probs.values())):
        if all(false_abstention(t, pairs) <= MAX_FALSE_ABSTENTION for pairs in answerable.values() if pairs):
            check.threshold = t
        else:
            break
    return check


def held_out(engine: Engine, rows: list[Row], checks: dict[int, EvidenceCheck], folds: FoldModels, k: int):  # type: ignore[no-untyped-def]
    """Per question, the engine's answer with the check (and learned scorer) of the fold that never saw it."""
    answerer: Any = engine.answerer
    records = []
    for r in rows:
        folds.use_for(engine, r.item)
        answerer.evidence_check = checks[fold_of(r.group, k)]
        answer = engine.ask(r.item.question, filters=item_filters(r.item))
        records.append((r, answer.abstained, judge(r.item, answer)))
    return records


def figures(records) -> dict[str, float]:  # type: ignore[no-untyped-def]
    def rate(values: list[Any]) -> float:
        return round(sum(bool(v) for v in values) / len(values), 4) if values else float("nan")

    def of(name: str, unanswerable: bool) -> list[tuple[Row, bool, Any]]:
        return [t for t in records if t[0].set == name and t[0].item.unanswerable == unanswerable]

    return {
        "rtqa_correct": rate([c for _, _, c in of("rtqa", False)]),
        "rtqa_false_abstention": rate([a for _, a, _ in of("rtqa", False)]),
        "unanswerable_abstention": rate([a for _, a, _ in of("unanswerable", True)]),
        "sample_correct": rate([c for _, _, c in of("sample", False)]),
        "sample_false_abstention": rate([a for _, a, _ in of("sample", False)]),
        "sample_abstention": rate([a for _, a, _ in of("sample", True)]),
    }


def main() -> None:
    args = training_arguments(__doc__, MODEL_PATH)
    items = training_items()
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    variants: dict[str, Any] = dict(existing.get("variants", {}))
    engine = open_engine(args.store, scorer="learned")
    folds = FoldModels(args.fold_dir)
    folds.checks = {}  # the learned scorer's folds only: the checks are what this fits
    rows = collect(engine, items, folds)
    k = args.folds
    # "learned": the learned scorer picks, the check alone decides; "hybrid" (the default): the hand-weighted
    # answerer picks, its thresholds then the check decide. Same signals, thresholds chosen for each.
    for variant, scorer in (("learned", "learned"), ("hybrid", "hybrid")):
        after_thresholds = variant == "hybrid"
        checks = {f: fit([r for r in rows if fold_of(r.group, k) != f], FEATURES, after_thresholds) for f in range(k)}
        for f, check in checks.items():  # for benchmarks/answer_quality.py --folds
            (args.fold_dir / f"evidence-{variant}-fold{f}.json").write_text(json.dumps(check.to_json(), indent=1))
        answering = engine if scorer == "learned" else open_engine(args.store, scorer=scorer)
        report = figures(held_out(answering, rows, checks, folds, k))
        print(f"{variant}: held-out folds {json.dumps(report)}", file=sys.stderr)
        final = fit(rows, FEATURES, after_thresholds)
        final.meta = {
            "version": VERSION,
            "trained_on": "RealTime QA 206 + same-topic unanswerables 62 + sample 32, sample + RealTime QA store",
            "report": {"held_out": report, "scheme": f"{k}-fold by story, threshold chosen on the training folds"},
        }
        variants[variant] = final.to_json()
        coefs = sorted(zip(final.features, final.coef, strict=True), key=lambda fc: -abs(fc[1]))
        print(f"{variant}: " + ", ".join(f"{f}={c:+.2f}" for f, c in coefs) + f"; threshold {final.threshold:.3f}")
    args.out.write_text(json.dumps({"format": 1, "variants": variants}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
