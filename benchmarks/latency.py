"""Warm-process latency of search and ask (extractive) over the RealTime QA corpus.

Each RealTime QA question is searched / asked once as of its question date, after a warm-up pass; prints
p50 and p95 in milliseconds (``evals.metrics.percentile``, interpolated, as the eval reports print them) as
the Markdown table of docs/measurements.md.

    python -m benchmarks.latency [--store DIR]
"""

from __future__ import annotations

import argparse
import time

from benchmarks._common import Question, add_store_argument, realtimeqa_engine, realtimeqa_questions
from evals.metrics import percentile
from rag.types import Filters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_store_argument(parser)
    engine = realtimeqa_engine(parser.parse_args().store)
    questions = realtimeqa_questions(engine)
    for q in questions[:10]:  # warm-up: caches, allocator, first-call paths
        engine.ask(q.text, filters=Filters(as_of=q.as_of))

    def search(q: Question) -> object:
        return engine.search(q.text, filters=Filters(as_of=q.as_of))

    def ask(q: Question) -> object:
        return engine.ask(q.text, filters=Filters(as_of=q.as_of))

    print("| operation | n | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for name, op in [("search", search), ("ask", ask)]:
        times = []
        for q in questions:
            t = time.perf_counter()
            op(q)
            times.append((time.perf_counter() - t) * 1000)
        p50, p95 = percentile(times, 50) or 0.0, percentile(times, 95) or 0.0
        print(f"| {name} | {len(times)} | {p50:.1f} | {p95:.1f} | {max(times):.1f} |")


if __name__ == "__main__":
    main()
