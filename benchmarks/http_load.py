"""Closed-loop load on ``/v1/search`` and ``/v1/ask`` of a real ``newsqa serve``, at 1, 4 and 8 clients.

Issue 15 item 3 sets the targets on the RealTime QA store (sample + RealTime QA, 925 articles, 9,874 chunks):
``/v1/ask`` >= 30 req/s and ``/v1/search`` >= 100 req/s at 8 clients, 0 errors. Each of N client threads
(one keep-alive ``http.client`` connection each) sends the next request as soon as the previous one returns, for a
bounded time per level; the questions are the RealTime QA questions of ``newsqa eval realtimeqa``
(``evals.sets``), each asked as of its question date, in a fixed shuffled order per client. Prints one
Markdown row per worker count, endpoint and concurrency: requests, req/s, p50/p95 ms, errors (transport
errors and any non-2xx), the server's CPU time per request and its resident memory (all its processes).
CPU per request is what does not depend on the other load on a shared machine: on 2 idle cores the
ceiling is about 2,000 / (CPU ms per request) req/s.

The server runs on a copy of the store (serving writes lock files and caches) on 127.0.0.1 only; the load
generator shares the 2 cores with it, so these are lower bounds of what the server alone would do.

Measured (commit 07ec181, the shared machine at load average 8-10, table in docs/deploy.md): a search costs
~47 ms of server CPU and an ask ~185 ms, the HTTP layer a negligible share of that (``engine.search`` alone
~51 ms), so 2 cores cap them near 42 and 11 req/s, below the targets; at 8 clients ``--workers 2`` served
26.7 searches/s (p95 473 ms) and 3.9 asks/s against 10.9 and 2.6 with one worker, 0 errors.
Session 5 (quiet machine, this generator for both, ``--workers 2``, 8 clients), 8f2e730 -> 28064dc: /v1/search
57.1 -> 86.0 req/s (34 -> 22 ms CPU), /v1/ask 23.1 -> 31.1 req/s (85 -> 62 ms CPU); docs/deploy.md has the table.

    python -m benchmarks.http_load [--store DIR] [--workers 1,2] [--clients 1,4,8] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from benchmarks._common import add_store_argument, realtimeqa_questions, realtimeqa_store
from evals.metrics import percentile
from tests.fakes.ports import free_port

ENDPOINTS = ("search", "ask")


@dataclass
class Level:
    """What the clients of one level saw: latencies of 2xx responses in ms, and errors."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, ms: float, error: str = "") -> None:
        with self.lock:
            if error:
                self.errors += 1
                self.first_error = self.first_error or error
            else:
                self.latencies.append(ms)


def bodies(endpoint: str) -> list[dict[str, object]]:
    """One request body per RealTime QA question, as of its question date."""
    out: list[dict[str, object]] = []
    for q in realtimeqa_questions():
        filters = {"as_of": q.as_of.isoformat() if q.as_of else None}
        out.append(
            {"query": q.text, "filters": filters} if endpoint == "search" else {"question": q.text, "filters": filters}
        )
    return out


def client_loop(base: str, path: str, items: list[dict[str, object]], deadline: float, level: Level) -> None:
    """One closed-loop client: a keep-alive ``http.client`` connection, each body encoded once beforehand.

    The load generator shares the cores with the server, so it is kept light: httpx cost ~2.6 ms of this
    process's CPU per request (~12% of a search's server CPU), ``http.client`` ~0.8 ms."""
    url = urlsplit(base)
    encoded = [json.dumps(body).encode() for body in items]
    headers = {"Content-Type": "application/json"}
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    i = 0
    try:
        while time.monotonic() < deadline:
            body = encoded[i % len(encoded)]
            i += 1
            t = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read()
                ok = 200 <= response.status < 300
                error = "" if ok else f"HTTP {response.status}: {text[:200].decode(errors='replace')}"
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
                conn.close()  # reconnects on the next request
            level.record((time.perf_counter() - t) * 1000, error)
    finally:
        conn.close()


def run_level(base: str, endpoint: str, clients: int, seconds: float) -> tuple[Level, float]:
    """``clients`` closed-loop clients for ``seconds``; returns what they saw and the measured wall time."""
    items = bodies(endpoint)
    level = Level()
    t0 = time.monotonic()
    threads = []
    for c in range(clients):
        order = items[:]
        random.Random(c).shuffle(order)
        thread = threading.Thread(target=client_loop, args=(base, f"/v1/{endpoint}", order, t0 + seconds, level))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return level, time.monotonic() - t0


def tree_usage(pid: int) -> tuple[float, float]:
    """Resident memory (MB) and CPU time used so far (s) of a process and all its descendants."""
    rss_kb, ticks, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        try:
            rss_kb += int(Path(f"/proc/{p}/status").read_text().split("VmRSS:")[1].split()[0])
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (FileNotFoundError, IndexError):
            continue
    return rss_kb / 1024, ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(data_dir: Path, workers: int, log: Path, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """``newsqa serve --workers N`` on a free 127.0.0.1 port; yields its URL and pid once /readyz is 200."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "api.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    full_env = {
        **os.environ,
        "NEWSQA_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=Path.cwd(), env=full_env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        ready = 0
        while ready < workers * 3:  # several workers: readyz answered by each, probably, before we start
            if proc.poll() is not None:
                raise SystemExit(f"error: newsqa serve exited with {proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise SystemExit(f"error: newsqa serve not ready after 300 s; see {log}")
            try:
                ready += httpx.get(f"{base}/readyz", timeout=5).status_code == 200
            except httpx.TransportError:
                time.sleep(0.5)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def warm(base: str, endpoint: str, n: int = 6) -> None:
    """A few requests per worker so no level pays first-call costs."""
    for body in bodies(endpoint)[:n]:
        httpx.post(f"{base}/v1/{endpoint}", json=body, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_store_argument(parser)
    parser.add_argument("--workers", default="1,2", help="comma-separated `newsqa serve --workers` values")
    parser.add_argument("--clients", default="1,4,8", help="comma-separated concurrency levels")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each level")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS), help="search, ask or both")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra server setting")
    parser.add_argument("--label", default="", help="first column of every row (e.g. before/after)")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    source = realtimeqa_store(args.store)
    print("| run | workers | endpoint | clients | requests | req/s | p50 ms | p95 ms | errors | CPU ms/req | RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="newsqa-http-load-") as tmp:
        data_dir = Path(tmp) / "data"
        shutil.copytree(source, data_dir, ignore=shutil.ignore_patterns("*.lock"))
        for workers in [int(w) for w in args.workers.split(",")]:
            with serve(data_dir, workers, Path(tmp) / f"serve-{workers}.log", env) as (base, pid):
                for endpoint in args.endpoints.split(","):
                    warm(base, endpoint, 6 * workers)
                    for clients in [int(c) for c in args.clients.split(",")]:
                        cpu0 = tree_usage(pid)[1]
                        level, wall = run_level(base, endpoint, clients, args.seconds)
                        rss, cpu1 = tree_usage(pid)
                        lat = level.latencies
                        p50, p95 = percentile(lat, 50) or 0.0, percentile(lat, 95) or 0.0
                        print(
                            f"| {args.label} | {workers} | /v1/{endpoint} | {clients} | {len(lat) + level.errors} | "
                            f"{len(lat) / wall:.1f} | {p50:.0f} | {p95:.0f} | {level.errors} | "
                            f"{(cpu1 - cpu0) * 1000 / max(len(lat), 1):.0f} | {rss:,.0f} |",
                            flush=True,
                        )
                        if level.errors:
                            print(f"  first error: {level.first_error}", file=sys.stderr)


if __name__ == "__main__":
    main()
