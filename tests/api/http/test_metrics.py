"""The LLM counters of rag/llm/metrics.py are exported on /metrics by every app's registry."""

from __future__ import annotations

from prometheus_client import REGISTRY

from api.http.metrics import Metrics
from rag.llm.metrics import LLM_METRICS


def _value(text: str, sample: str) -> float:
    line = next(ln for ln in text.splitlines() if ln.startswith(sample + " "))
    return float(line.rsplit(" ", 1)[1])


def test_every_app_registry_exposes_the_same_process_wide_llm_counters() -> None:
    first, second = Metrics(), Metrics()  # two apps in one process: no duplicate-registration error
    before = _value(first.render().decode(), "newsqa_llm_fallbacks_total")
    LLM_METRICS.fallbacks.inc()
    LLM_METRICS.requests.labels("retried").inc()
    for metrics in (first, second):
        text = metrics.render().decode()
        assert _value(text, "newsqa_llm_fallbacks_total") == before + 1
        assert 'newsqa_llm_requests_total{outcome="retried"}' in text
        assert "# TYPE newsqa_llm_failures_total counter" in text
    assert REGISTRY.get_sample_value("newsqa_llm_fallbacks_total") == before + 1  # and the default registry


def test_app_counters_stay_per_app() -> None:
    first, second = Metrics(), Metrics()
    first.answered("/v1/ask", abstained=False)
    assert 'newsqa_answers_total{abstained="false",endpoint="/v1/ask"} 1.0' in first.render().decode()
    assert "newsqa_answers_total{" not in second.render().decode()
