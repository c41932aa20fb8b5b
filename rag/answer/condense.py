"""Condense chat history into a standalone question before retrieval (no LLM needed).

A follow-up such as "and who loses?" only makes sense with the earlier turns. Without an LLM, the
standalone question is the follow-up plus the content words of the previous user question that it does
not repeat, e.g. "and who loses? (Supermicro loses xAI)". An LLM answerer may replace this step.
"""

from __future__ import annotations

import re

from rag.text.lexicon import FUNCTION_WORDS
from rag.types import ChatMessage

_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|also|what about|how about|and what|why|then)\b|\b(it|its|they|them|their|he|she|his|her|"
    r"this|that|these|those|there|the company|the deal)\b",
    re.IGNORECASE,
)


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w’'$.-]+", text) if w.lower().strip(".") not in FUNCTION_WORDS]


def condense_question(messages: list[ChatMessage]) -> str:
    """The last user message, made standalone with the previous user question's topic when it is a follow-up."""
    users = [m.content.strip() for m in messages if m.role == "user" and m.content.strip()]
    if not users:
        return ""
    question = users[-1]
    if len(users) == 1 or not (_FOLLOW_UP.search(question) or len(question.split()) <= 4):
        return question
    return with_topic(question, users[-2])


def with_topic(question: str, previous: str) -> str:
    """``question (topic words of previous it does not repeat)``: the form ``split_condensed`` reads back."""
    asked = {w.lower() for w in _content_words(question)}
    topic = [w for w in _content_words(previous) if w.lower() not in asked]
    return f"{question} ({' '.join(dict.fromkeys(topic))})" if topic else question


_CONDENSED = re.compile(r"^(?P<asked>.*[?.!])\s*\((?P<context>[^()]*)\)\s*$", re.DOTALL)


def split_condensed(question: str) -> tuple[str, str]:
    """(the follow-up as asked, the topic words borrowed from earlier turns) of a condensed question."""
    m = _CONDENSED.match(question)
    return (m["asked"], m["context"]) if m else (question, "")
