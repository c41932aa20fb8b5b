"""Before/after of the dense side on a store above ``NEWSQA_MEMORY_DENSE_MAX_CHUNKS``: two code trees, one store.

Each ``--tree`` (a checkout of this repository, e.g. the main worktree and a branch's) is measured in a fresh
process that imports that tree's code (``PYTHONPATH``) and opens the same store (one built by
``python -m benchmarks.scale --build-only``, never written here), the trees alternating for ``--rounds``. Each
process times, over ``--questions`` RealTime QA questions spread over the set: hybrid search (``Engine.search``)
and its dense side (``Retriever._chroma_dense`` where the tree has it, else ``ChromaStore.dense_search``; query
embedding excluded), once as of now (every chunk passes the date filter) and once as of each question's date (as
the evals ask), and counts the dense queries sent to Chroma with and without a filter; plus Chroma's unfiltered
query for 60 and 600 results, and its RSS (after the load; after each mode, now and peak). After each round it
prints how many searches returned the same passages, in the same order, as the first tree's. The first process
of a store without a saved lexical index builds it (its cold start says so).

    python -m benchmarks.dense_filter --store /tmp/newsqa-scale-250000 --tree /work/main --tree . [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import realtimeqa_questions
from evals.metrics import percentile
from rag.settings import Settings
from rag.types import Filters


def _p50_p95(times: list[float]) -> list[float]:
    return [round(percentile(times, 50) or 0.0), round(percentile(times, 95) or 0.0)]


def _rss_mb() -> list[int]:
    """This process's resident memory now and at its peak, in MB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return [int(status[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM")]


def child(store: Path, n_questions: int) -> dict[str, Any]:
    """One process of one tree: the timings above, as one JSON object."""
    import rag
    from ingest.engine import Engine

    t = time.perf_counter()
    engine = Engine(Settings(data_dir=store))
    engine.warm_up()
    out: dict[str, Any] = {"code": str(Path(rag.__file__).parent.parent), "cold_s": round(time.perf_counter() - t, 1)}
    out["chunks"] = int(engine.bm25.current().alive.sum())
    out["rss_mb_after_load"] = _rss_mb()
    questions = realtimeqa_questions()
    step = max(1, len(questions) // n_questions)
    questions = questions[::step][:n_questions]
    store_api, retriever = engine.store, engine.retriever
    sent = {"filtered": 0, "unfiltered": 0}
    send = store_api.dense_search

    def counted(vector: Any, n: int, where: Any) -> Any:
        sent["filtered" if where else "unfiltered"] += 1
        return send(vector, n, where)

    store_api.dense_search = counted  # type: ignore[method-assign]
    # The dense side, timed where each tree does it: the new code's method, or the old code's one Chroma call.
    owner, name = (retriever, "_chroma_dense") if hasattr(retriever, "_chroma_dense") else (store_api, "dense_search")
    dense_ms: list[float] = []
    inner = getattr(owner, name)

    def timed(*args: Any) -> Any:
        t = time.perf_counter()
        try:
            return inner(*args)
        finally:
            dense_ms.append((time.perf_counter() - t) * 1000)

    setattr(owner, name, timed)
    for q in questions[:3]:  # warm-up: caches, first-call paths
        engine.search(q.text)
    for mode in ("now", "as_of"):
        dense_ms.clear()
        sent.update(filtered=0, unfiltered=0)
        hybrid_ms, results = [], []
        for q in questions:
            filters = Filters(as_of=q.as_of) if mode == "as_of" else Filters()
            t = time.perf_counter()
            hits = engine.search(q.text, filters=filters)
            hybrid_ms.append((time.perf_counter() - t) * 1000)
            results.append([h.chunk_id for h in hits])
        out[mode] = {"hybrid_ms": _p50_p95(hybrid_ms), "dense_ms": _p50_p95(dense_ms), "chroma_queries": dict(sent)}
        out[mode]["rss_mb"] = _rss_mb()  # now, peak
        out[f"results_{mode}"] = results
        print(f"  {out}", file=sys.stderr, flush=True)
    vectors = [engine.embedder.embed([q.text])[0] for q in questions]
    for n in (60, 600):
        times = []
        for v in vectors:
            t = time.perf_counter()
            send(v, n, None)
            times.append((time.perf_counter() - t) * 1000)
        out[f"unfiltered_{n}_ms"] = _p50_p95(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="a data dir above the in-memory dense limit")
    parser.add_argument("--tree", type=Path, action="append", default=[], help="a code tree (repeat: before, after)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.store, args.questions)))
        return
    for r in range(args.rounds):
        results = []
        for tree in args.tree:
            tree = tree.resolve()
            env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--store", str(args.store)]
            done = subprocess.run(
                [*cmd, "--questions", str(args.questions)], cwd=tree, env=env, stdout=subprocess.PIPE, text=True
            )
            if done.returncode != 0:
                raise SystemExit(f"error: the measuring process of {tree} failed (its error is above)")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            result.update(round=r + 1, tree=str(tree), load_avg=[round(x, 2) for x in os.getloadavg()])
            results.append({mode: result.pop(f"results_{mode}") for mode in ("now", "as_of")})
            print(json.dumps(result), flush=True)
        for mode in ("now", "as_of"):  # the same top passages, in the same order, as the first tree's
            same = [sum(a == b for a, b in zip(results[0][mode], other[mode], strict=True)) for other in results[1:]]
            print(json.dumps({"round": r + 1, "mode": mode, "searches": args.questions, "same_as_first_tree": same}))


if __name__ == "__main__":
    main()
