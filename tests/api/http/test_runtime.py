"""Startup, readiness, metrics, and engine work off the event loop (a slow request does not stall others)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from ingest.engine import Engine
from rag.settings import Settings
from rag.types import Filters, Passage
from tests.api.http.conftest import FLAGSHIP


class SlowEngine(Engine):
    """The real engine, with retrieval made slow (a big store, a cold cache, a slow LLM...)."""

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, group_by_article: bool = False
    ) -> list[Passage]:
        time.sleep(2.0)
        return super().search(query, k, filters, group_by_article)


def test_slow_request_does_not_stall_others(seeded_engine: Engine) -> None:
    engine = SlowEngine(seeded_engine.settings, embedder=seeded_engine.embedder)
    app = create_app(engine.settings, engine)

    async def scenario() -> tuple[float, float, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            slow = asyncio.create_task(client.post("/v1/ask", json={"question": FLAGSHIP}, timeout=30))
            await asyncio.sleep(0.3)  # the slow request is now running on a worker thread
            started = time.perf_counter()
            health = await client.get("/healthz")
            listing = await client.get("/v1/articles")  # engine work too, on another worker thread
            quick = time.perf_counter() - started
            answer = await slow
            assert health.status_code == listing.status_code == answer.status_code == 200
            return quick, time.perf_counter() - started, listing.json()["total"]

    with TestClient(app):  # lifespan (warm-up) runs here; the scenario then talks to the started app
        quick, slow_total, total = asyncio.run(scenario())
    assert total == 1
    assert quick < 1.0, f"healthz + articles took {quick:.2f} s while a slow ask ran"
    assert slow_total > 1.0


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
