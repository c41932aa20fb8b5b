"""The query side of the engine: heavy resources loaded once, and the read operations every way in uses.

The write side (ingest) composes over this in ``ingest.engine.Engine``, the composition root the ways in
build: ``rag/`` must not import ``ingest/`` (the layers only point down), and ingest needs the same store and
embedder this class owns, so the full engine extends this one from above rather than this one reaching down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from rag.answer import Answerer, AnswerEvent
from rag.answer.attribution import attribute
from rag.answer.multipart import answer_in_parts, split_question
from rag.answer.sentence_index import ChunkLocator, SentenceIndex
from rag.answer.static_vectors import StaticEmbedder, load_static_embedder
from rag.answer.syndication import cite_other_outlets
from rag.bm25 import Bm25Index
from rag.embedders import Embedder, load_embedder, query_embed_spec
from rag.errors import InputError
from rag.retrieve import Retriever
from rag.settings import Settings
from rag.store import ChromaStore
from rag.text.dates import now_utc
from rag.timeline import Timeline, TimelineRequest, build_timeline, timeline_answer, timeline_request
from rag.types import Answer, ChatMessage, Filters, Passage

log = logging.getLogger(__name__)


@dataclass
class Answered:
    """What every way in needs from one question: the final Answer and the passages it was drawn from."""

    answer: Answer
    passages: list[Passage]


class QueryEngine:
    """Owns the store, the embedder and the derived indexes. Build one per process and share it."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._given_embedder = embedder is not None  # a caller's embedder embeds the queries too

    @cached_property
    def store(self) -> ChromaStore:
        return ChromaStore(self.settings)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embed_model, self.settings.embed_batch_size)
        return self._embedder

    @cached_property
    def query_embedder(self) -> Embedder:
        """The embedder of search queries (``query_embed_model``): the stored vectors' model, or its int8 graph."""
        spec = query_embed_spec(self.settings.query_embed_model, self.settings.embed_model)
        if self._given_embedder or spec == self.settings.embed_model:
            return self.embedder
        if self.settings.query_embed_model != "auto":
            return load_embedder(spec)  # asked for by name: a bad name is an error
        try:
            return load_embedder(spec)
        except Exception as exc:  # "auto" only saves CPU: the embed model serves queries as well
            log.warning("query embedder %s unavailable (%s); queries use %s", spec, exc, self.settings.embed_model)
            return self.embedder

    @cached_property
    def bm25(self) -> Bm25Index:
        return Bm25Index(
            self.store, self.settings.cache_dir, self.settings.collection, self.settings.memory_dense_max_chunks
        )

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.query_embedder, self.bm25, self.settings)

    @cached_property
    def static_embedder(self) -> StaticEmbedder | None:
        """Sentence vectors ~100x cheaper than the transformer's (``static_vectors``); None for ``hash:``."""
        return load_static_embedder(self.embedder, self.settings.cache_dir)

    @cached_property
    def sentences(self) -> SentenceIndex:
        """Every article's sentences with their vectors: the answerer's candidates (a cache filled at ingest)."""
        return SentenceIndex(self.settings.cache_dir, self.static_embedder or self.embedder, self.store.get_article)

    @cached_property
    def answerer(self) -> Answerer:
        from rag.answer import load_answerer

        if self.settings.answer_scorer == "hand":
            return load_answerer(
                self.settings, self.embedder, idf=self.bm25.idf, sentence_embedder=self.static_embedder
            )
        return load_answerer(
            self.settings,
            self.embedder,
            idf=self.bm25.idf,
            sentences=self.sentences,
            locate_chunk=ChunkLocator(self.bm25.current),
            pick_by="hand" if self.settings.answer_scorer == "hybrid" else "learned",
        )

    def warm_up(self) -> None:
        """Load the model, open the store and build/load the BM25 cache now rather than on first use."""
        self.embedder.embed(["warm up"])
        if self.query_embedder is not self.embedder:
            self.query_embedder.embed(["warm up"])
        self.bm25.current()
        if self.settings.answer_scorer != "hand":
            self.sentences.load_all()
        _ = self.answerer  # a bad NEWSQA_LLM fails at start-up; a local model loads before the first question

    # ---- operations -------------------------------------------------------------------------------
    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, group_by_article: bool = False
    ) -> list[Passage]:
        return self.retriever.search(query, k=k, filters=filters, group_by_article=group_by_article)

    def answer(
        self,
        question: str,
        filters: Filters | None = None,
        top_k: int | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> Answered:
        """The final Answer to ``question`` with the passages retrieved for it: the one place that runs a
        question to its end. Without ``on_delta`` the answerer answers in one call; with it the answer streams
        and every text delta is passed to ``on_delta`` as the answerer produces it."""
        if on_delta is not None:
            passages: list[Passage] = []
            for event in self.stream(question, filters, top_k):
                if event.kind == "sources":
                    passages = event.passages
                elif event.kind == "delta":
                    on_delta(event.text)
                elif event.answer is not None:
                    return Answered(event.answer, passages)
            raise RuntimeError("the answerer's stream ended without a final answer")
        as_of, filters = self._dated(filters)
        if (asked := timeline_request(question, as_of)) is not None:  # "What has happened with X since May?"
            return self._timeline_answer(question, asked, filters, as_of)
        parts = split_question(question)
        if len(parts) > 1:
            return self._answer_in_parts(question, parts, filters, as_of, top_k)
        t0 = time.perf_counter()
        passages = self.search(question, k=top_k or self.settings.top_k, filters=filters)
        t1 = time.perf_counter()
        answer = self.answerer.answer(question, passages, as_of=as_of)
        return Answered(self._finish(answer, passages, as_of, t0, t1), passages)

    def ask(self, question: str, filters: Filters | None = None, top_k: int | None = None) -> Answer:
        """Answer ``question`` from the indexed articles, with citations."""
        return self.answer(question, filters, top_k).answer

    def stream(self, question: str, filters: Filters | None = None, top_k: int | None = None) -> Iterator[AnswerEvent]:
        """``sources`` (passages), ``delta`` events (answer text), then ``done`` with the final Answer."""
        as_of, filters = self._dated(filters)
        parts = split_question(question)
        asked = timeline_request(question, as_of)
        if len(parts) > 1 or asked is not None:  # answered whole before anything is sent: one delta, then done
            if asked is not None:
                answered = self._timeline_answer(question, asked, filters, as_of)
            else:
                answered = self._answer_in_parts(question, parts, filters, as_of, top_k)
            yield AnswerEvent("sources", passages=answered.passages)
            yield AnswerEvent("delta", text=answered.answer.answer)
            yield AnswerEvent("done", answer=answered.answer)
            return
        t0 = time.perf_counter()
        passages = self.search(question, k=top_k or self.settings.top_k, filters=filters)
        t1 = time.perf_counter()
        yield AnswerEvent("sources", passages=passages)
        for event in self.answerer.stream(question, passages, as_of=as_of):
            if event.kind == "done" and event.answer is not None:
                self._finish(event.answer, passages, as_of, t0, t1)
            yield event

    def _answer_in_parts(
        self, question: str, parts: list[str], filters: Filters, as_of: datetime, top_k: int | None
    ) -> Answered:
        """A question that asks several things: each part retrieved and answered on its own, then joined."""
        t0 = time.perf_counter()
        searching = 0.0

        def search(part: str) -> list[Passage]:
            nonlocal searching
            start = time.perf_counter()
            found = self.search(part, k=top_k or self.settings.top_k, filters=filters)
            searching += time.perf_counter() - start
            return found

        answer, passages = answer_in_parts(
            question, parts, search, lambda part, found: self.answerer.answer(part, found, as_of=as_of)
        )
        return Answered(self._finish(answer, passages, as_of, t0, t0 + searching), passages)

    def timeline(self, query: str, filters: Filters | None = None) -> Timeline:
        """The stories matching ``query`` in date order, one cited sentence each (``rag.timeline``)."""
        _, filters = self._dated(filters)

        def articles(q: str, k: int, given: Filters) -> list[Passage]:
            return self.search(q, k=k, filters=given, group_by_article=True)

        locate = ChunkLocator(self.bm25.current)
        return build_timeline(query, filters, articles, self.store.get_article, self.bm25.idf, locate)

    def _timeline_answer(self, question: str, asked: TimelineRequest, filters: Filters, as_of: datetime) -> Answered:
        """A timeline question ("timeline of the Itaewon crowd crush") answered as a timeline."""
        t0 = time.perf_counter()
        if asked.since and (filters.since is None or asked.since > filters.since):
            filters = filters.model_copy(update={"since": asked.since})
        answer = timeline_answer(question, self.timeline(asked.query, filters))
        return Answered(self._finish(answer, [], as_of, t0, time.perf_counter()), [])

    @staticmethod
    def _dated(filters: Filters | None) -> tuple[datetime, Filters]:
        """The question's reference time (``as_of``, default now) and the filters carrying it."""
        filters = filters or Filters()
        as_of = filters.as_of or now_utc()
        return as_of, filters.model_copy(update={"as_of": as_of})

    @staticmethod
    def _finish(answer: Answer, passages: list[Passage], as_of: datetime, t0: float, t1: float) -> Answer:
        """Stamp the final answer: its reference time, the other outlets of syndicated copies, timings."""
        t2 = time.perf_counter()
        answer.as_of = as_of
        cite_other_outlets(answer, passages)  # syndicated copies: name the other outlets
        attribute(answer)  # who each quote credits ("citing UDN.com"), independent sources
        answer.timings = {
            "retrieve_ms": round((t1 - t0) * 1000, 2),
            "answer_ms": round((t2 - t1) * 1000, 2),
            "total_ms": round((t2 - t0) * 1000, 2),
        }
        return answer

    def condense(self, messages: list[ChatMessage]) -> str:
        """A standalone question from a chat history (the last user turn, made self-contained)."""
        question = self.answerer.condense(messages)  # an LLM answerer asks its model; extractive: heuristic
        if not question.strip():
            raise InputError("the conversation has no user message to answer")
        return question

    def chat(self, messages: list[ChatMessage], filters: Filters | None = None) -> Answer:
        """Answer the last user turn in the context of the earlier ones."""
        return self.ask(self.condense(messages), filters=filters)
