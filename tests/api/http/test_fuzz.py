"""Schema-based fuzzing (schemathesis) of the app's own OpenAPI: no generated request makes it answer 5xx.

Every operation of the schema is called with valid (positive) and invalid (negative) requests, with a fixed
seed, so a run is repeatable and bounded (``EXAMPLES`` per operation and mode). URLs in generated articles are
resolved by a fake resolver that answers 127.0.0.1 for every name: they reach the SSRF guard and its URL
parsing, and nothing leaves the machine. Before the probe's fixes this found M1 (a non-string date: 500).
"""

from __future__ import annotations

import socket
from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from api.http.app import create_app
from ingest.engine import Engine

EXAMPLES = 12  # per operation and mode; with the real model and store each call costs real work
SEED = 20261201


def _loopback(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port or 80))]


@pytest.mark.slow  # about a minute: 16 operations x 2 modes x 12 examples through the real engine
def test_no_server_errors(seeded_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback)
    app = create_app(seeded_engine.settings, seeded_engine)
    called: Counter[str] = Counter()
    with TestClient(app):  # lifespan: the engine is warm and the app ready before fuzzing starts
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        spec = app.openapi()["paths"]
        assert len(operations) == sum(len(methods) for methods in spec.values())
        for operation in operations:
            for mode in GenerationMode:

                @seed(SEED)
                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
                def no_5xx(case: schemathesis.Case) -> None:
                    response = case.call()
                    called[case.operation.label] += 1
                    case.validate_response(response, checks=[not_a_server_error])

                try:
                    no_5xx()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to get wrong (no input)
    # Every operation of the schema was really called; those with an input many times (GET /healthz has one form).
    assert sorted(called) == sorted(op.label for op in operations)
    assert sum(n >= EXAMPLES for n in called.values()) >= 11, called
