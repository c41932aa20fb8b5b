"""Optional LLM-judged columns: llama-index's faithfulness, relevancy and correctness evaluators.

Off by default (``newsqa eval --llm-judges``); they need ``NEWSQA_LLM=provider:model``. The LLM is built with
llama-index's own integrations: ``ollama:``, ``openai-compatible:`` (``NEWSQA_LLM_BASE_URL``), ``openai:``,
``anthropic:``. Scores: faithfulness and relevancy 1.0/0.0 (passing), correctness the evaluator's 1-5 score
scaled to [0, 1].
"""

from __future__ import annotations

from typing import Any

from evals.sets import EvalItem
from rag.errors import ConfigError
from rag.settings import Settings
from rag.types import Answer, Passage


def build_llm(settings: Settings) -> Any:
    """A llama-index LLM for ``settings.llm`` (``provider:model``)."""
    provider, _, model = settings.llm.partition(":")
    if settings.llm == "extractive" or not model:
        raise ConfigError("--llm-judges needs an LLM: set NEWSQA_LLM=provider:model (e.g. ollama:llama3.1)")
    timeout = settings.llm_timeout_s
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if provider == "ollama":
        from llama_index.llms.ollama import Ollama

        return Ollama(model=model, base_url=settings.llm_base_url or "http://127.0.0.1:11434", request_timeout=timeout)
    if provider == "openai-compatible":
        from llama_index.llms.openai_like import OpenAILike

        if not settings.llm_base_url:
            raise ConfigError("openai-compatible LLMs need NEWSQA_LLM_BASE_URL")
        return OpenAILike(
            model=model, api_base=settings.llm_base_url, api_key=key or "none", is_chat_model=True, timeout=timeout
        )
    if provider == "openai":
        from llama_index.llms.openai import OpenAI

        return OpenAI(model=model, api_key=key, timeout=timeout)
    if provider == "anthropic":
        from llama_index.llms.anthropic import Anthropic

        return Anthropic(model=model, api_key=key, timeout=timeout)
    raise ConfigError(f"unknown LLM provider {provider!r} in NEWSQA_LLM (ollama, openai-compatible, openai, anthropic)")


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
        return cls(build_llm(settings))

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
