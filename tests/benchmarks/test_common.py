"""The benchmarks' shared helpers: the realistic store's location, and the RealTime QA questions of the evals."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks._common import STORE_ENV, realtimeqa_questions, realtimeqa_store
from evals.sets import realtimeqa_items
from tests.conftest import ROOT, SHARED_DATA

BENCHMARKS = sorted(p.stem for p in (ROOT / "benchmarks").glob("[a-z]*.py"))


def test_an_existing_store_named_by_the_environment_is_used_as_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "chroma").mkdir()
    monkeypatch.setenv(STORE_ENV, str(tmp_path))
    assert realtimeqa_store() == tmp_path


def test_a_store_argument_without_chroma_is_refused_with_the_variable_named(tmp_path: Path):
    with pytest.raises(SystemExit, match=f"no store at {tmp_path} .*{STORE_ENV}"):
        realtimeqa_store(tmp_path)


@pytest.mark.skipif(not (SHARED_DATA / "realtimeqa").exists(), reason="shared eval data not present")
def test_questions_are_the_eval_items_asked_as_of_the_end_of_their_day():
    questions = realtimeqa_questions()
    items = realtimeqa_items(SHARED_DATA)
    assert [q.item for q in questions] == items
    first = questions[0]
    assert first.text == items[0].question and first.gold_ids == items[0].gold_ids()
    day = datetime.fromisoformat(items[0].as_of or "").replace(tzinfo=UTC)
    assert first.as_of == day.replace(hour=23, minute=59, second=59)


@pytest.mark.slow
@pytest.mark.parametrize("name", BENCHMARKS)
def test_every_benchmark_runs_as_a_module_from_the_repository_root(name: str):
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ")
