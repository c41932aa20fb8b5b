"""Startup, readiness, metrics, and engine work off the event loop (a slow request does not stall others)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_info, threadpool_limits

from api.http.app import create_app
from ingest.engine import Engine
from rag.embedders import Embedder
from rag.settings import Settings
from rag.types import Filters, Passage
from tests.api.http.conftest import FLAGSHIP


class BlockedEngine(Engine):
    """The real engine whose retrieval waits until the test releases it (a big store, a cold cache, a slow LLM...)."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        super().__init__(settings, embedder=embedder)
        self.searching = threading.Event()
        self.release = threading.Event()

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, group_by_article: bool = False
    ) -> list[Passage]:
        self.searching.set()
        if not self.release.wait(30):
            raise TimeoutError("the test never released the search")
        return super().search(query, k, filters, group_by_article)


def test_slow_request_does_not_stall_others(seeded_engine: Engine) -> None:
    engine = BlockedEngine(seeded_engine.settings, seeded_engine.embedder)
    app = create_app(engine.settings, engine)

    async def scenario() -> tuple[int, int, int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            slow = asyncio.create_task(client.post("/v1/ask", json={"question": FLAGSHIP}, timeout=30))
            assert await asyncio.to_thread(engine.searching.wait, 30)  # the ask is inside search, on a worker
            # While that search is held, the loop still serves a health check and more engine work (another
            # worker thread); were the ask on the event loop, these would wait for the release that never comes.
            health = await asyncio.wait_for(client.get("/healthz"), 10)
            listing = await asyncio.wait_for(client.get("/v1/articles"), 10)
            assert not slow.done()
            engine.release.set()
            answer = await slow
            return health.status_code, listing.status_code, answer.status_code, listing.json()["total"]

    with TestClient(app):  # lifespan (warm-up) runs here; the scenario then talks to the started app
        assert asyncio.run(scenario()) == (200, 200, 200, 1)


def test_the_app_runs_numpys_blas_on_one_thread(seeded_engine: Engine) -> None:
    with threadpool_limits(2, user_api="blas"):  # restored after the test: other tests see the default again
        create_app(seeded_engine.settings, seeded_engine)
        assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}


def test_readyz_and_metrics(client: TestClient) -> None:
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["articles"] == 1 and ready["chunks"] >= 1
    assert client.get("/healthz").json() == {"status": "ok"}
    client.post("/v1/ask", json={"question": FLAGSHIP})
    client.post("/v1/ask", json={"question": FLAGSHIP, "filters": {"since": "2030-01-01"}})  # abstains
    client.post("/v1/ask", json={"question": ""})
    client.get("/v1/articles/missing")
    text = client.get("/metrics").text
    assert 'newsqa_http_requests_total{endpoint="/v1/ask",method="POST",status="200"} 2.0' in text
    assert 'newsqa_http_requests_total{endpoint="/v1/ask",method="POST",status="422"} 1.0' in text
    assert 'newsqa_http_requests_total{endpoint="/v1/articles/{article_id}",method="GET",status="404"} 1.0' in text
    assert 'newsqa_http_request_duration_seconds_bucket{endpoint="/v1/ask",le="+Inf",method="POST"} 3.0' in text
    assert 'newsqa_answers_total{abstained="true",endpoint="/v1/ask"} 1.0' in text
    assert 'newsqa_answers_total{abstained="false",endpoint="/v1/ask"} 1.0' in text


@pytest.fixture
def broken_settings(tmp_path) -> Iterator[Settings]:
    # A Chroma server URL where nothing listens: the store cannot open.
    yield Settings(data_dir=tmp_path / "d", chroma_url="http://127.0.0.1:9")


def test_store_unavailable_is_503_not_500(broken_settings: Settings, seeded_engine: Engine) -> None:
    engine = Engine(broken_settings, embedder=seeded_engine.embedder)
    with TestClient(create_app(broken_settings, engine)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "cannot open the Chroma store" in ready.json()["detail"]
        ask = client.post("/v1/ask", json={"question": FLAGSHIP})
        assert ask.status_code == 503 and "Chroma" in ask.json()["error"]["message"]
