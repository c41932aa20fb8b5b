"""LLM access: ``NEWSQA_LLM=provider:model`` -> :func:`load_llm` -> a :class:`ChatClient`.

``providers`` builds the llama-index LLM for each provider, ``client`` wraps it in the retry/timeout policy,
``errors`` is the failure family, ``metrics`` the Prometheus counters, ``local_model`` the on-CPU
transformers models. Importing this package imports no provider SDK.
"""

from rag.llm.client import ChatClient, load_llm
from rag.llm.errors import LLMBadResponse, LLMError, LLMRateLimited, LLMTimeout, LLMUnavailable, classify
from rag.llm.metrics import LLM_METRICS, LLMMetrics
from rag.llm.providers import PROVIDERS, LLMSpec, parse_llm

__all__ = [
    "LLM_METRICS",
    "PROVIDERS",
    "ChatClient",
    "LLMBadResponse",
    "LLMError",
    "LLMMetrics",
    "LLMRateLimited",
    "LLMSpec",
    "LLMTimeout",
    "LLMUnavailable",
    "classify",
    "load_llm",
    "parse_llm",
]
