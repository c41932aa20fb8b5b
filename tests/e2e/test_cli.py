"""The `newsqa` command in real subprocesses: JSON output, batch mode, errors, kill recovery, Chroma server.

Only the first test is about answers and uses the real model; the others test plumbing and run with the
deterministic ``hash:384`` embedder (no torch import: ~16 s saved per process).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.engine import Engine
from rag.settings import Settings
from tests.builders import FLAGSHIP, article
from tests.conftest import FIXTURES, SEED, cli_env
from tests.fakes.hash_embedder import HASH_ENV, hash_embedder
from tests.fakes.ports import free_port

NEWSQA = [sys.executable, "-m", "api.cli"]
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(NEWSQA + args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240, **kw)


def test_ingest_search_ask_articles_json(tmp_path):
    env = cli_env(tmp_path / "data")
    ingest = run(
        ["ingest", str(SEED), str(FIXTURES / "mini_corpus.jsonl"), str(tmp_path / "missing.txt"), "--json"], env
    )
    assert ingest.returncode == 0, ingest.stderr
    summary = json.loads(ingest.stdout)
    assert (summary["ingested"], summary["failed"]) == (4, 1)
    assert summary["failures"][0]["reason"] == "no such file or directory"

    batch = tmp_path / "q.jsonl"
    batch.write_text(
        json.dumps({"id": "q1", "question": FLAGSHIP})
        + "\n"
        + json.dumps({"id": "q2", "question": "How many vehicles did Acme Motors recall?", "until": "2024-02-01"})
        + "\n"
        + "How many jets did Northwind Airlines order?\n"
    )
    out = run(["ask", "--batch", str(batch)], env)
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["q1", "q2", "3"]
    assert "Dell" in answers[0]["answer"] and answers[0]["citations"]
    assert "120,000" in answers[1]["answer"] and "2.1 million" not in answers[1]["answer"]
    assert "40" in answers[2]["answer"]

    search = run(["search", "Acme Motors recall", "--articles", "--json", "-k", "5", "--source", "AP"], env)
    results = json.loads(search.stdout)["results"]
    assert [r["source"] for r in results] == ["AP"]
    assert {"score", "article_id", "chunk_id", "title", "source", "published", "url", "text"} <= results[0].keys()

    articles = json.loads(run(["articles", "--json"], env).stdout)
    assert len(articles) == 4 and all(a["chunks"] >= 1 for a in articles)
    stats = json.loads(run(["stats", "--json"], env).stdout)
    assert stats["articles"] == 4


def test_errors_are_one_line_and_nonzero(tmp_path):
    env = cli_env(tmp_path / "data", **HASH_ENV)
    bad_date = run(["search", "x", "--since", "not-a-date"], env)
    assert bad_date.returncode != 0
    assert (
        bad_date.stderr.strip().splitlines()[-1]
        == "error: not a date: 'not-a-date' (use YYYY-MM-DD or an ISO 8601 time)"
    )
    assert "Traceback" not in bad_date.stderr
    missing = run(["delete", "nope"], env)
    assert missing.returncode != 0 and missing.stderr.strip().endswith(
        "no article with id 'nope' (see `newsqa articles`)"
    )
    no_batch = run(["ask", "--batch", str(tmp_path / "none.txt")], env)
    assert no_batch.returncode != 0 and "batch file not found" in no_batch.stderr
    bad_setting = run(["stats"], {**env, "NEWSQA_TOP_K": "zero"})
    assert bad_setting.returncode != 0 and bad_setting.stderr.startswith("error: invalid NEWSQA_TOP_K='zero': ")
    bad_level = run(["stats"], {**env, "NEWSQA_LOG_LEVEL": "verbose"})
    assert bad_level.stderr.strip() == (
        "error: invalid NEWSQA_LOG_LEVEL='VERBOSE': Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"
    )
    bad_llm = run(["stats"], {**env, "NEWSQA_LLM": "gpt-4o"})
    assert bad_llm.returncode != 0 and "error: invalid NEWSQA_LLM='gpt-4o': not an LLM: use extractive or one of" in (
        bad_llm.stderr
    )


def test_killed_ingest_leaves_a_consistent_store_and_the_next_run_completes(tmp_path):
    # The kill must land mid-run whatever the machine's speed. With the hash embedder an article of 40
    # sentences took 20-40 ms to ingest here (once 13 s for 20 on a loaded 2-core machine): with 20 articles
    # and a poll every 0.1 s, a machine ~3x faster than this one could store all 20 between two polls. 40
    # articles and a poll every 10 ms leave 37 articles' time against a poll and its count (~30 ms).
    total = 40
    corpus = tmp_path / "many.jsonl"
    corpus.write_text("".join(json.dumps(article(i)) + "\n" for i in range(total)))
    data_dir = tmp_path / "data"
    proc = subprocess.Popen(
        [*NEWSQA, "ingest", str(corpus)],
        env=cli_env(data_dir, **HASH_ENV),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = Engine(Settings(data_dir=data_dir), embedder=hash_embedder())
    deadline = time.time() + 200
    while time.time() < deadline and engine.store.counts()["articles"] < 3:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = engine.store.counts()
    assert 0 < partial["articles"] < total, partial

    rerun = run(["ingest", str(corpus), "--json"], cli_env(data_dir, **HASH_ENV))
    summary = json.loads(rerun.stdout)
    assert summary["ingested"] + summary["skipped"] == total and summary["failed"] == 0
    articles = engine.store.list_articles()
    assert len(articles) == total
    for stored, n_chunks in articles:
        assert len(engine.store.chunks.get(where={"article_id": stored.id}, include=[])["ids"]) == n_chunks
    assert engine.store.counts()["chunks"] == sum(n for _, n in articles)  # no orphans


@pytest.fixture
def chroma_server(tmp_path):
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # `chroma run` took 6 s to listen here with both cores busy; a slower machine gets 180 s (as `newsqa serve`
    # does in the other e2e tests), and a server that never listens fails here, not in the test as a refusal.
    deadline = time.monotonic() + 180
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "chroma run did not start listening"
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_chroma_server_mode_ingest_in_one_process_search_from_another(chroma_server, tmp_path):
    env = cli_env(tmp_path / "data", NEWSQA_CHROMA_URL=chroma_server, **HASH_ENV)
    out = run(["ingest", str(SEED), "--json"], env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ingested"] == 1
    reader = Engine(Settings(data_dir=tmp_path / "reader", chroma_url=chroma_server), embedder=hash_embedder())
    hits = reader.search(FLAGSHIP, k=2)
    assert hits and "Supermicro" in hits[0].title
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded locally


def test_unreachable_chroma_server_is_one_line(tmp_path):
    out = run(["stats"], cli_env(tmp_path / "data", NEWSQA_CHROMA_URL=f"http://127.0.0.1:{free_port()}", **HASH_ENV))
    assert out.returncode != 0 and out.stderr.startswith("error: cannot open the Chroma store at http://127.0.0.1:")
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_second_process_sees_the_first_ones_ingest(tmp_path):
    data_dir = tmp_path / "data"
    reader = Engine(Settings(data_dir=data_dir), embedder=hash_embedder())
    reader.ingest_paths([SEED])
    assert reader.search("Supermicro xAI Dell")  # dense index and BM25 cache now loaded in this process
    out = run(["ingest", str(FIXTURES / "aggregator_page.txt")], cli_env(data_dir, **HASH_ENV))
    assert out.returncode == 0, out.stderr
    hits = reader.search("Harbor City ferry terminal rebuild plan", k=3)
    assert any(h.title.startswith("Harbor City approves") for h in hits)  # lexically at once
    # Its vectors are read by the index's background worker (rag/bm25/live.py): then both sides rank it first.
    deadline = time.monotonic() + 20
    while not (hits[0].title.startswith("Harbor City approves") and hits[0].dense is not None):
        assert time.monotonic() < deadline, hits[0]
        time.sleep(0.2)
        hits = reader.search("Harbor City ferry terminal rebuild plan", k=3)
    assert hits[0].bm25 is not None
