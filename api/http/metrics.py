"""Prometheus metrics: request counts and latencies per endpoint, answers (abstained or not), ingested articles,
and the LLM counters.

Each app gets its own registry (several apps in one test process must not share counters). Endpoints are
labelled by their route template (``/v1/articles/{article_id}``), never the raw path, to bound cardinality.
The LLM counters (``newsqa_llm_*``, defined in ``rag/llm/metrics.py``) are the exception: they count the
process's LLM client, so each app's registry registers the same process-wide counters.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.llm.metrics import LLM_METRICS

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The collectors of one app."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "newsqa_http_requests",
            "HTTP requests by endpoint and status.",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "newsqa_http_request_duration_seconds",
            "Time from request to the end of the response (whole stream for SSE).",
            ["method", "endpoint"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("newsqa_http_requests_in_flight", "Requests being served.", registry=self.registry)
        self.answers = Counter(
            "newsqa_answers",
            "Answers given, by endpoint and whether the engine abstained.",
            ["endpoint", "abstained"],
            registry=self.registry,
        )
        self.ingested = Counter(
            "newsqa_ingested_articles", "Articles posted, by outcome.", ["status"], registry=self.registry
        )
        for collector in LLM_METRICS.collectors():
            self.registry.register(collector)

    def answered(self, endpoint: str, abstained: bool) -> None:
        self.answers.labels(endpoint, str(abstained).lower()).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so streamed responses pass through untouched."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight.dec()
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, endpoint, str(status)).inc()
            self.metrics.latency.labels(method, endpoint).observe(time.perf_counter() - started)
