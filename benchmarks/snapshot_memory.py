"""What the lexical snapshot costs a serving process in memory and search time: the eager load (every text,
metadata dict and vector read into the process, up to format 6) against the memory-mapped one (format 7:
texts and metadata read per chunk from ``.npy`` columns, vectors and BM25 scores memory-mapped), in one run.

Each variant runs the engine's own code: the old one is ``rag/`` of ``--before`` (``git archive``, default the
last commit with the eager load), the new one this checkout's, each in a temporary data dir whose ``chroma/``
is a symlink to the store's (Chroma opens it as usual: point ``--store`` at a copy) and whose cache is its
own, so neither discards the other's snapshot and the store's own cache is left alone. A first process
builds and saves the snapshot; a fresh one then opens the engine as a server worker would (embedder loaded,
store open), loads the snapshot, and runs ``--searches`` hybrid searches (the RealTime QA questions,
cycled): RSS before and after the load and after the searches, with its anonymous part, which no other
process shares (the file-backed pages of a memory-mapped file are the page cache's: one copy for all
workers, and the kernel can drop them), and search p50/p95 in wall time and in the process's CPU time (all
threads; less sensitive to a busy shared machine). ``--rounds`` alternates the variants' measuring
processes, so a busy spell hits both.

    python -m benchmarks.snapshot_memory [--store DIR] [--searches N] [--rounds N] [--before REV]
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "06b1b1ce4a4e0c49abb54fbf11bd93570e62f09b"  # the last commit that loads the snapshot eagerly (format 6)


def memory_mb() -> dict[str, float]:
    """This process's resident memory (all, anonymous, file-backed) and its peak, in MB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    keys = {"rss": "VmRSS", "anon": "RssAnon", "file": "RssFile", "peak": "VmHWM"}
    return {k: int(status[v].split()[0]) / 1024 for k, v in keys.items()}


def child_main(data_dir: Path, questions_file: Path | None) -> dict[str, Any]:
    """In a fresh process: the engine opened as a server worker opens it, then the snapshot loaded (built and
    saved when there is none: the preparing run, without ``questions_file``), then the searches."""
    import rag
    from rag.engine import QueryEngine
    from rag.settings import Settings

    engine = QueryEngine(Settings(data_dir=data_dir))
    engine.query_embedder.embed(["warm up"])
    engine.store.generation()  # the store open
    gc.collect()
    out: dict[str, Any] = {"rag": str(Path(rag.__file__).parent), "before_load": memory_mb()}
    t = time.perf_counter()
    engine.bm25.current()
    out["load_s"] = time.perf_counter() - t
    out["builds"] = engine.bm25.builds
    gc.collect()
    out["after_load"] = memory_mb()
    if questions_file is not None:
        questions = json.loads(questions_file.read_text())
        wall, cpu = [], []
        for q in questions:
            t, c = time.perf_counter(), time.process_time()
            engine.search(q)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        out["search_ms"], out["search_cpu_ms"] = wall, cpu
        gc.collect()
        out["after_searches"] = memory_mb()
    return out


def _child(tree: Path, data_dir: Path, questions_file: Path | None) -> dict[str, Any]:
    """``child_main`` in a fresh process that imports ``rag`` from ``tree`` (run as a script: the working directory
    is not put on the path, so PYTHONPATH decides which ``rag`` it is)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(data_dir)]
    if questions_file is not None:
        cmd += ["--questions", str(questions_file)]
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["rag"]) != tree / "rag":
        raise SystemExit(f"error: the child imported {result['rag']}, not {tree / 'rag'}")
    return result


def _old_tree(rev: str, into: Path) -> Path:
    """``rag/`` as of ``rev``, extracted into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "rag"], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def _data_dir(store: Path, into: Path) -> Path:
    """A data dir reading ``store``'s Chroma files, with a cache (the snapshot) of its own."""
    into.mkdir()
    (into / "chroma").symlink_to((store / "chroma").resolve())
    return into


def _disk_mb(cache: Path) -> float:
    return sum(f.stat().st_size for f in cache.glob("bm25-*/**/*") if f.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=None, metavar="DIR", help="data dir of the store (chroma/)")
    parser.add_argument("--searches", type=int, default=206, help="hybrid searches after the load (default 206)")
    parser.add_argument("--rounds", type=int, default=1, help="measuring processes per variant, alternated")
    parser.add_argument("--before", default=BEFORE, help="the revision measured as 'eager' (default %(default).8s)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--questions", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_main(args.child, args.questions)))
        return

    from benchmarks._common import realtimeqa_questions, realtimeqa_store
    from evals.metrics import percentile

    store = realtimeqa_store(args.store)
    texts = [q.text for q in realtimeqa_questions()]
    with tempfile.TemporaryDirectory(prefix="snapshot-memory-") as tmp:
        work = Path(tmp)
        questions = work / "questions.json"
        questions.write_text(json.dumps([texts[i % len(texts)] for i in range(args.searches)]))
        variants = {
            f"eager ({args.before[:8]})": _old_tree(args.before, work / "old"),
            "memory-mapped (this checkout)": ROOT,
        }
        data_dirs = {}
        for i, (label, tree) in enumerate(variants.items()):
            data_dirs[label] = _data_dir(store, work / f"data-{i}")
            prepared = _child(tree, data_dirs[label], None)
            print(f"  {label}: snapshot built in {prepared['load_s']:.1f} s", file=sys.stderr, flush=True)
        rows = []
        for r in range(args.rounds):
            for label, tree in variants.items():
                m = _child(tree, data_dirs[label], questions)
                if m["builds"]:
                    raise SystemExit(f"error: {label} rebuilt its snapshot instead of loading it")
                print(
                    f"  {label}: {json.dumps({k: v for k, v in m.items() if not k.startswith('search')})}",
                    file=sys.stderr,
                )
                name = f"{label}, round {r + 1}" if args.rounds > 1 else label
                rows.append((name, m, _disk_mb(data_dirs[label] / "cache")))

    print(
        f"Store {store} ({args.searches} hybrid searches after the load; MB = 2^20 bytes; anon = the process's own,"
        " not shared with other workers)\n"
    )
    header = (
        "| snapshot | on disk MB | load s | RSS before load | RSS after load (+snapshot) | anon after load "
        f"| RSS after {args.searches} searches | anon after searches | search p50 / p95 ms | CPU ms p50 / p95 |"
    )
    print(header + "\n|" + "---|" * (header.count("|") - 1))
    for label, m, disk in rows:
        before, loaded, searched = m["before_load"], m["after_load"], m["after_searches"]
        wall, cpu = ((percentile(m[k], 50) or 0.0, percentile(m[k], 95) or 0.0) for k in ("search_ms", "search_cpu_ms"))
        print(
            f"| {label} | {disk:.0f} | {m['load_s']:.2f} | {before['rss']:.0f} "
            f"| {loaded['rss']:.0f} (+{loaded['rss'] - before['rss']:.0f}) | {loaded['anon']:.0f} "
            f"| {searched['rss']:.0f} | {searched['anon']:.0f} | {wall[0]:.1f} / {wall[1]:.1f} "
            f"| {cpu[0]:.1f} / {cpu[1]:.1f} |"
        )


if __name__ == "__main__":
    main()
