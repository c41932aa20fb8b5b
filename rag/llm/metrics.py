"""The LLM counters: Prometheus counters, defined once, process-wide.

They live here rather than in ``api/http/metrics.py`` because the client that counts is in ``rag`` and ``rag``
does not import ``api`` (the layers only point down). They are registered in prometheus-client's default
registry, and every HTTP app also registers them in its own registry (``api.http.metrics.Metrics``), so
``GET /metrics`` shows them next to the request counters. They are process-wide on purpose: the LLM behind
every app of a process is the same model, and a per-app count would hide retries made by the CLI or the bot.

- ``newsqa_llm_requests_total{outcome}``: one per attempt; ``ok`` (the provider replied), ``retried`` (a
  timeout, 429, 5xx or connection error that was retried after a backoff), ``failed`` (the last attempt).
- ``newsqa_llm_failures_total{kind}``: failures that reached the answerer, by :class:`LLMError` kind
  (``timeout``, ``unavailable``, ``rate_limited``, ``bad_response``, ``error``), including replies cut off
  mid-stream and replies without text.
- ``newsqa_llm_fallbacks_total``: LLM answers replaced by the extractive answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class LLMMetrics:
    requests: Counter
    failures: Counter
    fallbacks: Counter

    def collectors(self) -> list[Collector]:
        """The counters, for a registry that should expose them (``registry.register(c)`` each)."""
        return [self.requests, self.failures, self.fallbacks]


LLM_METRICS = LLMMetrics(
    requests=Counter("newsqa_llm_requests", "LLM request attempts, by outcome (ok, retried, failed).", ["outcome"]),
    failures=Counter("newsqa_llm_failures", "LLM failures that reached the answerer, by kind.", ["kind"]),
    fallbacks=Counter("newsqa_llm_fallbacks", "LLM answers replaced by the extractive answer."),
)
