"""LLM providers: ``NEWSQA_LLM=provider:model`` -> a llama-index LLM object, configured.

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
``llamacpp:<.gguf or package>``  ``xllamacpp`` (extra ``llamacpp``)  a GGUF model in-process on CPU
                                                                (``rag/llm/llamacpp.py``); threads from
                                                                ``NEWSQA_LLM_THREADS``
==================  ==========================================  ==========================================

Every factory switches the SDK's own retry loop off (``max_retries=0``; Ollama's client has none) and
passes the timeout and the output token budget from the settings: retrying is the client's job
(``rag/llm/client.py``), once, the same for every provider, so retries are never multiplied. Keys come from
the settings object (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``NEWSQA_LLM_API_KEY`` for local servers),
never from an SDK's own environment fallback. The eval's LLM judges use these same factories (``evals/llm_judges.py``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rag.errors import ConfigError
from rag.llm.local_model import load_local_model
from rag.settings import Settings

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"


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


# Factories: each imports its integration only when chosen.
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


def _llamacpp(spec: LLMSpec, s: Settings) -> Any:
    from rag.llm.llamacpp import LlamaCppLLM, default_threads, resolve_gguf

    path = resolve_gguf(spec.model)  # ConfigError (one line) before anything heavy is imported
    _need("xllamacpp", "xllamacpp", "llamacpp")
    return LlamaCppLLM(
        model_path=str(path),
        threads=s.llm_threads or default_threads(),
        context_window=s.llm_context_tokens + s.llm_max_tokens,
        max_tokens=s.llm_max_tokens,
        temperature=s.llm_temperature,
        timeout_s=s.llm_timeout_s,
    )


PROVIDERS: dict[str, Callable[[LLMSpec, Settings], Any]] = {
    "openai": _openai,
    "openai-compatible": _openai_compatible,
    "anthropic": _anthropic,
    "ollama": _ollama,
    "huggingface": _huggingface,
    "llamacpp": _llamacpp,
}
