"""Should the answer go out? A question-level check of the best evidence, from a small learned model.

The extractive answerers pick the sentences; this decides whether they answer the question at all. Abstaining
from one similarity threshold fails on same-topic questions ("How many episodes will season 2 of Squid Game
have?" over articles about season 2): the best sentence is on topic, only the detail asked for is missing.
The check combines signals of the whole evidence into P(the articles answer the question):

- the hand-weighted score of the best sentence and its lead over the second, its term coverage, its static
  cosine to the question and its answer-type cue (``extractive``);
- the share of the question's weight found in none of the top passages (``missing_share``);
- whether the best sentence, and any of the top three, holds a new instance of the expected answer type
  (``answer_type``);
- the share of the *asking* sentence's terms (what is asked, not the scene-setting sentence before it) in the
  best sentence and in its passage; whether the question's rarest term is in either;
- with the learned sentence scorer (``NEWSQA_ANSWER_SCORER=learned``): its best sentence probability.

Deliberately absent: anything about the question alone (its answer type, its length), which would learn how
our unanswerable questions are phrased rather than whether the articles answer them.

A logistic regression per answerer (``hand``, ``learned``) fitted by ``benchmarks/train_evidence_check.py``
(``make train``) on out-of-fold data, shipped as ``model/evidence_check.json`` with its held-out figures; the
threshold is the one that keeps false abstention within budget on the training folds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.answer.answer_type import asked_sentence, expected_type, instances
from rag.answer.condense import split_condensed
from rag.answer.extractive import SCENE_SHARE, condition_only_terms, main_clause
from rag.text.lexicon import QUESTION_STEMS
from rag.text.tokens import tokenize
from rag.types import Passage

MODEL_PATH = Path(__file__).resolve().parent / "model" / "evidence_check.json"
FORMAT = 1
FEATURES = [
    "top",
    "gap",
    "cov",
    "sem",
    "cue",
    "missing",
    "type_top",
    "type_top3",
    "asked_sentence",
    "asked_passage",
    "rare_sentence",
    "rare_passage",
    "learned_p",
]


class Ranked(Protocol):
    """A scored candidate sentence (``extractive.Candidate``)."""

    text: str
    coverage: float
    semantic: float
    cue: float
    score: float
    passage: Passage


def _tokens(text: str) -> set[str]:
    return set(tokenize([text])[0])


def _share(weights: dict[str, float], tokens: set[str]) -> float:
    return math.fsum(w for t, w in weights.items() if t in tokens) / (math.fsum(weights.values()) or 1.0)


def evidence_features(
    question: str,
    ranked: Sequence[Ranked],
    weights: dict[str, float],
    missing: float,
    learned_p: float,
    similarity: Callable[[str, str], float] | None = None,
) -> dict[str, float]:
    """The check's signals for a question whose candidates ``ranked`` are best first (at least one);
    ``similarity`` (cosine of two texts) compares an in-scene best sentence with the question's main clause."""
    asked, _ = split_condensed(question)
    top = ranked[0]
    kind = expected_type(asked)

    def typed(text: str) -> float:
        return 0.5 if kind in ("other", "yesno") else float(bool(instances(kind, text, asked)))

    sentence = _tokens(top.text)
    passage = _tokens(f"{top.passage.title or ''}\n{top.passage.text}")
    asking = {t: weights[t] for t in set(tokenize([asked_sentence(asked)])[0]) - QUESTION_STEMS if t in weights}
    asking = asking or weights
    # As in the answerer: where the passage holds an "if" clause's terms, they set the scene and the sentence is
    # measured on the main clause ("Who benefits if Supermicro loses xAI?": the answer need not say "xAI").
    condition = condition_only_terms(question) & weights.keys()
    held = math.fsum(weights[t] for t in condition if t in passage)
    in_scene = bool(condition) and held >= SCENE_SHARE * math.fsum(weights[t] for t in condition)
    main = {t: w for t, w in weights.items() if t not in condition} if in_scene else weights
    asking_main = {t: w for t, w in asking.items() if t in main} or main or asking
    semantic = top.semantic
    if in_scene and similarity is not None:  # "Who benefits?" is what the sentence must be close to
        semantic = max(semantic, similarity(main_clause(question), top.text))
    rarest = max(main, key=lambda t: main[t]) if main else ""  # of what the sentence must say
    rarest_all = max(weights, key=lambda t: weights[t]) if weights else ""  # of what the passage must hold
    second = ranked[1].score if len(ranked) > 1 else 0.0
    out = {
        "top": top.score,
        "gap": top.score - second,
        "cov": top.coverage,
        "sem": semantic,
        "cue": top.cue,
        "missing": missing,
        "type_top": typed(top.text),
        "type_top3": max(typed(c.text) for c in ranked[:3]),
        "asked_sentence": _share(asking_main, sentence),
        "asked_passage": _share(asking, passage),
        "rare_sentence": float(rarest in sentence),
        "rare_passage": float(rarest_all in passage),
        "learned_p": learned_p,
    }
    return out


@dataclass
class EvidenceCheck:
    """Logistic regression over standardised ``features``; answer when P(answerable) >= ``threshold``."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    def probability(self, values: dict[str, float]) -> float:
        x = (np.array([values[f] for f in self.features]) - self.mean) / self.scale
        return 1.0 / (1.0 + math.exp(-float(x @ self.coef + self.intercept)))

    def answers(self, values: dict[str, float]) -> bool:
        return self.probability(values) >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(float(self.intercept), 6),
            "threshold": round(float(self.threshold), 6),
            **self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvidenceCheck:
        known = {"features", "mean", "scale", "coef", "intercept", "threshold"}
        return cls(
            features=list(data["features"]),
            mean=np.asarray(data["mean"], dtype=float),
            scale=np.asarray(data["scale"], dtype=float),
            coef=np.asarray(data["coef"], dtype=float),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            meta={k: v for k, v in data.items() if k not in known},
        )


def load_evidence_check(variant: str, path: Path = MODEL_PATH) -> EvidenceCheck | None:
    """The shipped check for ``variant`` ("hand" or "learned"), or None when the file or variant is missing
    or unreadable (the answerer then keeps its threshold rules)."""
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            return None
        return EvidenceCheck.from_json(data["variants"][variant])
    except (OSError, ValueError, KeyError, TypeError):
        return None
