"""One code tree in one process, for before/after runs of two checkouts side by side (docs/measurements.md, "One run").

The tree measured is the one on ``PYTHONPATH`` (this file imports no other module of this repository), so the
same driver runs against a checkout that predates it: ``Engine`` from ``ingest.engine`` (now) or ``rag.engine``
(up to 14638dd). Run it by path, with the tree first on the path and a data dir of the realistic store (sample +
RealTime QA, a copy: ``fresh`` writes to it)::

    PYTHONPATH=<tree> python <this file> latency STORE   # warm search / ask p50/p95 ms, this process's RSS
    PYTHONPATH=<tree> python <this file> fresh STORE 3   # commit in another process -> searchable here, s

``latency``: the engine opened and warmed, 10 asks to warm up, then each of the 206 RealTime QA questions
(``question_sentence``, as of the end of its question date) searched, then asked, once; interpolated
percentiles; RSS, its peak and its anonymous part at the end. ``fresh``: this process opens the engine and
searches once; then N times a writer process (same tree, real embedder) ingests one article holding a unique
marker word and reports the wall time after its ingest returned; this process then searches the marker until a
hit holds it (at most 120 s). The questions are read from ``$NEWSQA_EVAL_DATA_DIR/realtimeqa`` (default
``/work/shared/data``). The shared venv's editable install maps the packages to one checkout: put a
``sitecustomize`` that drops its finder from ``sys.meta_path`` ahead of the tree on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

try:
    from ingest.engine import Engine  # HEAD
    from rag.text.dates import parse_date
except ImportError:
    from rag.dates import parse_date  # 14638dd

    from rag.engine import Engine
from ingest.readers.jsonl import record_to_document
from rag.settings import Settings
from rag.types import Filters

RTQA = Path(os.environ.get("NEWSQA_EVAL_DATA_DIR", "/work/shared/data")) / "realtimeqa"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def rss() -> dict[str, float]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM", "RssAnon")):
            k, v = line.split(":")
            out[k] = round(int(v.split()[0]) / 1024)
    return out


def questions() -> list[tuple[str, object]]:
    qs = json.loads((RTQA / "questions.json").read_text())
    return [(q["question_sentence"], parse_date(q["question_date"], end_of_day=True)) for q in qs]


def engine(store: str) -> Engine:
    e = Engine(Settings(data_dir=Path(store)))
    e.warm_up()
    return e


def latency(store: str) -> None:
    t = time.perf_counter()
    e = engine(store)
    cold = time.perf_counter() - t
    qs = questions()
    for q, a in qs[:10]:
        e.ask(q, filters=Filters(as_of=a))
    res = {"code": sys.modules[Engine.__module__].__file__, "open_warm_s": round(cold, 1)}
    for name in ("search", "ask"):
        op = getattr(e, name)
        ts = []
        for q, a in qs:
            t = time.perf_counter()
            op(q, filters=Filters(as_of=a))
            ts.append((time.perf_counter() - t) * 1000)
        res[name] = [round(pct(ts, 50)), round(pct(ts, 95))]
    res["rss_mb"] = rss()
    res["loadavg"] = os.getloadavg()
    print(json.dumps(res))


def writer(store: str, word: str) -> None:
    e = Engine(Settings(data_dir=Path(store)))
    rec = random.Random(word).choice(json.loads((RTQA / "corpus.json").read_text()))
    body = f"{word} reported. " + " ".join(str(rec.get("text", "")).split()[:150]) + f" {word} again."
    doc = record_to_document(
        {"title": f"{word} report", "text": body, "url": f"https://example.org/{word}", "date": "2026-12-01"}, word
    )
    print("ready", flush=True)
    sys.stdin.readline()
    e.ingest_documents([doc])
    print(time.time(), flush=True)


def fresh(store: str, n: int) -> None:
    e = engine(store)
    e.search("election results", filters=None)
    out = []
    for _ in range(n):
        word = "zq" + uuid.uuid4().hex[:10]
        p = subprocess.Popen(
            [sys.executable, __file__, "writer", store, word], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert p.stdout.readline().strip() == "ready"
        p.stdin.write("go\n")
        p.stdin.flush()
        committed = float(p.stdout.readline())
        p.wait()
        searches = 0
        while True:
            searches += 1
            hits = e.search(word)
            if any(word in h.text for h in hits):
                break
            if time.time() - committed > 120:
                break
        out.append({"s": round(time.time() - committed, 2), "searches": searches})
    print(json.dumps({"fresh": out, "rss_mb": rss(), "loadavg": os.getloadavg()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = parser.add_subparsers(dest="mode", required=True)
    modes.add_parser("latency", help="warm search / ask p50/p95 ms and RSS").add_argument("store")
    fresh_args = modes.add_parser("fresh", help="a write in another process -> searchable here, s")
    fresh_args.add_argument("store")
    fresh_args.add_argument("writes", type=int)
    writer_args = modes.add_parser("writer", help="(internal) ingest one article holding a marker word")
    writer_args.add_argument("store")
    writer_args.add_argument("marker")
    args = parser.parse_args()
    if args.mode == "latency":
        latency(args.store)
    elif args.mode == "fresh":
        fresh(args.store, args.writes)
    else:
        writer(args.store, args.marker)


if __name__ == "__main__":
    main()
