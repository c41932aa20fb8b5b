"""Two processes ingesting into one store at once lose nothing and store each text once (issue 12, probe H1).

Each process ingests its articles one run at a time, as a server answering `POST /v1/articles` does, so every
run starts with a repair while the other process is writing. Both start together (a start file) and use the
deterministic ``hash:384`` embedder, so the test costs process start-up, not model time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from ingest.engine import Engine
from ingest.readers import RawDocument
from rag.embedders import load_embedder
from rag.settings import Settings
from tests.conftest import cli_env
from tests.ingest.test_concurrent_ingest import assert_consistent, town, wire

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import json, sys, time
from pathlib import Path
from ingest.engine import Engine
from ingest.readers import RawDocument
from rag.settings import Settings

engine = Engine(Settings())
engine.store.counts()  # open the store before the start signal
docs = [RawDocument(**json.loads(line)) for line in Path(sys.argv[1]).read_text().splitlines()]
Path(sys.argv[3]).touch()  # ready
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
totals = {"ingested": 0, "updated": 0, "skipped": 0, "grouped": 0, "failed": 0}
for doc in docs:
    report = engine.ingest_documents([doc])
    for key in totals:
        totals[key] += len(report.failed) if key == "failed" else getattr(report, key)
print(json.dumps(totals))
"""


def write_docs(path: Path, docs: list[RawDocument]) -> Path:
    path.write_text("".join(json.dumps({**asdict(d), "published": _iso(d.published)}) + "\n" for d in docs))
    return path


def _iso(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def run_two(tmp_path: Path, first: list[RawDocument], second: list[RawDocument]) -> list[dict[str, int]]:
    data_dir = tmp_path / "data"
    go = tmp_path / "go"
    env = cli_env(data_dir, NEWSQA_EMBED_MODEL="hash:384")
    ready = [tmp_path / f"ready{i}" for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(write_docs(tmp_path / f"docs{i}.jsonl", docs)), str(go), str(ready[i])],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, docs in enumerate([first, second])
    ]
    # Both processes import and open the store, then start together. (A fixed 3 s sleep let a slow machine
    # start one before the other had opened the store, so the two runs need not overlap at all.)
    deadline = time.monotonic() + 240
    while not all(r.exists() for r in ready):
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            for p in procs:
                p.kill()
            raise AssertionError(f"an ingest process did not get ready: {[p.communicate()[1] for p in procs]}")
        time.sleep(0.05)
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(json.loads(out.splitlines()[-1]))
    return results


def engine_on(tmp_path: Path) -> Engine:
    settings = Settings(data_dir=tmp_path / "data", embed_model="hash:384")
    return Engine(settings, embedder=load_embedder("hash:384"))


@pytest.mark.slow
def test_two_processes_ingesting_different_articles_keep_every_chunk(tmp_path: Path) -> None:
    first, second = [town(i) for i in range(20)], [town(i) for i in range(20, 40)]
    results = run_two(tmp_path, first, second)
    assert [r["ingested"] for r in results] == [20, 20]
    engine = engine_on(tmp_path)
    assert len(engine.store.list_articles()) == 40
    assert_consistent(engine)
    for i, doc in enumerate(first + second):
        assert [p.title for p in engine.search(doc.text[:120], k=1)] == [f"Testville{i}"]


@pytest.mark.slow
def test_two_processes_ingesting_the_same_articles_store_each_once(tmp_path: Path) -> None:
    docs = [town(i) for i in range(12)] + [wire(i) for i in range(4)]
    results = run_two(tmp_path, docs, docs[::-1])
    assert sum(r["ingested"] for r in results) == 13  # 12 articles and one wire story
    assert sum(r["failed"] for r in results) == 0
    engine = engine_on(tmp_path)
    articles = engine.store.list_articles()
    indexed = [a for a, n in articles if n]
    assert len(indexed) == 13 and len(articles) == 16
    story = next(a for a in indexed if a.title and a.title.startswith("Wind farm"))
    assert len(engine.store.get_article(story.id).also_in) == 3
    assert_consistent(engine)
