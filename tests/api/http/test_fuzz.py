"""Schema-based fuzzing (schemathesis) of the app's own OpenAPI: no generated request makes it answer 5xx."""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from api.http.app import create_app
from ingest.engine import Engine

EXAMPLES = 15  # per operation; with the real model and store each call costs real work


def test_no_server_errors(seeded_engine: Engine) -> None:
    app = create_app(seeded_engine.settings, seeded_engine)
    with TestClient(app):  # lifespan: the engine is warm and the app ready before fuzzing starts
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 12
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def no_5xx(case: schemathesis.Case) -> None:
                response = case.call()
                case.validate_response(response, checks=[not_a_server_error])

            no_5xx()
        # The run really exercised the app: every operation was called several times.
        served = app.state.runtime.metrics.requests.collect()[0].samples
        assert sum(s.value for s in served if s.name.endswith("_total")) >= 5 * len(operations)
