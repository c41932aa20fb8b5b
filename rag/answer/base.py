"""What every answerer is: the :class:`Answerer` protocol, its stream events, and :func:`load_answerer`.

Kept apart from ``rag/answer/__init__.py`` so the answerers import their contract from a plain module (the
package ``__init__`` only re-exports it), and so the engine can rely on the protocol alone: both the
extractive and the LLM answerer implement ``answer``, ``stream`` and ``condense``; nothing duck-types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from rag.embedders import Embedder
from rag.settings import Settings
from rag.types import Answer, ChatMessage, Passage

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

    def condense(self, messages: list[ChatMessage]) -> str:
        """A standalone question from a chat history (the last user turn, made self-contained)."""
        ...


IdfFn = Callable[[str], float]


class SentenceSource(Protocol):
    def get(self, article_id: str) -> Any:
        """An article's sentences with offsets and vectors (``rag.answer.sentence_index.ArticleSentences``)."""
        ...


def load_answerer(
    settings: Settings,
    embedder: Embedder,
    idf: IdfFn | None = None,
    sentences: SentenceSource | None = None,
    locate_chunk: Callable[[str, int, int], tuple[str, int] | None] | None = None,
    sentence_embedder: Any | None = None,
    pick_by: str = "learned",
) -> Answerer:
    """``extractive`` (default) or an LLM answerer for ``provider:model`` (imported only when asked for).
    With a sentence index (``rag.answer.sentence_index``), the extractive answerer scores every sentence of
    the retrieved articles with the learned model (``rag.answer.sentences``); without one it compares question
    and sentences with ``sentence_embedder`` (the static embedder; default: ``embedder``)."""
    from rag.answer.extractive import ExtractiveAnswerer

    extractive: ExtractiveAnswerer
    if sentences is not None:
        from rag.answer.sentences import SentenceAnswerer

        extractive = SentenceAnswerer(
            embedder,
            settings,
            idf=idf,
            sentences_of=sentences.get,
            locate_chunk=locate_chunk,
            vector_embedder=getattr(sentences, "embedder", None),
            pick_by=pick_by,
        )
    else:
        extractive = ExtractiveAnswerer(embedder, settings, idf=idf, sentence_embedder=sentence_embedder)
    if settings.llm == "extractive":
        return extractive
    from rag.answer.llm import LLMAnswerer

    return LLMAnswerer(settings, embedder, fallback=extractive)
