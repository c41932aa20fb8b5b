"""The ways an LLM call fails, as one small family, and :func:`classify` to map any provider's exception to it.

Every provider SDK (openai, anthropic, httpx, ollama...) raises its own types. The client decides from the
class alone whether to retry (timeouts, unavailable, rate limited) or give up (a bad reply), the answerer
turns any of them into the extractive fallback with a one-line ``notice``, and ``kind`` labels the failure in
the ``newsqa_llm_failures_total`` counter.
"""

from __future__ import annotations

from rag.errors import NewsqaError


class LLMError(NewsqaError):
    """The LLM did not produce a usable reply; ``kind`` labels the failure in metrics."""

    kind = "error"


class LLMTimeout(LLMError):
    kind = "timeout"


class LLMUnavailable(LLMError):
    """Connection refused/reset or a 5xx that persisted through the retries."""

    kind = "unavailable"


class LLMRateLimited(LLMError):
    kind = "rate_limited"


class LLMBadResponse(LLMError):
    """A malformed reply or a stream that ended before the model said it had finished."""

    kind = "bad_response"


RETRYABLE = (LLMTimeout, LLMUnavailable, LLMRateLimited)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def classify(exc: BaseException) -> LLMError:
    """Map any provider's exception (openai, anthropic, httpx, ollama...) to one of ours."""
    if isinstance(exc, LLMError):
        return exc
    name = type(exc).__name__
    status = _status(exc)
    detail = f"{name}: {exc}"[:300]
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return LLMTimeout(f"the language model timed out ({detail})")
    if status == 429 or "RateLimit" in name:
        return LLMRateLimited(f"the language model is rate limited ({detail})")
    if (status is not None and status >= 500) or "Connect" in name or isinstance(exc, ConnectionError):
        return LLMUnavailable(f"the language model is unavailable ({detail})")
    if "RemoteProtocol" in name or "ReadError" in name or "Incomplete" in name:
        return LLMBadResponse(f"the language model's reply was cut off ({detail})")
    return LLMBadResponse(f"the language model failed ({detail})")
