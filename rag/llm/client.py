"""The chat client: one configured LLM behind the same call policy for every provider.

The policy: a per-request timeout (set in the provider factory), a bounded number of retries
(``NEWSQA_LLM_MAX_RETRIES``) with exponential backoff from ``NEWSQA_LLM_RETRY_BACKOFF_S``, capped at
:data:`MAX_BACKOFF_S` and honouring a server's ``Retry-After``, on 429 / 5xx / timeouts / connection errors
only (a bad reply is not retried: the same prompt would likely get the same reply). A stream is retried
until its first chunk; after that the user has seen text, so a failure is raised, and an OpenAI-style stream
that ends without a finish reason is a cut-off reply. Every failure surfaces as an :class:`LLMError` and is
counted in the Prometheus counters of ``rag/llm/metrics.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from rag.llm.errors import RETRYABLE, LLMBadResponse, LLMError, LLMUnavailable, classify
from rag.llm.metrics import LLM_METRICS, LLMMetrics
from rag.llm.providers import PROVIDERS, parse_llm
from rag.settings import Settings
from rag.types import ChatMessage

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 8.0


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after")
    try:
        return float(value) if value else None
    except (TypeError, ValueError):  # an HTTP date instead of seconds: use our own backoff
        return None


class ChatClient:
    """One configured LLM with the retry/timeout/budget policy; ``chat`` and ``stream`` return text."""

    def __init__(self, llm: Any, settings: Settings, name: str, metrics: LLMMetrics = LLM_METRICS) -> None:
        self.llm = llm
        self.settings = settings
        self.name = name
        self.metrics = metrics

    def _messages(self, messages: list[ChatMessage]) -> list[Any]:
        from llama_index.core.llms import ChatMessage as LlamaMessage

        return [LlamaMessage(role=m.role, content=m.content) for m in messages]

    def _failed(self, err: LLMError) -> None:
        self.metrics.failures.labels(err.kind).inc()

    def _retrying(self, call: Callable[[], Any]) -> Any:
        """Run ``call``; on a retryable failure wait (exponential backoff, Retry-After honoured) and retry."""
        attempts = self.settings.llm_max_retries + 1
        for attempt in range(attempts):
            try:
                result = call()
            except Exception as exc:  # every provider raises its own types; classify() sorts them
                err = classify(exc)
                if not isinstance(err, RETRYABLE) or attempt == attempts - 1:
                    self.metrics.requests.labels("failed").inc()
                    self._failed(err)
                    log.warning("LLM %s failed after %d attempt(s): %s", self.name, attempt + 1, err)
                    raise err from exc
                wait = min(self.settings.llm_retry_backoff_s * 2**attempt, MAX_BACKOFF_S)
                wait = min(_retry_after(exc) or wait, MAX_BACKOFF_S)
                self.metrics.requests.labels("retried").inc()
                log.info("LLM %s: %s; retrying in %.1f s", self.name, err, wait)
                time.sleep(wait)
            else:
                self.metrics.requests.labels("ok").inc()
                return result
        raise AssertionError("unreachable")

    def chat(self, messages: list[ChatMessage]) -> str:
        """The whole reply text."""
        response = self._retrying(lambda: self.llm.chat(self._messages(messages)))
        text = response.message.content
        if not isinstance(text, str):
            err = LLMBadResponse("the language model returned no text")
            self._failed(err)
            raise err
        return text

    def stream(self, messages: list[ChatMessage]) -> Iterator[str]:
        """Text deltas as the model produces them.

        The request (and the first chunk) is retried like ``chat``; once text has been handed out a failure
        cannot be retried transparently and is raised. A stream that ends without the provider's finish
        signal (when the provider reports one) is a truncated reply: LLMBadResponse.
        """

        def start() -> tuple[Any, Any]:
            gen = self.llm.stream_chat(self._messages(messages))
            return gen, next(gen, None)

        gen, first = self._retrying(start)
        finished = False
        reports_finish = False
        chunk = first
        try:
            while chunk is not None:
                done, reports = _finish_reason(chunk)
                reports_finish = reports_finish or reports
                finished = finished or done
                if chunk.delta:
                    yield chunk.delta
                chunk = next(gen, None)
        except LLMError:
            raise
        except Exception as exc:
            err = classify(exc)
            if isinstance(err, LLMUnavailable):  # a reset mid-stream is a cut-off reply, not a down server
                err = LLMBadResponse(f"the language model's reply was cut off ({exc})")
            self._failed(err)
            log.warning("LLM %s stream failed: %s", self.name, err)
            raise err from exc
        if reports_finish and not finished:
            err = LLMBadResponse("the language model's reply was cut off (stream ended without finishing)")
            self._failed(err)
            log.warning("LLM %s stream ended without a finish reason", self.name)
            raise err


def _finish_reason(chunk: Any) -> tuple[bool, bool]:
    """(finished, provider reports finish reasons) for one streamed chunk.

    Only OpenAI-style chunks are inspected: their last chunk carries ``finish_reason``; other providers'
    streams end with their own errors when they break.
    """
    raw = getattr(chunk, "raw", None)
    choices = getattr(raw, "choices", None)
    if choices is None:
        return False, False
    return any(getattr(c, "finish_reason", None) for c in choices), True


def load_llm(settings: Settings) -> ChatClient:
    """The configured LLM client; ConfigError (one line saying what to set) when it cannot be built."""
    spec = parse_llm(settings.llm)
    return ChatClient(PROVIDERS[spec.provider](spec, settings), settings, settings.llm)
