"""Shared by the benchmarks: the realistic store, and the RealTime QA questions as the evals load them.

Run a benchmark from the repository root as a module: ``python -m benchmarks.retrieval`` (``make bench``
runs retrieval, answers, latency and ingest_throughput). The eval data is found the way ``newsqa eval``
finds it (``NEWSQA_EVAL_DATA_DIR``, default ``../shared/data``), and the questions, their gold article ids,
the multiple-choice rule and the percentile all come from ``evals/``, so a benchmark and an eval of the same
run print the same numbers.

The realistic store is the bundled sample article plus the whole RealTime QA corpus (``corpus.json``),
embedded once into ``.newsqa-bench/realtimeqa`` (about 15 minutes on 2 cores; an interrupted build resumes)
and reused. ``--store DIR`` or ``NEWSQA_BENCH_STORE=DIR`` uses an existing store of that content instead
(the data directory of an engine: it holds ``chroma/``); nothing is ingested into it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.runner import Runner
from evals.sets import SAMPLE_CORPUS, EvalItem, default_data_dir, realtimeqa_items
from ingest.engine import Engine
from rag.settings import Settings
from rag.text.dates import parse_date

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".newsqa-bench"
STORE_ENV = "NEWSQA_BENCH_STORE"
MARKER_FILE = "bench-ingest.json"


def rtqa_dir() -> Path:
    """The RealTime QA folder of the shared eval data (questions.json, corpus.json)."""
    return default_data_dir(Settings()) / "realtimeqa"


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"an existing store of the sample article + the RealTime QA corpus (or set {STORE_ENV})",
    )


def realtimeqa_store(store: Path | None = None) -> Path:
    """The realistic store's data dir: ``store`` or ``$NEWSQA_BENCH_STORE`` as is, else the sample article +
    the RealTime QA corpus, built once in ``.newsqa-bench/realtimeqa``."""
    existing = store or (Path(os.environ[STORE_ENV]) if os.environ.get(STORE_ENV) else None)
    if existing is not None:
        if not (existing / "chroma").is_dir():
            raise SystemExit(f"error: no store at {existing} (--store / {STORE_ENV} names a data dir holding chroma/)")
        return existing
    data_dir = BENCH_DIR / "realtimeqa"
    if not (data_dir / MARKER_FILE).exists():
        t = time.perf_counter()
        report = Engine(Settings(data_dir=data_dir)).ingest_paths([SAMPLE_CORPUS, rtqa_dir() / "corpus.json"])
        print(
            f"built {data_dir}: {report.ingested} articles, {report.chunks} chunks, {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )
        # Written last: a killed build leaves no marker, and the next run resumes it.
        (data_dir / MARKER_FILE).write_text(json.dumps({"finished": datetime.now(UTC).isoformat()}))
    return data_dir


def realtimeqa_engine(store: Path | None = None, **overrides: Any) -> Engine:
    """A warm engine over the realistic store (see :func:`realtimeqa_store`) with these settings overrides."""
    engine = Engine(Settings(data_dir=realtimeqa_store(store), **overrides))
    engine.warm_up()
    return engine


@dataclass
class Question:
    """A RealTime QA question with the time it is asked as of and the ids of its gold articles."""

    item: EvalItem
    as_of: datetime | None
    gold_ids: set[str]

    @property
    def text(self) -> str:
        return self.item.question


def realtimeqa_questions(engine: Engine | None = None) -> list[Question]:
    """The RealTime QA questions of ``newsqa eval realtimeqa`` (evals.sets), asked as of the end of their
    question date. With ``engine``, gold ids are resolved in its store the way the eval runner resolves them."""
    runner = Runner(engine) if engine is not None else None
    return [
        Question(
            item,
            parse_date(item.as_of, end_of_day=True),
            runner.gold_ids(item) if runner is not None else item.gold_ids(),
        )
        for item in realtimeqa_items(rtqa_dir().parent)
    ]
