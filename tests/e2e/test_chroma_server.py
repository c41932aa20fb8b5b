"""Dense search through a real Chroma server (``chroma run`` on 127.0.0.1, ``NEWSQA_CHROMA_URL``).

Up to ``NEWSQA_MEMORY_DENSE_MAX_CHUNKS`` the retriever searches cached vectors in memory, so with the default
no test reached Chroma's own vector search over HTTP; here that limit is 0 and every dense query, with and
without a date filter, goes through the HTTP client to the server's HNSW index (the deployment of
docs/deploy.md). The ``hash:384`` embedder makes the vectors deterministic.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ingest.engine import Engine
from rag.settings import Settings
from rag.store.schema import build_where
from tests.fakes.hash_embedder import hash_embedder
from tests.fakes.ports import free_port

pytestmark = pytest.mark.slow

HARBOUR = "Harbour dredging resumes at the northern quay"
ORCHARD = "Frost damages the apricot orchards of the valley"
VOLCANO = "Volcanic ash grounds flights across the islands"
ARTICLES = [
    {
        "title": HARBOUR,
        "publish_date": "2026-01-05",
        "url": "https://example.com/harbour",
        "text": "Dredgers returned to the northern quay on Monday. The harbour authority said the channel will be "
        "deepened by two metres so that container ships can berth at low tide.",
    },
    {
        "title": ORCHARD,
        "publish_date": "2026-02-10",
        "url": "https://example.com/orchard",
        "text": "A late frost damaged apricot blossom across the valley overnight. Growers expect the orchard "
        "harvest to fall by a third and asked for frost insurance payments.",
    },
    {
        "title": VOLCANO,
        "publish_date": "2026-03-15",
        "url": "https://example.com/volcano",
        "text": "An eruption sent volcanic ash over the islands and airlines grounded every flight. Airports "
        "expect to reopen once the ash cloud drifts east of the runways.",
    },
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chroma-server")


@pytest.fixture(scope="module")
def chroma_url(root: Path) -> Iterator[str]:
    """``chroma run`` on a free 127.0.0.1 port, once its heartbeat answers."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(root / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def engine(chroma_url: str, root: Path) -> Engine:
    settings = Settings(data_dir=root / "data", chroma_url=chroma_url, memory_dense_max_chunks=0)
    engine = Engine(settings, embedder=hash_embedder())
    corpus = root / "corpus.json"
    corpus.write_text(json.dumps(ARTICLES))
    report = engine.ingest_paths([corpus])
    assert (report.ingested, report.failed) == (3, [])
    return engine


def titles(engine: Engine, hits: list[tuple[str, float]]) -> list[str | None]:
    return [p.title for p in engine.store.get_chunks([chunk_id for chunk_id, _ in hits])]


def test_dense_search_through_the_server_ranks_the_matching_article_first(engine: Engine, root: Path) -> None:
    vector = engine.embedder.embed(["apricot orchard frost in the valley"])[0]
    hits = engine.store.dense_search(vector, 3, None)
    assert len(hits) == 3 and titles(engine, hits)[0] == ORCHARD
    assert hits[0][1] > hits[1][1] >= hits[2][1]
    assert not (root / "data" / "chroma").exists()  # the vectors live in the server, not in a local store


def test_a_date_filter_is_applied_inside_the_servers_vector_search(engine: Engine) -> None:
    vector = engine.embedder.embed(["apricot orchard frost in the valley"])[0]
    where = build_where(until=datetime(2026, 2, 1, tzinfo=UTC))
    assert titles(engine, engine.store.dense_search(vector, 3, where)) == [HARBOUR]


def test_the_retrievers_dense_side_goes_to_the_server_when_vectors_are_not_cached(engine: Engine) -> None:
    query = "volcanic ash flights"
    passages = engine.retriever.search(query, k=1, signals=("dense",))
    assert [(p.title, p.bm25) for p in passages] == [(VOLCANO, None)]
    server_hits = engine.store.dense_search(engine.embedder.embed([query])[0], 1, None)
    assert (passages[0].chunk_id, passages[0].dense) == (server_hits[0][0], pytest.approx(server_hits[0][1]))
