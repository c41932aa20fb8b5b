"""Turning verified sentences into an answer stream: shared by the free and the grounded LLM prompts.

:class:`SentenceBuffer` cuts streamed text into complete sentences; :class:`AnswerWriter` emits verified
sentences as deltas, holding flagged ones back until a supported one arrives (so a reply with nothing supported
shows nothing before the extractive fallback), and dates answers about the current state ("As of <date>,").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from rag.answer.base import ABSTAIN_TEXT, AnswerEvent
from rag.answer.markers import split_sentences
from rag.answer.verify import CitationVerifier, VerifiedSentence
from rag.text.lexicon import LOWERCASE_OPENERS
from rag.types import Answer, Passage

# Questions about how things stand now: the answer is dated with its newest source.
CURRENT_STATE = re.compile(
    r"\b(current(ly)?|now|latest|still|today|at present|presently|so far|these days|right now|recent(ly)?|yet)\b"
    r"|^\s*(who|what|which|where|how many|how much)\s+(is|are|has|have|does|do)\b",
    re.IGNORECASE,
)


def day(value: datetime | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "unknown date"


class SentenceBuffer:
    """Collects streamed text and hands out sentences once they are complete (the next one has begun)."""

    def __init__(self) -> None:
        self.text = ""

    def feed(self, delta: str) -> list[str]:
        self.text += delta
        if not re.search(r"\s", delta):
            return []  # a sentence can only have ended if the model moved on past a space
        sentences = split_sentences(self.text)
        if len(sentences) < 2 or not re.search(r"[^\s\[\]\d,;]", sentences[-1]):
            return []
        self.text = self.text[self.text.rfind(sentences[-1]) :]
        return sentences[:-1]

    def flush(self) -> list[str]:
        sentences = split_sentences(self.text)
        self.text = ""
        return sentences


class AnswerWriter:
    """Turns verified sentences into deltas: flagged/abstaining sentences wait for the first supported one,
    and a question about the current state gets "As of <newest cited date>," in front."""

    def __init__(self, question: str, passages: list[Passage], verifier: CitationVerifier) -> None:
        self.question = question
        self.passages = passages
        self.verifier = verifier
        self.held: list[str] = []
        self.parts: list[str] = []
        self.abstained = False
        self.dated = not CURRENT_STATE.search(question)

    def add(self, checked: VerifiedSentence) -> Iterator[AnswerEvent]:
        if checked.abstention:
            self.abstained = True
        if checked.text is None:
            return
        if not checked.supported:
            self.held.append(checked.text)
            return
        if not self.dated:
            self.dated = True
            dates = [self.passages[i].published for i in checked.cited if self.passages[i].published]
            first = (self.held or [checked.text])[0]
            if dates and not first.lower().startswith("as of"):
                dated = _as_of(max(d for d in dates if d is not None), first)
                if self.held:
                    self.held[0] = dated
                else:
                    checked.text = dated
        for text in [*self.held, checked.text]:
            yield self._emit(text)
        self.held = []

    def _emit(self, text: str) -> AnswerEvent:
        delta = text if not self.parts else " " + text
        self.parts.append(text)
        return AnswerEvent("delta", text=delta)

    def pending(self) -> Iterator[AnswerEvent]:
        """Held sentences after the last supported one (flag mode), emitted at the end."""
        for text in self.held:
            yield self._emit(text)
        self.held = []

    def finish(self) -> Answer | None:
        """The final answer, or None when nothing supported survived (and the model did not abstain)."""
        if self.verifier.supported == 0:
            if not self.abstained:
                return None
            self.held = [ABSTAIN_TEXT]
            return Answer(question=self.question, answer=ABSTAIN_TEXT, abstained=True, mode="llm")
        text = " ".join([*self.parts, *self.held])
        return Answer(
            question=self.question,
            answer=text,
            citations=self.verifier.citations(),
            mode="llm",
            unsupported=list(self.verifier.unsupported),
        )


def _as_of(date: datetime, sentence: str) -> str:
    first, _, rest = sentence.partition(" ")
    if first.lower() in LOWERCASE_OPENERS:
        sentence = first.lower() + (" " + rest if rest else "")
    return f"As of {day(date)}, {sentence}"
