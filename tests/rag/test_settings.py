"""Settings: validated at load with messages naming the environment variable, secrets hidden, frozen."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from rag.llm.providers import PROVIDERS
from rag.settings import LLM_PROVIDERS, Settings, reveal, validation_message, variables


def message(**values: object) -> str:
    with pytest.raises(ValidationError) as info:
        Settings(**values)  # type: ignore[arg-type]
    return validation_message(info.value)


def test_settings_are_frozen_and_varied_by_model_copy():
    settings = Settings(top_k=8)
    with pytest.raises(ValidationError, match="frozen"):
        settings.top_k = 3  # type: ignore[misc]
    assert settings.model_copy(update={"top_k": 3}).top_k == 3 and settings.top_k == 8


def test_an_invalid_value_names_the_environment_variable_and_the_value():
    assert message(top_k=0) == "invalid NEWSQA_TOP_K=0: Input should be greater than or equal to 1"


def test_log_level_lists_the_allowed_values_and_ignores_case(monkeypatch: pytest.MonkeyPatch):
    assert message(log_level="verbose") == (
        "invalid NEWSQA_LOG_LEVEL='VERBOSE': Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"
    )
    monkeypatch.setenv("NEWSQA_LOG_LEVEL", "info")
    assert Settings().log_level == "INFO"


@pytest.mark.parametrize("value", ["gpt-4o", "mistral:large", "openai:", "openai: "])
def test_an_unknown_llm_is_refused_at_load_with_the_choices(value: str):
    choices = ", ".join(f"{p}:<model>" for p in LLM_PROVIDERS)
    assert message(llm=value) == f"invalid NEWSQA_LLM={value!r}: not an LLM: use extractive or one of {choices}"
    assert choices.startswith("openai:<model>, openai-compatible:<model>, anthropic:<model>, ollama:<model>")


def test_known_llms_load():
    assert Settings(llm="extractive").llm == "extractive"
    assert Settings(llm=" ollama:llama3.2 ").llm == "ollama:llama3.2"


def test_the_providers_named_at_load_are_the_providers_that_exist():
    assert set(LLM_PROVIDERS) == set(PROVIDERS)


def test_slack_tokens_are_secrets_never_shown(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEWSQA_SLACK_BOT_TOKEN", "xoxb-b0t")
    settings = Settings(slack_signing_secret="s1gn", slack_app_token="xapp-4pp")
    assert isinstance(settings.slack_bot_token, SecretStr) and reveal(settings.slack_bot_token) == "xoxb-b0t"
    assert reveal(settings.slack_signing_secret) == "s1gn" and reveal(settings.slack_app_token) == "xapp-4pp"
    assert not any(token in repr(settings) for token in ("xoxb-b0t", "s1gn", "xapp-4pp")) and reveal(None) is None
    assert message(slack_bot_token=7) == "invalid NEWSQA_SLACK_BOT_TOKEN: Input should be a valid string"


def test_aliased_settings_name_every_variable():
    assert variables("openai_api_key") == ["OPENAI_API_KEY"]
    assert variables("top_k") == ["NEWSQA_TOP_K"]
