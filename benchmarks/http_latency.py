"""Throughput and latency of ``POST /v1/ask`` against a running ``newsqa serve``, at 1, 8 and 32 clients.

A store of RealTime QA articles (by default the first 200, embedded once into
``.newsqa-bench/http-small-200``; ``--articles 0`` takes the realistic store of ``benchmarks/_common.py``,
``--data-dir`` an existing store) is served by a real uvicorn process on 127.0.0.1; ``wrk`` (Debian package,
installed when missing) sends the RealTime QA questions, each as of its question date, for a bounded time
per concurrency level. Prints requests/s, p50/p95/p99 latency,
errors (any non-2xx counts) and the server's resident memory.

    python -m benchmarks.http_latency [--articles 200] [--seconds 20] [--clients 1,8,32]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import BENCH_DIR, ROOT, realtimeqa_questions, realtimeqa_store, rtqa_dir
from ingest.engine import Engine
from rag.settings import Settings
from tests.fakes.ports import free_port

LUA = r"""
local questions = {%(questions)s}
local i = 0
request = function()
  i = i %% #questions + 1
  return wrk.format("POST", "/v1/ask", {["Content-Type"] = "application/json"}, questions[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%.1f %%.1f %%.1f %%.1f\n", summary.requests,
    e.connect + e.read + e.write + e.timeout, e.status, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def small_store(n: int) -> Path:
    """A store holding the first ``n`` corpus articles (0 = the realistic store), embedded once and reused."""
    if n == 0:
        return realtimeqa_store()
    data_dir = BENCH_DIR / f"http-small-{n}"
    engine = Engine(Settings(data_dir=data_dir))
    if engine.store.counts()["articles"] == 0:
        records = json.loads((rtqa_dir() / "corpus.json").read_text())
        with tempfile.TemporaryDirectory() as tmp:
            part = Path(tmp) / "corpus.json"
            part.write_text(json.dumps(records[:n]))
            t = time.perf_counter()
            report = engine.ingest_paths([part])
        print(f"indexed {report.ingested} articles ({report.chunks} chunks) in {time.perf_counter() - t:.0f} s")
    return data_dir


def rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def lua_script(path: Path) -> None:
    bodies = []
    for q in realtimeqa_questions():
        as_of = q.as_of.isoformat() if q.as_of else None
        body = json.dumps({"question": q.text, "filters": {"as_of": as_of}})
        bodies.append(json.dumps(body))  # a JSON string literal is a valid Lua string literal here
    path.write_text(LUA % {"questions": ",\n".join(bodies)})


def run_wrk(base: str, script: Path, clients: int, seconds: int) -> dict[str, float]:
    threads = min(clients, 2)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "60s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    n, io_errors, status_errors, secs, p50, p95, p99 = (float(x) for x in line.split()[1:])
    return {"requests": n, "errors": io_errors + status_errors, "rps": n / secs, "p50": p50, "p95": p95, "p99": p99}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200, help="corpus articles to index (0 = the realistic store)")
    parser.add_argument("--data-dir", type=Path, help="serve this existing store instead")
    parser.add_argument("--seconds", type=int, default=20, help="load time per concurrency level")
    parser.add_argument("--clients", default="1,8,32", help="concurrency levels")
    parser.add_argument("--threads", type=int, default=4, help="NEWSQA_HTTP_ENGINE_THREADS of the server")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows when piped to a file
    if shutil.which("wrk") is None:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )

    data_dir = args.data_dir or small_store(args.articles)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSQA_")}
    env.update(NEWSQA_DATA_DIR=str(data_dir), NEWSQA_HTTP_ENGINE_THREADS=str(args.threads), HF_HUB_OFFLINE="1")
    log = open(BENCH_DIR / "http_latency_server.log", "wb")  # noqa: SIM115 (lives as long as the server)
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(600):
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        ready = httpx.get(f"{base}/readyz").json()
        print(
            f"server ready: {ready['articles']} articles, {ready['chunks']} chunks; "
            f"engine threads {args.threads}; RSS {rss_mb(server.pid)[0]:.0f} MB"
        )
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "ask.lua"
            lua_script(script)
            run_wrk(base, script, 2, 5)  # warm-up
            print(
                f"{'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
                f"{'p99 ms':>8} {'RSS MB':>7}"
            )
            for clients in (int(c) for c in args.clients.split(",")):
                r = run_wrk(base, script, clients, args.seconds)
                rss, peak = rss_mb(server.pid)
                print(
                    f"{clients:>7} {r['requests']:>8.0f} {r['errors']:>6.0f} {r['rps']:>7.1f} {r['p50']:>8.1f} "
                    f"{r['p95']:>8.1f} {r['p99']:>8.1f} {rss:>7.0f}"
                )
            print(f"server peak RSS {peak:.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    main()
