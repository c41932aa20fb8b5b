"""Shared helpers for the benchmarks: the RealTime QA corpus in a cached store, its questions."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.engine import Engine  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.text.dates import parse_date  # noqa: E402
from rag.text.ids import article_id, canonical_url  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RTQA = DATA / "realtimeqa"
BENCH_DIR = ROOT / ".newsqa-bench"


def realtimeqa_engine(**overrides: object) -> Engine:
    """An engine over the RealTime QA corpus (ingested once into .newsqa-bench/realtimeqa, then reused)."""
    settings = Settings(data_dir=BENCH_DIR / "realtimeqa", **overrides)  # type: ignore[arg-type]
    engine = Engine(settings)
    if engine.store.counts()["articles"] == 0:
        t = time.perf_counter()
        report = engine.ingest_paths([RTQA / "corpus.json"])
        print(
            f"ingested corpus: {report.ingested} articles, {report.chunks} chunks, {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )
    engine.warm_up()
    return engine


def realtimeqa_questions(engine: Engine | None = None) -> list[dict]:
    """Questions with their as-of time and the ids of their gold articles. With ``engine``, gold ids are
    looked up in its store by canonical URL (so a store built by an older version still matches)."""
    by_url = {canonical_url(a.url): a.id for a, _ in engine.store.list_articles() if a.url} if engine else {}
    out = []
    for q in json.loads((RTQA / "questions.json").read_text()):
        gold = {by_url.get(canonical_url(u)) or article_id(u, None, None, "") for u in q["gold_urls"]}
        out.append({**q, "as_of": parse_date(q["question_date"], end_of_day=True), "gold_ids": gold})
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
