"""In-process fixtures: the real app (create_app) over a real seeded Chroma store and the session's model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from ingest.engine import Engine
from tests.builders import FLAGSHIP  # noqa: F401 (test modules import it from here)


@pytest.fixture
def make_client(seeded_engine: Engine) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**setting_overrides)``: a started TestClient over the seeded engine."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = seeded_engine.settings.model_copy(update=overrides)
        client = TestClient(create_app(settings, seeded_engine), raise_server_exceptions=False)
        client.__enter__()  # runs the lifespan (warm-up)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
