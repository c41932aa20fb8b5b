"""Summaries, reports, baseline diffs and the regression gate on hand-made runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import report as rp
from evals.records import Gold, QuestionRecord
from evals.runner import RunResult
from rag.errors import InputError


def q(
    qid: str,
    correct: float,
    abstained: bool = False,
    unanswerable: bool = False,
    latency: float = 100.0,
    qtype: str = "t",
    answer: str = "x [1]",
) -> QuestionRecord:
    return QuestionRecord(
        id=qid,
        type=qtype,
        question=f"question {qid}?",
        unanswerable=unanswerable,
        abstained=abstained,
        answer=answer,
        latency_ms=latency,
        gold=Gold() if unanswerable else Gold(all_of=["x"]),
        metrics={"correct": correct, "hits@10": 1.0 if correct else 0.0, "citation_precision": None},
    )


QUESTIONS = [
    q("a", 1.0),
    q("b", 0.0, latency=300.0, answer="<script>alert(1)</script> y [1]"),
    q("c", 1.0, abstained=True, unanswerable=True, qtype="u"),
    q("d", 0.0, abstained=True, latency=200.0),
]


def run() -> RunResult:
    return RunResult(
        "toy",
        QUESTIONS,
        judge="test judge",
        store="/tmp/x",
        started="2026-01-01T00:00:00",
        seconds=1.0,
        options={"answerer": "extractive", "gold_context": False},
    )


def test_summarize_aggregates_by_definition():
    s = rp.summarize(QUESTIONS)
    assert s["n"] == 4 and s["n_answerable"] == 3 and s["n_unanswerable"] == 1
    assert s["correct"] == 0.5
    assert s["correct_answerable"] == pytest.approx(0.3333, abs=1e-4)
    assert s["abstention_precision"] == 0.5  # 1 of 2 abstentions was on an unanswerable question
    assert s["abstention_recall"] == 1.0
    assert s["false_abstention_rate"] == pytest.approx(0.3333, abs=1e-4)
    assert s["citation_precision"] is None
    assert s["latency_p50_ms"] == 150.0
    per = rp.per_type(QUESTIONS)
    assert set(per) == {"t", "u"} and per["u"]["n"] == 1


def test_gate_flags_regressions_beyond_tolerance_and_flips():
    report = rp.build_report(run())
    better = {
        "summary": {**report["summary"], "correct": 0.9, "false_abstention_rate": 0.0, "hits@10": 0.52},
        "tolerances": {"hits@10": 0.05},
        "questions": {"a": 1.0, "b": 1.0, "c": 1.0},
    }
    diffs = {d.metric: d for d in rp.compare(report["summary"], better)}
    assert diffs["correct"].regressed and diffs["correct"].delta == pytest.approx(-0.4)
    assert diffs["false_abstention_rate"].regressed  # lower is better: it went up
    assert not diffs["hits@10"].regressed  # within tolerance
    assert not diffs["latency_p95_ms"].regressed  # latency is not gated without a tolerance
    flips = rp.flipped(QUESTIONS, better)
    assert [f["id"] for f in flips] == ["b"]
    same = rp.compare(report["summary"], {"summary": report["summary"]})
    assert not any(d.regressed for d in same)


def test_thresholds():
    assert rp.parse_thresholds(["correct=0.8", "hits@10=0.9"]) == {"correct": 0.8, "hits@10": 0.9}
    for bad in ("correct", "correct=high", "=0.5"):
        with pytest.raises(InputError, match="METRIC=VALUE"):
            rp.parse_thresholds([bad])
    s = rp.summarize(QUESTIONS)
    assert rp.missed_thresholds(s, {"correct": 0.4}) == []
    assert rp.missed_thresholds(s, {"correct": 0.6}) == ["correct = 0.5 is under 0.6"]
    assert rp.missed_thresholds(s, {"false_abstention_rate": 0.1})[0].startswith("false_abstention_rate")
    assert rp.missed_thresholds(s, {"citation_precision": 0.1})  # no value cannot pass
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        rp.missed_thresholds(s, {"nope": 1.0})


def test_load_baseline_errors(tmp_path: Path):
    with pytest.raises(InputError, match="baseline not found"):
        rp.load_baseline(tmp_path / "none.json")
    (tmp_path / "b.json").write_text("{not json")
    with pytest.raises(InputError, match="is not JSON"):
        rp.load_baseline(tmp_path / "b.json")
    (tmp_path / "b.json").write_text("[]")
    with pytest.raises(InputError, match="no 'summary'"):
        rp.load_baseline(tmp_path / "b.json")


def test_write_reports(tmp_path: Path):
    report = rp.build_report(run())
    baseline = rp.baseline_from(report, {"correct": 0.1})
    diffs = rp.compare(report["summary"], baseline)
    paths = rp.write_reports(report, tmp_path / "out", diffs, [])
    body = json.loads(paths[0].read_text())
    assert body["summary"]["correct"] == 0.5 and len(body["questions"]) == 4 and body["judge"] == "test judge"
    assert {d["metric"] for d in body["baseline_diff"]} >= {"correct", "hits@10"}
    md = paths[1].read_text()
    assert "test judge" in md and "## By question type" in md and "## Worst 10 questions" in md
    assert md.index("**b**") < md.index("**a**")  # incorrect questions first
    assert "- gold: x\n" in md and "- gold: abstain\n" in md
    html = paths[2].read_text()
    assert html.count("<svg") == 2 and "<script" not in html and "&lt;script&gt;alert(1)" in html
    assert "<table>" in html and "<th>metric</th>" in html and "<td>correct</td>" in html
    assert "<pre" not in html and "## Summary" not in html  # rendered, not shown as Markdown source
    assert baseline["questions"] == {"a": 1.0, "b": 0.0, "c": 1.0, "d": 0.0}


def test_question_records_round_trip_through_report_json(tmp_path: Path):
    paths = rp.write_reports(rp.build_report(run()), tmp_path / "out")
    body = json.loads(paths[0].read_text())
    assert [QuestionRecord.model_validate(q) for q in body["questions"]] == QUESTIONS
