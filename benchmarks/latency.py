"""Warm-process latency of search and ask (extractive) over the RealTime QA corpus.

Each question's `question_sentence` is searched / asked once as of its question date, after a warm-up
pass; prints p50 and p95 in milliseconds.
"""

from __future__ import annotations

import time

from _common import percentile, realtimeqa_engine, realtimeqa_questions

from rag.types import Filters


def main() -> None:
    engine = realtimeqa_engine()
    questions = realtimeqa_questions(engine)
    for q in questions[:10]:  # warm-up: caches, allocator, first-call paths
        engine.ask(q["question_sentence"], filters=Filters(as_of=q["as_of"]))
    for name, op in [
        ("search", lambda q: engine.search(q["question_sentence"], filters=Filters(as_of=q["as_of"]))),
        ("ask", lambda q: engine.ask(q["question_sentence"], filters=Filters(as_of=q["as_of"]))),
    ]:
        times = []
        for q in questions:
            t = time.perf_counter()
            op(q)
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"{name:6} n={len(times)}  p50 {percentile(times, 50):6.1f} ms  p95 {percentile(times, 95):6.1f} ms  "
            f"max {max(times):6.1f} ms"
        )


if __name__ == "__main__":
    main()
