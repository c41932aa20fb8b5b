"""The evidence check: its signals, its model file, and its place in the default (hybrid) answerer."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from ingest.engine import Engine
from rag.answer.evidence import FEATURES, MODEL_PATH, EvidenceCheck, evidence_features, load_evidence_check
from rag.types import Passage
from tests.builders import FLAGSHIP


def _candidate(text: str, score: float, passage_text: str) -> SimpleNamespace:
    passage = Passage(chunk_id="c", article_id="a", index=0, text=passage_text, start=0, end=len(passage_text))
    return SimpleNamespace(text=text, coverage=0.5, semantic=0.4, cue=1.0, score=score, passage=passage)


def test_signals_of_a_date_question_whose_best_sentence_holds_a_date():
    best = _candidate("The deadline is November 16, the exchange said.", 0.7, "The deadline is November 16.")
    other = _candidate("The exchange wrote a letter.", 0.5, "The exchange wrote a letter.")
    weights = {"deadlin": 2.0, "exchang": 1.0}
    f = evidence_features("When is the deadline?", [best, other], weights, missing=0.25, learned_p=0.9)
    assert f["top"] == 0.7 and abs(f["gap"] - 0.2) < 1e-9
    assert f["type_top"] == 1.0 and f["type_top3"] == 1.0  # a date the question does not hold
    assert f["rare_sentence"] == 1.0 and f["missing"] == 0.25 and f["learned_p"] == 0.9
    assert list(f) == FEATURES


def test_the_shipped_checks_load_with_their_held_out_reports():
    for variant in ("hybrid", "learned"):
        check = load_evidence_check(variant)
        assert check is not None and check.features == FEATURES and 0.0 < check.threshold < 1.0
        held = json.loads(MODEL_PATH.read_text())["variants"][variant]["report"]["held_out"]
        assert held["rtqa_false_abstention"] <= 0.05 and held["unanswerable_abstention"] >= 0.3
    assert load_evidence_check("no-such-variant") is None


def test_a_model_round_trips_through_json_and_thresholds_its_probability():
    check = EvidenceCheck(["top"], np.array([0.5]), np.array([0.1]), np.array([2.0]), 0.0, threshold=0.5)
    again = EvidenceCheck.from_json(check.to_json())
    assert again.probability({"top": 0.5}) == 0.5
    assert again.answers({"top": 0.6}) and not again.answers({"top": 0.4})


def test_the_default_answerer_sends_the_flagship_only_when_the_check_passes(seeded_engine: Engine):
    assert seeded_engine.settings.answer_scorer == "hybrid"
    answer = seeded_engine.ask(FLAGSHIP)
    assert not answer.abstained and "Wistron" in answer.answer
    strict = load_evidence_check("hybrid")
    assert strict is not None
    strict.threshold = 1.01  # no evidence is ever good enough
    seeded_engine.answerer.evidence_check = strict  # type: ignore[attr-defined]
    refused = seeded_engine.ask(FLAGSHIP)
    assert refused.abstained and refused.citations == []
    assert "The closest articles report “Elon Musk's xAI reportedly shifts $6 billion" in refused.answer


def test_an_unreadable_or_foreign_model_file_leaves_the_threshold_rules_in_charge(tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00{not json")
    other_format = tmp_path / "other.json"
    other_format.write_text(json.dumps({"format": 99, "variants": {"hybrid": {}}}))
    missing_field = tmp_path / "missing.json"
    missing_field.write_text(json.dumps({"format": 1, "variants": {"hybrid": {"features": ["top"]}}}))
    for path in (garbage, other_format, missing_field, tmp_path / "absent.json"):
        assert load_evidence_check("hybrid", path) is None
