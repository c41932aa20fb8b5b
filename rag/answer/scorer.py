"""The learned sentence scorer: P(sentence answers the question) from the signals of ``features``.

A logistic regression over standardised features, fitted by ``benchmarks/train_answer_scorer.py``
(``make train``) and shipped as a small versioned JSON file (``rag/answer/model/answer_scorer.json``): the
feature names, their means and scales, the coefficients, and the decision thresholds chosen on the
training folds (the probability below which the answerer abstains, how close to the best a further
sentence must be to join the answer). Figures from held-out folds are in the JSON's ``report``.

Measured (5-fold by question, held-out, sample + RealTime QA store, 925 articles): RealTime QA correct 0.549
with 2.9% false abstention (the hand-weighted answerer: see benchmarks/answer_quality.py's BEFORE run),
same-topic unanswerable abstention 0.403 (before: ~0.05), sample answerable 0.708 with 21% false abstention
(the abstention threshold is set by the RealTime QA questions, which outnumber the sample's 8:1). A correct
sentence is among the candidates for 0.85 of RealTime QA questions: choosing it, not finding it, is the gap.
Largest weights: the expected answer type and whether the sentence holds a new instance of it, coverage
relative to the question's best candidate, the article's fused retrieval score, the question's names in the
article, the sentence cosine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.features import FEATURES

MODEL_PATH = Path(__file__).resolve().parent / "model" / "answer_scorer.json"
FORMAT = 1


@dataclass
class Scorer:
    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    abstain_below: float = 0.2  # abstain when the best sentence's probability is below this
    join_ratio: float = 0.8  # a further sentence joins when its probability is this close to the best
    max_sentences: int = 3
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        cols = [FEATURES.index(f) for f in self.features]
        z = (x[:, cols] - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.coef + self.intercept)))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": "logistic_regression",
            "features": self.features,
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(float(self.intercept), 6),
            "abstain_below": self.abstain_below,
            "join_ratio": self.join_ratio,
            "max_sentences": self.max_sentences,
            **self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scorer:
        if data.get("format") != FORMAT:
            raise ValueError(f"answer scorer format {data.get('format')} (expected {FORMAT}): run `make train`")
        known = {
            "format",
            "kind",
            "features",
            "mean",
            "scale",
            "coef",
            "intercept",
            "abstain_below",
            "join_ratio",
            "max_sentences",
        }
        return cls(
            features=list(data["features"]),
            mean=np.asarray(data["mean"]),
            scale=np.asarray(data["scale"]),
            coef=np.asarray(data["coef"]),
            intercept=float(data["intercept"]),
            abstain_below=float(data["abstain_below"]),
            join_ratio=float(data["join_ratio"]),
            max_sentences=int(data["max_sentences"]),
            meta={k: v for k, v in data.items() if k not in known},
        )


def load_scorer(path: Path = MODEL_PATH) -> Scorer | None:
    """The shipped scorer, or None when the file is missing (the answerer then uses hand weights)."""
    try:
        return Scorer.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError):
        return None


def hand_scorer() -> Scorer:
    """Hand weights close to the old answerer's (coverage, context, semantic, answer type): the fallback."""
    weights = {"cov": 4.0, "cov_article": 1.0, "cos": 3.5, "type_match": 1.5, "focus": 1.0}
    feats = list(weights)
    return Scorer(
        feats,
        np.zeros(len(feats)),
        np.ones(len(feats)),
        np.array([weights[f] for f in feats]),
        -6.0,
        abstain_below=0.05,
    )
