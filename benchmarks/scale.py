"""Scale simulation: stores of 100k to 1M chunks built without the embedder, and what search, memory, writes
and disk cost at each size (issue 15 item 4; figures and the design's limits in docs/deploy.md).

The store is the realistic one (sample + RealTime QA, 925 articles, 9,874 chunks; ``--source``) copied over
and over: every copy of an article gets a new id, the same text and metadata, and each chunk vector is its
real MiniLM vector plus gaussian noise (sigma 0.015 per dimension, cosine ~0.98 to the original), renormalised,
so Chroma's HNSW graph sees a realistic, not degenerate, neighbourhood. Chunks and article records go
straight into Chroma (no embedder, no ingest pipeline); ``--build-only`` stops there.

Then a fresh process (``--measure``, so its RSS is its own) opens the store as a server worker would and
reports: cold start (model + lexical index load or build), search p50/p95 over the RealTime QA questions --
dense through Chroma's HNSW (``ChromaStore.dense_search``, query embedding excluded), lexical through the
current lexical index (``Retriever.search(signals=("bm25",))``), hybrid (``Engine.search``) -- and its RSS;
then another process ingests 1,000 new articles (sentences drawn from the corpus plus one marker word each,
through the real pipeline with the ``hash:384`` embedder, so it costs everything but the model: add
~10,700 chunks / 20 chunks/s for MiniLM on 2 cores) and the reader searches for the last marker until it is
found (time until searchable in another process). ``--server`` repeats the search part against
``chroma run`` on 127.0.0.1 over the same files (NEWSQA_CHROMA_URL: dense search through the HTTP client).

Measured at 100k chunks (commit 35d896f, busy shared machine; all rows in docs/deploy.md): 1.5 GB of disk,
reader RSS 1.8 GB, dense p50 54 ms (38 ms through ``chroma run``), hybrid p50 227 ms, 1,000 articles added in
997 s and searchable 393 s later (the pre-incremental rebuild on the query path). At 1M chunks (commit
349612d, session 7): built in 1,821 s, 15 GB of disk, dense p50 45 ms, lexical 56 ms, hybrid 3.7 s (Chroma's
date-filtered vector query), 1,000 articles added in 452 s and searchable 19.8 s later.

    python -m benchmarks.scale --chunks 100000 [--source DIR] [--out DIR] [--server] [--build-only]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import realtimeqa_questions
from evals.metrics import percentile
from rag.settings import Settings
from rag.store import ChromaStore

NOISE = 0.015
BATCH = 4000
ADD_ARTICLES = 1000
HASH_MODEL = "hash:384"  # the product's plumbing embedder: ingest costs everything but the model


def _source(src: Path) -> tuple[dict[str, list[tuple[str, str, dict[str, Any], np.ndarray]]], dict[str, Any]]:
    """Chunks grouped by article (id, text, metadata, vector) and article records (text, metadata, vector)."""
    store = ChromaStore(Settings(data_dir=src))
    ids, docs, metas, vecs = store.all_chunks(with_vectors=True)
    by_article: dict[str, list[tuple[str, str, dict[str, Any], np.ndarray]]] = defaultdict(list)
    for cid, doc, meta, vec in zip(ids, docs, metas, vecs, strict=True):
        by_article[meta["article_id"]].append((cid, doc, meta, vec))
    got = store.articles.get(include=["documents", "metadatas", "embeddings"])
    texts, records, vectors = got["documents"] or [], got["metadatas"] or [], got["embeddings"]
    articles = {
        aid: (doc, dict(meta), np.asarray(vec, dtype=np.float32))
        for aid, doc, meta, vec in zip(
            got["ids"], texts, records, list(vectors if vectors is not None else []), strict=True
        )
    }
    return by_article, articles


def _noisy(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = vectors + rng.normal(0.0, NOISE, vectors.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def build(src: Path, out: Path, n_chunks: int) -> dict[str, Any]:
    """Copies of the source store's articles until ``n_chunks`` chunks, written straight into Chroma."""
    marker = out / "scale-build.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    by_article, articles = _source(src)
    store = ChromaStore(Settings(data_dir=out))
    rng = np.random.default_rng(15)
    order = sorted(by_article)
    t0 = time.perf_counter()
    written = n_articles = copy = 0
    ids: list[str] = []
    docs: list[str] = []
    metas: list[dict[str, Any]] = []
    vecs: list[np.ndarray] = []
    a_ids: list[str] = []
    a_docs: list[str] = []
    a_metas: list[dict[str, Any]] = []
    a_vecs: list[np.ndarray] = []

    def flush() -> None:
        if ids:
            store.chunks.add(
                ids=list(ids), documents=list(docs), metadatas=list(metas), embeddings=_noisy(np.stack(vecs), rng)
            )  # type: ignore[arg-type]
        if a_ids:
            store.articles.add(
                ids=list(a_ids), documents=list(a_docs), metadatas=list(a_metas), embeddings=np.stack(a_vecs)
            )  # type: ignore[arg-type]
        for buf in (ids, docs, metas, vecs, a_ids, a_docs, a_metas, a_vecs):
            buf.clear()

    while written < n_chunks:
        for aid in order:
            if written >= n_chunks:
                break
            new_id = f"{aid}-s{copy}"
            for cid, doc, meta, vec in by_article[aid]:
                ids.append(f"{cid}-s{copy}")
                docs.append(doc)
                metas.append({**meta, "article_id": new_id})
                vecs.append(vec)
            written += len(by_article[aid])
            if aid in articles:
                text, meta, vec = articles[aid]
                a_ids.append(new_id)
                a_docs.append(text)
                a_metas.append({**meta, "article_id": new_id})
                a_vecs.append(vec)
                n_articles += 1
            if len(ids) >= BATCH:
                flush()
                print(f"  {written:,} chunks, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        copy += 1
    flush()
    store.bump_generation()
    report = {"chunks": written, "articles": n_articles, "build_s": round(time.perf_counter() - t0, 1)}
    marker.write_text(json.dumps(report))
    return report


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak, in MB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def _timed(fn: Any, items: list[Any]) -> tuple[float, float]:
    times = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - t) * 1000)
    return percentile(times, 50) or 0.0, percentile(times, 95) or 0.0


def new_articles(src: Path, path: Path, n: int = ADD_ARTICLES, tag: str = "") -> str:
    """``n`` new articles of 14 sentences drawn from the whole corpus (no near-duplicate of any one article),
    each with a marker word; returns the last article's marker."""
    _, articles = _source(src)
    sentences = [s for text, _, _ in articles.values() for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 40]
    rng = random.Random(f"15{tag}")  # another tag, other sentences: not near-duplicates of a past run
    records = []
    for i in range(n):
        marker = f"zqscale{tag}{i:04d}x"
        body = " ".join(rng.sample(sentences, 14))
        records.append(
            {
                "title": f"Scale test {marker}",
                "text": f"{body} The code word is {marker}.",
                "publish_date": "2026-11-30",
                "url": f"https://example.org/scale/{tag}{i}",
            }
        )
    path.write_text(json.dumps(records))
    return f"zqscale{tag}{n - 1:04d}x"


def write_main(data_dir: Path, corpus: Path, chroma_url: str | None) -> dict[str, Any]:
    """Writer process: ingest ``corpus`` with the hash embedder; returns its time and when it finished."""
    from ingest.engine import Engine

    engine = Engine(Settings(data_dir=data_dir, chroma_url=chroma_url, embed_model=HASH_MODEL))
    t = time.perf_counter()
    report = engine.ingest_paths([corpus])
    return {
        "add_s": round(time.perf_counter() - t, 1),
        "added": report.ingested,
        "added_chunks": report.chunks,
        "done_at": time.time(),
    }


def measure_main(data_dir: Path, chroma_url: str | None, add: Path | None, marker: str) -> dict[str, Any]:
    """Reader process: cold start, search p50/p95 per path, RSS; then time-to-searchable of a write elsewhere."""
    from ingest.engine import Engine
    from rag.types import Filters

    t = time.perf_counter()
    engine = Engine(Settings(data_dir=data_dir, chroma_url=chroma_url))
    engine.warm_up()
    out: dict[str, Any] = {"cold_s": round(time.perf_counter() - t, 1), "rss_cold_mb": rss_mb()}
    print(f"  so far: {out}", file=sys.stderr, flush=True)  # a 1M-chunk run takes long: keep what it measured
    questions = [q.text for q in realtimeqa_questions()]
    vectors = [engine.embedder.embed([q])[0] for q in questions]
    for q in questions[:5]:
        engine.search(q)
    n = engine.settings.candidates
    out["dense_ms"] = _timed(lambda v: engine.store.dense_search(v, n, None), vectors)
    out["lexical_ms"] = _timed(lambda q: engine.retriever.search(q, signals=("bm25",)), questions)
    out["hybrid_ms"] = _timed(engine.search, questions)
    out["rss_mb"] = rss_mb()
    print(f"  so far: {out}", file=sys.stderr, flush=True)
    if add is not None:
        cmd = [sys.executable, "-m", "benchmarks.scale", "--write", str(data_dir), str(add)]
        if chroma_url:
            cmd += ["--chroma-url", chroma_url]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        out.update(json.loads(done.stdout.strip().splitlines()[-1]))
        first = None
        while True:
            t = time.perf_counter()
            hits = engine.search(f"code word {marker}", k=3, filters=Filters())
            first = first if first is not None else round(time.perf_counter() - t, 2)
            if any(marker in h.text for h in hits):
                break
            if time.time() - out["done_at"] > 1800:
                raise SystemExit(f"error: the new articles were not searchable after 30 min in {data_dir}")
        out["searchable_s"] = round(time.time() - out.pop("done_at"), 2)
        out["first_search_after_write_s"] = first
        out["rss_after_add_mb"] = rss_mb()
    return out


def _child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", *args], stdout=subprocess.PIPE, stderr=None, text=True, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"error: benchmarks.scale {' '.join(args)} failed (its error is above)")
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"  {result}", file=sys.stderr, flush=True)  # every figure, including those the table leaves out
    return result


def chroma_server(path: Path, port: int) -> subprocess.Popen[bytes]:
    """``chroma run`` on 127.0.0.1 over ``path``, once it answers its heartbeat."""
    import httpx

    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"error: chroma run on port {port} did not answer within 600 s")


def proc_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def row(size: str, mode: str, b: dict[str, Any], m: dict[str, Any]) -> str:
    d, lx, hy = m["dense_ms"], m["lexical_ms"], m["hybrid_ms"]
    cells = [
        size,
        mode,
        f"{b['build_s']:.0f}",
        f"{b['disk_mb']:,.0f}",
        f"{m['cold_s']:.1f}",
        f"{d[0]:.0f} / {d[1]:.0f}",
        f"{lx[0]:.0f} / {lx[1]:.0f}",
        f"{hy[0]:.0f} / {hy[1]:.0f}",
        f"{m['rss_mb'][0]:,.0f} (peak {m['rss_mb'][1]:,.0f})",
    ]
    cells += [f"{m['add_s']:.0f}" if "add_s" in m else "-", f"{m['searchable_s']:.1f}" if "searchable_s" in m else "-"]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000, help="store size in chunks")
    parser.add_argument(
        "--source",
        type=Path,
        default=Path(os.environ.get("NEWSQA_BENCH_STORE", "/work/cache/bench-store")),
        help="the realistic store to copy (read only)",
    )
    parser.add_argument("--out", type=Path, default=None, help="where to build (default /tmp/newsqa-scale-<chunks>)")
    parser.add_argument("--server", action="store_true", help="also search through `chroma run` on 127.0.0.1")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--add-articles", type=int, default=ADD_ARTICLES, help="articles written (0 = no write)")
    parser.add_argument("--tag", default="", help="letters that make this run's new articles differ from a past run's")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--add", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--marker", default="", help=argparse.SUPPRESS)
    parser.add_argument("--chroma-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        print(json.dumps(write_main(args.write[0], args.write[1], args.chroma_url)))
        return
    if args.measure:
        print(json.dumps(measure_main(args.measure, args.chroma_url, args.add, args.marker)))
        return
    out = args.out or Path(f"/tmp/newsqa-scale-{args.chunks}")
    b = build(args.source, out, args.chunks)
    b["disk_mb"] = disk_mb(out / "chroma")
    print(f"built {out}: {b}", file=sys.stderr, flush=True)
    if args.build_only:
        return
    size = f"{b['chunks']:,}"
    header = (
        "| chunks | chroma | build s | disk MB | cold start s | dense p50/p95 ms | lexical p50/p95 ms "
        "| hybrid p50/p95 ms | reader RSS MB | add N articles s | searchable after s |"
    )
    print(header + "\n|" + "---|" * (header.count("|") - 1), flush=True)
    extra: list[str] = []
    if args.add_articles:
        corpus = out / f"new-articles{args.tag}.json"
        marker = new_articles(args.source, corpus, args.add_articles, args.tag)
        extra = ["--add", str(corpus), "--marker", marker]
    m = _child(["--measure", str(out), *extra])
    print(row(size, "embedded", b, m), flush=True)
    if args.server:
        from tests.fakes.ports import free_port

        port = free_port()
        proc = chroma_server(out / "chroma", port)
        try:
            cache = out / "server-client"
            m = _child(["--measure", str(cache), "--chroma-url", f"http://127.0.0.1:{port}"])
            print(row(size, f"server (chroma run RSS {proc_rss_mb(proc.pid):,.0f} MB)", b, m), flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
