"""The optional llama-index evaluators against a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from evals.llm_judges import LlamaIndexJudges, judge_llm, reference_answer
from evals.sets import EvalItem
from rag.errors import ConfigError
from rag.settings import Settings
from rag.types import Answer, Passage
from tests.fakes.llm_server import Error, FakeLLM


def judge_reply(request: dict[str, Any]) -> str:
    """Correctness prompts get a score line; faithfulness and relevancy prompts get YES."""
    prompt = " ".join(m["content"] for m in request["messages"]).lower()
    return "4.0\nThe answer matches the reference." if "reference answer" in prompt else "YES"


@pytest.mark.slow  # a fake LLM server on a 127.0.0.1 port
def test_llm_judges_score_an_answer(tmp_path):
    item = EvalItem(id="x", question="Which company did xAI shift its orders to?", all_of=["Dell"])
    passage = Passage(
        chunk_id="c", article_id="a", index=0, text="xAI shifted all AI server orders to Dell.", start=0, end=41
    )
    answer = Answer(question=item.question, answer="xAI shifted all AI server orders to Dell. [1]")
    with FakeLLM([judge_reply]) as llm:
        settings = Settings(data_dir=tmp_path, llm="openai-compatible:judge", llm_base_url=llm.base_url)
        scores = LlamaIndexJudges.from_settings(settings).evaluate(item, answer, [passage])
        assert len(llm.requests) >= 3  # three evaluators really asked the server
    assert scores == {"llm_faithfulness": 1.0, "llm_relevancy": 1.0, "llm_correctness": 0.8}


def test_llm_judges_need_an_llm(tmp_path):
    with pytest.raises(ConfigError, match="needs an LLM"):
        judge_llm(Settings(data_dir=tmp_path))
    with pytest.raises(ConfigError, match="NEWSQA_LLM_BASE_URL"):
        judge_llm(Settings(data_dir=tmp_path, llm="openai-compatible:m"))


def test_llm_judges_use_the_products_provider_keys_and_settings(tmp_path):
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY"):  # the product's key field, not llm_api_key
        judge_llm(Settings(data_dir=tmp_path, llm="openai:gpt-4o-mini", llm_api_key="sk-generic"))
    llm = judge_llm(Settings(data_dir=tmp_path, llm="openai:gpt-4o-mini", openai_api_key="sk-test", llm_max_tokens=99))
    inner = llm._client.llm
    assert type(inner).__name__ == "OpenAI" and inner.max_retries == 0 and inner.max_tokens == 99


@pytest.mark.slow  # a fake LLM server on a 127.0.0.1 port
def test_llm_judges_retry_a_rate_limit_with_the_products_policy(tmp_path):
    item = EvalItem(id="x", question="Which company did xAI shift its orders to?", all_of=["Dell"])
    passage = Passage(
        chunk_id="c", article_id="a", index=0, text="xAI shifted all AI server orders to Dell.", start=0, end=41
    )
    answer = Answer(question=item.question, answer="xAI shifted all AI server orders to Dell. [1]")
    retried = REGISTRY.get_sample_value("newsqa_llm_requests_total", {"outcome": "retried"}) or 0.0
    with FakeLLM([Error(429, {"Retry-After": "0.1"}), judge_reply]) as llm:
        settings = Settings(data_dir=tmp_path, llm="openai-compatible:judge", llm_base_url=llm.base_url)
        scores = LlamaIndexJudges.from_settings(settings).evaluate(item, answer, [passage])
    assert scores == {"llm_faithfulness": 1.0, "llm_relevancy": 1.0, "llm_correctness": 0.8}
    assert REGISTRY.get_sample_value("newsqa_llm_requests_total", {"outcome": "retried"}) == retried + 1


def test_reference_answer():
    assert reference_answer(EvalItem(id="a", question="q", choices=["x", "y"], answer_index=1)) == "y"
    assert reference_answer(EvalItem(id="b", question="q", all_of=["Dell"], any_of=[["Q1", "first"]])) == "Dell; Q1"
    assert reference_answer(EvalItem(id="c", question="q", unanswerable=True)) is None
