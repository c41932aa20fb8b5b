"""Optional LLM-judged columns: llama-index's faithfulness, relevancy and correctness evaluators.

Off by default (``newsqa eval --llm-judges``); they need ``NEWSQA_LLM=provider:model``. The judges' LLM is the
product's (``rag.llm.load_llm``): the same providers (``huggingface:`` included), the same keys read from the
settings, timeout and token budget, and the same retry policy and failure counters, because every call of the
evaluators goes through :class:`PolicyLLM` to the product's :class:`ChatClient`. A second provider factory
here used to drift (other key names, the SDKs' own retry loops). Scores: faithfulness and relevancy 1.0/0.0
(passing), correctness the evaluator's 1-5 score scaled to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage as LlamaMessage,
)
from llama_index.core.base.llms.types import (
    ChatResponse,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms import CustomLLM
from pydantic import PrivateAttr

from evals.sets import EvalItem
from rag.errors import ConfigError
from rag.llm import ChatClient, load_llm
from rag.settings import Settings
from rag.types import Answer, ChatMessage, Passage


class PolicyLLM(CustomLLM):
    """A llama-index LLM that sends every call through the product's :class:`ChatClient` (retries, timeouts,
    failure classification, counters); the evaluators see the wrapped provider's metadata."""

    _client: ChatClient = PrivateAttr()

    def __init__(self, client: ChatClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client = client

    @property
    def metadata(self) -> LLMMetadata:
        meta: LLMMetadata = self._client.llm.metadata
        return meta.model_copy(update={"is_chat_model": True})

    def chat(self, messages: Sequence[LlamaMessage], **kwargs: Any) -> ChatResponse:
        turns = [ChatMessage(role=_role(m.role), content=m.content or "") for m in messages]
        return ChatResponse(message=LlamaMessage(role=MessageRole.ASSISTANT, content=self._client.chat(turns)))

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._client.chat([ChatMessage(role="user", content=prompt)]))

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        yield self.complete(prompt)  # the evaluators never stream; one chunk keeps the interface honest


def _role(role: MessageRole | str) -> Any:
    value = role.value if isinstance(role, MessageRole) else str(role)
    return value if value in ("system", "user", "assistant") else "user"


def judge_llm(settings: Settings) -> PolicyLLM:
    """The product's LLM for ``settings.llm``, as a llama-index LLM for the evaluators."""
    if settings.llm == "extractive":
        raise ConfigError("--llm-judges needs an LLM: set NEWSQA_LLM=provider:model (e.g. ollama:llama3.1)")
    return PolicyLLM(load_llm(settings))


def reference_answer(item: EvalItem) -> str | None:
    if item.choices is not None and item.answer_index is not None:
        return item.choices[item.answer_index]
    parts = item.all_of + [group[0] for group in item.any_of if group]
    return "; ".join(parts) or None


class LlamaIndexJudges:
    """The three llama-index evaluators over one LLM."""

    def __init__(self, llm: Any) -> None:
        from llama_index.core.evaluation import CorrectnessEvaluator, FaithfulnessEvaluator, RelevancyEvaluator

        self.faithfulness = FaithfulnessEvaluator(llm=llm)
        self.relevancy = RelevancyEvaluator(llm=llm)
        self.correctness = CorrectnessEvaluator(llm=llm)

    @classmethod
    def from_settings(cls, settings: Settings) -> LlamaIndexJudges:
        return cls(judge_llm(settings))

    def evaluate(self, item: EvalItem, answer: Answer, passages: list[Passage]) -> dict[str, float | None]:
        """``llm_faithfulness``, ``llm_relevancy`` (1.0 passing / 0.0), ``llm_correctness`` (score/5)."""
        contexts = [p.text for p in passages]
        faith = self.faithfulness.evaluate(query=item.question, response=answer.answer, contexts=contexts)
        rel = self.relevancy.evaluate(query=item.question, response=answer.answer, contexts=contexts)
        out: dict[str, float | None] = {
            "llm_faithfulness": float(bool(faith.passing)),
            "llm_relevancy": float(bool(rel.passing)),
            "llm_correctness": None,
        }
        reference = reference_answer(item)
        if reference:
            corr = self.correctness.evaluate(query=item.question, response=answer.answer, reference=reference)
            out["llm_correctness"] = None if corr.score is None else corr.score / 5
        return out
