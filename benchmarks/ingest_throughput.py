"""Ingest throughput (chunks/s) beside the raw throughput of the embedding model on the same chunks.

Both are measured in the same run on the first N RealTime QA articles: first the whole pipeline (read,
clean, chunk, embed, write to a fresh Chroma store), then the model alone embedding exactly the texts the
pipeline embedded, with the same batch size.

    python -m benchmarks.ingest_throughput [-n 120]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks._common import rtqa_dir
from ingest.engine import Engine
from ingest.readers import Failure, RawDocument
from ingest.readers.jsonl import record_to_document
from rag.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=120, help="number of articles")
    args = parser.parse_args()
    records = json.loads((rtqa_dir() / "corpus.json").read_text())[: args.n]
    docs: list[RawDocument | Failure] = [record_to_document(r, f"corpus.json#{i}") for i, r in enumerate(records)]
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Settings(data_dir=Path(tmp)))
        engine.warm_up()
        t = time.perf_counter()
        report = engine.ingest_documents(docs)
        pipeline_s = time.perf_counter() - t
        _, texts, metas, _ = engine.store.all_chunks()
        embedded = [f"{m['title']}\n{d}" if m.get("title") else d for d, m in zip(texts, metas, strict=True)]
        t = time.perf_counter()
        engine.embedder.embed(embedded)
        raw_s = time.perf_counter() - t
    chunks = report.chunks
    print(f"articles {report.ingested}, chunks {chunks}")
    print(f"pipeline      {chunks / pipeline_s:7.1f} chunks/s  ({pipeline_s:.1f} s)")
    print(f"model alone   {chunks / raw_s:7.1f} chunks/s  ({raw_s:.1f} s)")
    print(f"pipeline / model = {raw_s / pipeline_s:.0%}")


if __name__ == "__main__":
    main()
