"""The composition root: the query engine plus the write side (ingestion), built once per process.

Why here: the design card fixes the top level (``rag/``, ``ingest/``, ``api/``, ``evals/``), and the layers
point down (ways in -> engine -> ingest -> rag). The query side lives in ``rag.engine.QueryEngine`` and never
imports ingest; this class adds the ingestor over the same store and embedder, so one object serves both and
every way in (CLI, HTTP, Slack, feeds, evals) builds this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from ingest.pipeline import Ingestor, IngestReport, ProgressFn
from ingest.readers import Failure, RawDocument
from ingest.watches import Watches
from rag.engine import QueryEngine
from rag.errors import NotFound


class Engine(QueryEngine):
    """Reads (search, ask, chat) and writes (ingest) over one store. Build one per process and share it."""

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.store, self.embedder, self.settings)

    @cached_property
    def watches(self) -> Watches:
        """Standing queries whose new matches are delivered after each ingest (ingest/watches/)."""
        return Watches(self.store, lambda texts: self.embedder.embed(texts), self.settings)

    def ingest_paths(self, paths: list[Path], progress: ProgressFn | None = None) -> IngestReport:
        return self._after_ingest(self.ingestor.ingest(self.ingestor.read(paths), progress))

    def ingest_documents(self, docs: list[RawDocument | Failure], progress: ProgressFn | None = None) -> IngestReport:
        return self._after_ingest(self.ingestor.ingest(docs, progress))

    def _after_ingest(self, report: IngestReport) -> IngestReport:
        """The work an ingest owes the read side once its articles are committed, in proportion to the write
        and done here so no question waits for it: the answerer's sentence vectors, then the watches."""
        self._prepare_sentences(report.article_ids)
        self.watches.after_ingest(report.article_ids)  # after the write; never raises, sends in the background
        return report

    def _prepare_sentences(self, article_ids: list[str]) -> None:
        """Embed the new articles' sentences for the learned answerer (rag.answer.sentence_index), or teach the
        static embedder their words for the hand-weighted one (rag.answer.static_vectors)."""
        if self.settings.answer_scorer != "hand":
            self.sentences.add(self.store.get_article(a) for a in article_ids)
        elif self.static_embedder is not None and article_ids:
            self.static_embedder.learn(list(self._texts(article_ids)))

    def _texts(self, article_ids: list[str]) -> Iterator[str]:
        for article_id in article_ids:
            try:
                yield self.store.get_article(article_id).text
            except NotFound:  # deleted by another writer since: nothing to learn from it
                continue
