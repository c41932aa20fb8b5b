"""Index freshness: how soon a write is searchable in another process, and search latency while writes go on,
before (every write -> the next search rebuilds the whole snapshot) and after (base + delta, rag.bm25.live),
side by side in one run.

Run from the repository root: ``python -m benchmarks.index_freshness [--store DIR]`` (~10 min). The realistic
store (sample + RealTime QA, 9,874 chunks; see ``benchmarks._common``) is copied once per mode into a
temporary directory (the original is never written), without its saved BM25 base. Per mode, a writer process
(``--writer``, the ``hash:384`` embedder, so its cost is the index's, not the model's) ingests while this
process searches with the real embedder: it learns of writes only through the store. Written articles are
sentences drawn at random from the corpus with a unique marker word; "searchable" means a search for the
marker returns the article. "before" is ``Bm25Index(incremental=False)``: the old rebuild on the query path.

- one article: commit in the writer -> a search here finds it (the reader searches from before the commit;
  median of 3);
- 100 articles in one ingest: commit -> the last of them is found;
- search latency during writes: one article every 0.5 s for 20 s while this process searches article titles
  in a closed loop.

Measured 2026-12-01 (commit f1083f3) on the shared 2-core machine, load average 3-8 from other sessions
(an earlier run, commit 33f639c, gave the same picture: 32.2 s -> 0.17 s, 29.0 s -> 0.51 s, p95 21.5 s -> 0.6 s):

| | before | after |
|---|---|---|
| cold start, no saved base (s) | 11.2 | 10.6 |
| search, no writes: p50 / p95 (ms) | 57 / 90 | 51 / 64 |
| 1 article: commit -> searchable (s, median of 3) | 19.1 | 0.11 |
| 100 articles: commit -> last searchable (s) | 27.8 | 0.48 |
| search during writes: p50 / p95 / max (ms) | 89 / 24,800 / 24,800 | 103 / 731 / 1,810 |
| searches during the 20 s of writes (articles written) | 10 (15) | 104 (18) |
| bases built, incl. cold start | 6 | 1 |
| searches that failed | 1 | 0 |

Before, a search after each write rebuilt the base on the query path (~20-25 s on the loaded machine; its full
read also failed in Chroma while the writer wrote: "Error finding id", retried, one search failed). After, the
first search after a write reads the write (texts and metadata; the worker reads its vectors through a fresh
Chroma client), and no base was built after the cold start.
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks._common import add_store_argument, realtimeqa_store
from ingest.engine import Engine
from ingest.readers import RawDocument
from rag.bm25 import Bm25Index
from rag.embedders import load_embedder
from rag.settings import Settings
from rag.types import Passage

LETTERS = "bcdfghjklmnpqrstvwxz"


def marker(mode: str, i: int) -> str:
    """A word no article holds, unchanged by the stemmer (consonants only)."""
    word = ""
    i += 1
    while i:
        i, r = divmod(i, len(LETTERS))
        word += LETTERS[r]
    return f"qzv{mode[0]}{word}x"


class Corpus:
    """Sentences of the store's articles, for new articles that read like news but are no one's copy."""

    def __init__(self, engine: Engine, seed: int = 15) -> None:
        rng = random.Random(seed)
        listed = [a.id for a, _ in engine.store.list_articles()]
        self.sentences: list[str] = []
        for aid in rng.sample(listed, min(200, len(listed))):
            text = engine.store.get_article(aid).text
            self.sentences += [s.strip() + "." for s in text.split(". ") if 40 < len(s) < 300]
        self.titles = [engine.store.get_article(aid).title or "" for aid in rng.sample(listed, 40)]
        self.rng = rng

    def article(self, mode: str, i: int) -> tuple[str, str]:
        """Title and text of a new article whose marker word is its title's first word."""
        word = marker(mode, i)
        body = " ".join([f"The {word} report was filed today.", *self.rng.sample(self.sentences, 14)])
        return f"{word} report {i}", body


ERRORS: dict[str, int] = {}  # mode -> searches that raised (Chroma read while another process writes)


def search(reader: Engine, query: str, k: int, mode: str) -> list[Passage]:
    """``reader.search``; a search that raises is counted in ``ERRORS`` and returns nothing."""
    try:
        return reader.search(query, k=k)
    except Exception:
        ERRORS[mode] = ERRORS.get(mode, 0) + 1
        return []


def found(reader: Engine, title: str, mode: str) -> bool:
    return any(p.title == title for p in search(reader, title.split()[0], 5, mode))


class Writer:
    """The writing engine in its own process (``--writer``): articles in as JSON lines, commit times out."""

    def __init__(self, data: Path) -> None:
        cmd = [sys.executable, "-m", "benchmarks.index_freshness", "--writer", str(data)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(x) for x in self.proc.stdout or []], daemon=True).start()
        self.ready = self.result(600)

    def send(self, **command: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def result(self, timeout: float = 600) -> dict[str, float]:
        return dict(json.loads(self.lines.get(timeout=timeout)))

    def close(self) -> None:
        self.send(stop=True)
        self.proc.wait(60)


def writer_loop(data: Path) -> None:
    """``--writer``: ingest what stdin asks (``docs``: a batch; ``stream``: one article every 0.5 s for that many
    seconds), print the commit time (``time.time()``) of each command as a JSON line."""
    engine = Engine(Settings(data_dir=data, embed_model="hash:384"), embedder=load_embedder("hash:384"))
    print(json.dumps({"ready": time.time()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("stop"):
            return
        docs = [RawDocument(text=t, origin=title, title=title, source="Bench Wire") for title, t in command["docs"]]
        if "stream" in command:
            end, n = time.time() + float(command["stream"]), 0
            while time.time() < end and n < len(docs):
                engine.ingest_documents([docs[n]])
                n += 1
                time.sleep(0.5)
            print(json.dumps({"committed": time.time(), "written": n}), flush=True)
        else:
            t = time.perf_counter()
            engine.ingest_documents(docs)
            print(json.dumps({"committed": time.time(), "ingest_s": time.perf_counter() - t}), flush=True)


def until_found(reader: Engine, writer: Writer, title: str, mode: str, timeout: float = 300.0) -> float:
    """Search for ``title`` from before its write is committed until found; seconds from commit to found."""
    start = time.perf_counter()
    while not found(reader, title, mode):
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"error: {title!r} was not searchable after {timeout:.0f} s")
    found_at = time.time()
    return found_at - writer.result()["committed"]


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    s = sorted(latencies)
    return 1000 * s[len(s) // 2], 1000 * s[min(int(len(s) * 0.95), len(s) - 1)], 1000 * s[-1]


def run_mode(mode: str, store: Path, tmp: Path, write_seconds: float) -> dict[str, float]:
    data = tmp / mode
    shutil.copytree(store, data)
    for saved in (data / "cache").glob("bm25-*"):  # both modes start without a saved base: a cold build
        shutil.rmtree(saved) if saved.is_dir() else saved.unlink()
    settings = Settings(data_dir=data)
    reader = Engine(settings)
    reader.__dict__["bm25"] = Bm25Index(
        reader.store,
        settings.cache_dir,
        settings.collection,
        settings.memory_dense_max_chunks,
        incremental=mode == "after",
    )
    reader.embedder.embed(["warm up"])
    t = time.perf_counter()
    reader.bm25.current()  # cold start: a build in both modes
    out: dict[str, float] = {"cold start (s)": time.perf_counter() - t}
    corpus = Corpus(reader)
    idle = []
    for i in range(40):
        t = time.perf_counter()
        search(reader, corpus.titles[i % len(corpus.titles)], 8, mode)
        idle.append(time.perf_counter() - t)
    out["search, no writes: p50 (ms)"], out["search, no writes: p95 (ms)"], _ = percentiles(idle)
    writer = Writer(data)

    singles = []
    for i in range(3):
        title, text = corpus.article(mode, i)
        writer.send(docs=[[title, text]])
        singles.append(until_found(reader, writer, title, mode))
    out["1 article: commit -> searchable (s, median of 3)"] = statistics.median(singles)

    batch = [corpus.article(mode, 100 + i) for i in range(100)]
    writer.send(docs=[[title, text] for title, text in batch])
    out["100 articles: commit -> last searchable (s)"] = until_found(reader, writer, batch[-1][0], mode)
    assert found(reader, batch[0][0], mode), "the first of the 100 articles is not searchable"

    stream = [corpus.article(mode, 1000 + i) for i in range(int(write_seconds / 0.5) + 1)]
    writer.send(docs=[[title, text] for title, text in stream], stream=write_seconds)
    during, n = [], 0
    while writer.lines.empty():
        t = time.perf_counter()
        search(reader, corpus.titles[n % len(corpus.titles)], 8, mode)
        during.append(time.perf_counter() - t)
        n += 1
    written = writer.result()["written"]
    writer.close()
    out["search during writes: n searches"] = len(during)
    out["search during writes: articles written"] = written
    p50, p95, top = percentiles(during)
    out["search during writes: p50 (ms)"], out["search during writes: p95 (ms)"] = p50, p95
    out["search during writes: max (ms)"] = top
    out["bases built (incl. cold start)"] = reader.bm25.builds
    out["searches that failed"] = ERRORS.get(mode, 0)
    reader.bm25.wait_idle(300)
    shutil.rmtree(data, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_store_argument(parser)
    parser.add_argument("--write-seconds", type=float, default=20.0, help="length of the writes-while-searching run")
    parser.add_argument("--writer", type=Path, default=None, help=argparse.SUPPRESS)  # the writing process
    args = parser.parse_args()
    if args.writer is not None:
        writer_loop(args.writer)
        return
    store = realtimeqa_store(args.store)
    with tempfile.TemporaryDirectory(prefix="freshness-") as tmp:
        results = {mode: run_mode(mode, store, Path(tmp), args.write_seconds) for mode in ("before", "after")}
    width = max(len(k) for k in results["before"])
    print(f"{'':{width}}  {'before':>10}  {'after':>10}")
    for key in results["before"]:
        b, a = results["before"][key], results["after"][key]
        print(f"{key:{width}}  {b:>10.3g}  {a:>10.3g}")


if __name__ == "__main__":
    main()
