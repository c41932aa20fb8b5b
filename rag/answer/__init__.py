"""Answerers: passages in, a cited Answer out. Chosen by ``NEWSQA_LLM`` through :func:`load_answerer`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from rag.embedders import Embedder
from rag.settings import Settings
from rag.types import Answer, Passage

ABSTAIN_TEXT = "The indexed articles do not answer this question."


@dataclass
class AnswerEvent:
    """One step of a streamed answer: ``sources`` (the passages about to be used; emitted by the engine),
    ``delta`` (text to append), then one ``done`` (the final, verified Answer)."""

    kind: Literal["sources", "delta", "done"]
    text: str = ""
    answer: Answer | None = None
    passages: list[Passage] = field(default_factory=list)


class Answerer(Protocol):
    def answer(self, question: str, passages: list[Passage], as_of: datetime | None = None) -> Answer:
        """The whole answer at once."""
        ...

    def stream(self, question: str, passages: list[Passage], as_of: datetime | None = None) -> Iterator[AnswerEvent]:
        """Deltas of the answer text, then ``done`` with the final (verified) Answer."""
        ...


IdfFn = Callable[[str], float]


def load_answerer(settings: Settings, embedder: Embedder, idf: IdfFn | None = None) -> Answerer:
    """``extractive`` (default) or an LLM answerer for ``provider:model`` (imported only when asked for)."""
    from rag.answer.extractive import ExtractiveAnswerer

    extractive = ExtractiveAnswerer(embedder, settings, idf=idf)
    if settings.llm == "extractive":
        return extractive
    from rag.answer.llm import LLMAnswerer  # type: ignore[import-not-found]

    return LLMAnswerer(settings, embedder, fallback=extractive)  # type: ignore[no-any-return]
