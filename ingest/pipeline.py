"""The ingest pipeline: raw documents -> Articles -> chunks -> vectors -> the store.

Chunks of many articles are embedded together (the model is fastest on full batches) while the previous
batch is written to Chroma on a worker thread, so writing overlaps embedding. Each article is committed
on its own (see ``rag.store``), so one bad article or a killed process never corrupts the store.

Concurrent writers (threads and processes): whether an article is new is decided twice. First without a lock,
so unchanged and duplicate articles are never embedded; then again under the store's write lock just before
the write, against what other writers committed meanwhile (same id, same text, or a near-copy of a story).
Only the second decision writes, so identical or syndicated texts ingested at once end as one article/story,
and embedding stays outside the lock.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ingest.chunk import chunk_article
from ingest.neardup import StoryIndex, StoryMatch
from ingest.readers import Failure, RawDocument, iter_files, read_file
from rag.embedders import Embedder
from rag.errors import ArticleRejected, InputError
from rag.settings import Settings
from rag.store import ChromaStore
from rag.text.dates import parse_date
from rag.text.ids import article_id, content_hash, text_hash
from rag.text.normalize import is_call_to_action, normalize_text
from rag.types import Article, Chunk

log = logging.getLogger(__name__)
_FLUSH_CHUNKS = 256


@dataclass
class IngestReport:
    ingested: int = 0
    updated: int = 0
    skipped: int = 0
    grouped: int = 0  # syndicated copies recorded on an existing story instead of indexed (ingest.neardup)
    chunks: int = 0
    failed: list[Failure] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "ingested": self.ingested,
            "updated": self.updated,
            "skipped": self.skipped,
            "grouped": self.grouped,
            "failed": len(self.failed),
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "failures": [{"origin": f.origin, "reason": f.reason} for f in self.failed],
            "article_ids": self.article_ids,
        }


def build_article(raw: RawDocument, settings: Settings, now: datetime | None = None) -> Article:
    """Normalise one raw document into an Article, or raise ArticleRejected saying why."""
    text = normalize_text(raw.text)
    text = "\n".join(line for line in text.split("\n") if not is_call_to_action(line))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if len(text) < settings.min_article_chars:
        what = "empty" if not text else f"too short ({len(text)} characters)"
        raise ArticleRejected(f"{what} after cleaning; the minimum is {settings.min_article_chars} characters")
    if len(text) > settings.max_article_chars:
        raise ArticleRejected(
            f"too large ({len(text):,} characters; the limit is {settings.max_article_chars:,}, "
            "NEWSQA_MAX_ARTICLE_CHARS)"
        )
    try:
        published = parse_date(raw.published) if raw.published else None
    except InputError:
        log.warning("%s: unreadable date %r ignored", raw.origin, raw.published)
        published = None
    title = normalize_text(raw.title) if raw.title else None
    source = normalize_text(raw.source) if raw.source else None
    authors = [normalize_text(a) for a in raw.authors if a.strip()]
    url = raw.url.strip() if raw.url else None
    return Article(
        id=article_id(url, source, title, text),
        title=title or None,
        source=source or None,
        authors=authors,
        published=published,
        url=url,
        text=text,
        ingested_at=now or datetime.now(UTC),
        content_hash=content_hash(text, title, source, url, published.isoformat() if published else None, *authors),
        partial=raw.partial,
        provenance=dict(raw.provenance),
    )


ProgressFn = Callable[[int], None]


class Ingestor:
    """One entry point, :meth:`ingest`: raw documents in, an IngestReport out."""

    def __init__(self, store: ChromaStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings

    def read(self, paths: Iterable[Path]) -> list[RawDocument | Failure]:
        """Every document under ``paths`` (files and directories), failures included."""
        out: list[RawDocument | Failure] = []
        for item in iter_files(list(paths)):
            if isinstance(item, Failure):
                out.append(item)
            else:
                out.extend(read_file(item, max_bytes=self.settings.max_article_chars * 4))
        return out

    def ingest(self, docs: Iterable[RawDocument | Failure], progress: ProgressFn | None = None) -> IngestReport:
        with self.store.writer_session():  # a live writer: its in-flight work is not repair's to remove
            self.store.repair()  # finish what a dead writer left behind
            return self._ingest(docs, progress)

    def _ingest(self, docs: Iterable[RawDocument | Failure], progress: ProgressFn | None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        joined: dict[str, str] = {}  # story of this run -> the other writer's story it turned out to copy
        pending: list[tuple[Article, list[Chunk]]] = []
        copies: list[tuple[Article, StoryMatch]] = []
        stories = StoryIndex(self.store, self.settings)  # per run: concurrent ingests do not share state
        seen: set[str] = set()
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-writer")
        inflight: Future[None] | None = None
        try:
            for doc in docs:
                if progress:
                    progress(1)
                if isinstance(doc, Failure):
                    report.failed.append(doc)
                    continue
                try:
                    article = build_article(doc, self.settings)
                except ArticleRejected as exc:
                    report.failed.append(Failure(doc.origin, str(exc)))
                    continue
                status = self._status(article, seen)
                seen.add(article.id)
                # ---- syndicated copies (issue 8, ingest/neardup.py): a copy joins its story, unindexed ----
                if status != "skip":
                    if (story := stories.match(article)) is not None:
                        copies.append((article, story))
                        continue
                    if status != "duplicate":
                        stories.remember(article)
                if status == "duplicate":
                    status = "skip"  # an exact copy too short to sign: skipped as before
                # ---- end syndicated copies ----
                if status == "skip":
                    report.skipped += 1
                    continue
                chunks = chunk_article(
                    article, self.embedder.count_tokens, self.settings.chunk_tokens, self.settings.chunk_overlap_tokens
                )
                pending.append((article, chunks))
                if sum(len(c) for _, c in pending) >= _FLUSH_CHUNKS:
                    inflight = self._flush(pending, report, writer, inflight, stories, copies, joined)
                    pending = []
            if pending:
                inflight = self._flush(pending, report, writer, inflight, stories, copies, joined)
            if inflight:
                inflight.result()
            if copies:  # after the run's own articles are committed: a story may be one of them
                # a story of this run that became a copy of another writer's story: its copies join that one
                copies = [(a, StoryMatch(joined.get(m.story_id, m.story_id), m.similarity)) for a, m in copies]
                with self.store.write_lock():  # the story's outlet list is read, extended and written back
                    recorded, failures = stories.record_copies(copies)
                report.failed += failures
                report.grouped += len(recorded)
                report.article_ids += recorded
        finally:
            writer.shutdown(wait=True)
        report.seconds = time.perf_counter() - started
        return report

    def _status(self, article: Article, seen: set[str]) -> str:
        """'new', 'update' (same id, changed content or missing chunks), 'skip' (unchanged) or 'duplicate'
        (same text, other id). A first look, without the write lock: ``_decide`` has the last word."""
        digest = text_hash(article.text)
        if article.id in seen:
            return "skip"
        if digest in seen:
            return "duplicate"
        seen.add(digest)
        return self._stored_status(article)

    def _stored_status(self, article: Article) -> str:
        state = self.store.committed(article.id)
        if state is not None and state.complete and state.content_hash == article.content_hash:
            return "skip"
        if state is None and (other := self.store.find_text(text_hash(article.text))) and other != article.id:
            found = self.store.committed(other)
            if found is not None and found.complete:
                return "duplicate"  # the same text under another id: an exact duplicate
        return "new" if state is None else "update"

    def _decide(
        self, article: Article, stories: StoryIndex | None, joined: dict[str, str]
    ) -> tuple[str, StoryMatch | None]:
        """Under the write lock: what to do with ``article`` given everything committed by now."""
        status = self._stored_status(article)
        if status == "skip":
            return status, None
        if status == "new" and (other := self.store.find_text(text_hash(article.text))) and other != article.id:
            self.store.delete_article(other)  # a record of this text that lost its chunks: replaced by this one
        if stories is not None and (story := stories.match(article, stored_only=True)) is not None:
            joined[article.id] = story.story_id
            return "copy", story  # another writer committed a near-copy meanwhile: join its story
        return ("skip" if status == "duplicate" else status), None

    def _flush(
        self,
        pending: list[tuple[Article, list[Chunk]]],
        report: IngestReport,
        writer: ThreadPoolExecutor,
        inflight: Future[None] | None,
        stories: StoryIndex | None = None,
        copies: list[tuple[Article, StoryMatch]] | None = None,
        joined: dict[str, str] | None = None,
    ) -> Future[None]:
        texts = [f"{a.title}\n{c.text}" if a.title else c.text for a, chunks in pending for c in chunks]
        vectors = self.embedder.embed(texts)
        if inflight:
            inflight.result()  # one write at a time, in order

        def write() -> None:
            offset = 0
            with self.store.write_lock():
                for article, chunks in pending:
                    article_vectors = vectors[offset : offset + len(chunks)]
                    offset += len(chunks)
                    status, story = self._decide(article, stories, joined if joined is not None else {})
                    if story is not None and copies is not None:
                        copies.append((article, story))
                        continue
                    if status == "skip":
                        report.skipped += 1
                        continue
                    if status == "update" and stories is not None:
                        article = stories.carry_over(article)  # read now: copies recorded meanwhile stay listed
                    extra = stories.fields(article) if stories else None  # near-duplicate signature
                    self.store.write_article(article, chunks, article_vectors, extra_metadata=extra)
                    report.updated += status == "update"
                    report.ingested += status != "update"
                    report.chunks += len(chunks)
                    report.article_ids.append(article.id)
                self.store.bump_generation()

        return writer.submit(write)
