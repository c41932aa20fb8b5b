"""The Chroma store: the single source of truth for articles and chunks.

Two collections: ``<name>_chunks`` (one record per chunk, embedded) and ``<name>_articles`` (one record per
article holding its full text, embedded with the mean of its chunk vectors). The article record is written
last and acts as the commit marker of an ingest: chunks without a committed article are orphans that
``repair()`` removes, so a process killed mid-ingest never leaves a half-indexed article behind.

Several writers share a store (CLI ingests, the feed poller, HTTP posts, other processes). Every write runs
under one store-wide write lock (``write_lock``: a threading lock plus an ``fcntl.flock`` on a file in the
data directory), so while the lock is held no live writer is half-way through an article, and every orphan
seen then is a dead writer's. Each ingest run also holds a writer session (a flocked file); a session file
whose lock is free belongs to a writer that died, and only then does ``repair()`` scan the store, under the
write lock. Before this (probe H1), repair ran unlocked at every ingest and deleted the uncommitted chunks of
live concurrent writers: 8 of 24 articles posted 8 at a time were committed without chunks.

Every write sets a fresh ``generation`` token in the chunk collection's metadata; derived caches (BM25)
compare it with theirs and catch up when another process has changed the store. Every chunk a write touches
carries ``written_ns`` (the write's time, taken under the write lock, so it grows with commit order), so they
read only what changed since (``chunks_written_since``) instead of the whole store (rag.bm25.live).
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import numpy as np

from rag.errors import NotFound, StoreUnavailable
from rag.settings import Settings
from rag.store.locks import file_lock, is_free
from rag.store.schema import (
    ARTICLE_ID,
    BAND_KEY,
    N_CHUNKS,
    TEXT_HASH,
    WRITTEN_NS,
    also_in_json,
    article_from,
    article_metadata,
    chunk_metadata,
    passage_from,
)
from rag.types import Article, Chunk, OutletCopy, Passage

_PAGE = 5000


@dataclass(frozen=True)
class Committed:
    """What the store holds for an article id: its content hash, and whether all its chunks are there."""

    content_hash: str
    complete: bool


class ChromaStore:
    """Articles and chunks in Chroma, embedded or behind a Chroma server (``NEWSQA_CHROMA_URL``)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._chunks_name = f"{settings.collection}_chunks"
        self._known_generation: str | None = None
        self._dense_stale = False  # another process wrote: reopen before the next read of vectors
        locks = settings.data_dir.resolve() / "locks"
        self._write_lock = file_lock(locks / f"{settings.collection}.write.lock")
        self._sessions = locks / f"{settings.collection}.writers"
        self._scanned = self._sessions / ".scanned"  # absent: a store from before sessions, scan it once
        try:
            with self._write_lock.hold():  # two processes creating one new store at once race Chroma's schema setup
                self._open()
        except OSError as exc:  # the data dir is a file, read-only, or gone: one line, a 503 over HTTP
            raise StoreUnavailable(f"cannot open the store under {settings.data_dir}: {exc.strerror or exc}") from exc

    def _open(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = self._settings
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if settings.chroma_url:
                url = urlparse(settings.chroma_url)
                self.client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
                self.client.heartbeat()
            else:
                settings.chroma_path.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
            space = {"hnsw": {"space": "cosine"}}
            self.chunks = self.client.get_or_create_collection(self._chunks_name, configuration=space)  # type: ignore[arg-type]
            self.articles = self.client.get_or_create_collection(
                f"{settings.collection}_articles",
                configuration=space,  # type: ignore[arg-type]
            )
        except Exception as exc:  # chroma raises a zoo of exception types; the user needs one line
            where = settings.chroma_url or settings.chroma_path
            raise StoreUnavailable(f"cannot open the Chroma store at {where}: {exc}") from exc

    @property
    def vectors_current(self) -> bool:
        """Whether vectors can be read now without a reopen (no other process wrote since the last one)."""
        return not self._dense_stale

    def _fresh_vectors(self) -> None:
        """Reopen if another process wrote since the last reopen: this client's vector index predates it."""
        if self._dense_stale:
            self._dense_stale = False
            self._reopen()

    @contextmanager
    def _vector_reader(self) -> Iterator[Any]:
        """The chunk collection to read vectors from: this client's, or, when another process wrote since it
        was opened, a client opened now on the same files and closed after. Not a reopen of this client: that
        would close it under a concurrent search. ("path/." is another Chroma identifier, so another client.)"""
        if self._settings.chroma_url or not self._dense_stale:
            yield self.chunks
            return
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path = f"{self._settings.chroma_path}/."
        client = chromadb.PersistentClient(path=path, settings=ChromaSettings(anonymized_telemetry=False))
        try:
            yield client.get_collection(self._chunks_name)
        finally:
            client.close()  # type: ignore[attr-defined]  # present at run time (chromadb 1.5), not in the stubs

    def _reopen(self) -> None:
        """Reload the embedded store from disk: its in-memory vector index does not see other processes' writes."""
        if self._settings.chroma_url:
            return
        close = getattr(self.client, "close", None)
        if close:
            close()
        self._open()

    # ---- generation token -------------------------------------------------------------------------
    def generation(self) -> str:
        """Token that changes on every write, read fresh from the store (other processes write too).

        When it changed behind this process's back, vectors are read through a fresh client (``dense_search``
        reopens this one; ``chunk_records``/``all_chunks`` open a second one): a stale client fails to read
        another process's new chunks' vectors ("Error finding id"). Not here: the first read after a reopen
        costs ~0.7 s at 10k chunks (Chroma loads the collection again), and reads of ids, texts and metadata
        see other processes' writes without one."""
        meta = self.client.get_collection(self._chunks_name).metadata or {}
        token = str(meta.get("generation", "empty"))
        if self._known_generation is not None and token != self._known_generation:
            self._dense_stale = True
        self._known_generation = token
        return token

    def bump_generation(self) -> None:
        token = uuid.uuid4().hex
        self.chunks.modify(metadata={"generation": token})
        self._known_generation = token

    # ---- writers ----------------------------------------------------------------------------------
    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Store-wide write lock (threads and processes on this data dir); reentrant in one thread.

        Hold it around "is this article already stored?" and the write that follows, so two writers of one
        text cannot both decide it is new. Keep slow work (embedding) outside."""
        with self._write_lock.hold():
            yield

    @contextmanager
    def writer_session(self) -> Iterator[None]:
        """Mark a live writer for the duration of one ingest run (a flocked file under the data dir).

        A clean exit removes the file; a crash (or kill -9) leaves it with its lock free, which tells the next
        ``repair()`` that a writer died and the store may hold its orphans."""
        self._sessions.mkdir(parents=True, exist_ok=True)
        path = self._sessions / f"{os.getpid()}-{uuid.uuid4().hex}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
            path.unlink(missing_ok=True)  # only on a clean exit: a failed run's orphans get repaired
        finally:
            os.close(fd)

    def repair(self) -> int:
        """Delete what dead writers left (chunks whose article was never committed); returns how many.

        Scans the store only when a writer session's lock is free (its writer died) or on the first run of a
        store that predates sessions; runs under the write lock, so no live writer's work is in flight."""
        legacy = not self._scanned.exists()
        dead = [] if legacy else [p for p in self._sessions.glob("*.lock") if is_free(p)]
        if not legacy and not dead:
            return 0
        with self.write_lock():
            committed = set(self.articles.get(include=[])["ids"])
            orphans = [cid for cid, meta in self.iter_chunk_metadata() if meta[ARTICLE_ID] not in committed]
            for start in range(0, len(orphans), _PAGE):
                self.chunks.delete(ids=orphans[start : start + _PAGE])
            if orphans:
                self.bump_generation()
            self._sessions.mkdir(parents=True, exist_ok=True)
            self._scanned.touch()
            for path in dead:
                path.unlink(missing_ok=True)
        return len(orphans)

    # ---- writes -----------------------------------------------------------------------------------
    def committed(self, article_id: str) -> Committed | None:
        """The committed record of ``article_id``, if any, and whether its chunk count is real.

        A record whose chunks are missing (e.g. lost to the old repair race) is not complete: re-ingesting
        the article indexes it again instead of calling it a duplicate."""
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        metas = got["metadatas"] or []
        if not metas:
            return None
        meta: dict[str, Any] = dict(metas[0])
        actual = len(self.chunks.get(where={ARTICLE_ID: article_id}, include=[])["ids"])
        return Committed(str(meta.get("content_hash")), complete=actual == int(meta.get(N_CHUNKS, 0)))

    def committed_hash(self, article_id: str) -> str | None:
        """Content hash of a complete committed record (None when absent or missing chunks)."""
        state = self.committed(article_id)
        return state.content_hash if state and state.complete else None

    def find_text(self, digest: str) -> str | None:
        """Id of a committed article with exactly this text (see ``rag.text.ids.text_hash``), if any."""
        got = self.articles.get(where={TEXT_HASH: digest}, limit=1, include=[])
        return got["ids"][0] if got["ids"] else None

    def write_article(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        extra_metadata: dict[str, Any] | None = None,
    ) -> None:
        """Replace everything stored for ``article`` with these chunks; the article record commits it.

        ``extra_metadata`` goes on the article record only (e.g. near-duplicate signatures, ingest.neardup).
        """
        with self.write_lock():
            self.articles.delete(ids=[article.id])  # uncommit first: a crash below leaves orphans, not a mix
            base = article_metadata(article)
            written = {WRITTEN_NS: time.time_ns()}
            if len(chunks):
                self.chunks.upsert(
                    ids=[c.id for c in chunks],
                    documents=[c.text for c in chunks],
                    embeddings=vectors,  # type: ignore[arg-type]
                    metadatas=[{**chunk_metadata(base, c), **written} for c in chunks],
                )
            stale = self.chunks.get(where={ARTICLE_ID: article.id}, include=[])["ids"]
            keep = {c.id for c in chunks}
            if extra := [i for i in stale if i not in keep]:
                self.chunks.delete(ids=extra)
            mean = vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1], dtype=np.float32)
            norm = float(np.linalg.norm(mean)) or 1.0
            self.articles.upsert(
                ids=[article.id],
                documents=[article.text],
                embeddings=[(mean / norm).tolist()],
                metadatas=[{**base, N_CHUNKS: len(chunks), **(extra_metadata or {})}],
            )

    def set_also_in(self, article_id: str, copies: Sequence[OutletCopy]) -> None:
        """List other outlets of a story on its article record and on every chunk (passages carry it)."""
        fields = {"also_in": also_in_json(copies)}
        with self.write_lock():
            self.articles.update(ids=[article_id], metadatas=[fields])
            ids = self.chunks.get(where={ARTICLE_ID: article_id}, include=[])["ids"]
            chunk_fields: dict[str, Any] = {**fields, WRITTEN_NS: time.time_ns()}  # one stamp for the article's chunks
            for start in range(0, len(ids), _PAGE):
                page = ids[start : start + _PAGE]
                self.chunks.update(ids=page, metadatas=[chunk_fields] * len(page))
            self.bump_generation()  # the BM25 cache holds chunk metadata too

    def delete_article(self, article_id: str) -> int:
        """Remove an article and all its chunks; returns the number of chunks removed."""
        with self.write_lock():
            ids = self.chunks.get(where={ARTICLE_ID: article_id}, include=[])["ids"]
            if not ids and not self.exists(article_id):
                raise NotFound(f"no article with id {article_id!r} (see `newsqa articles`)")
            self.articles.delete(ids=[article_id])
            if ids:
                self.chunks.delete(ids=ids)
            self.bump_generation()
            return len(ids)

    # ---- reads ------------------------------------------------------------------------------------
    def iter_chunk_metadata(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for page in self._pages(self.chunks, include=["metadatas"]):
            yield from zip(page["ids"], page["metadatas"] or [], strict=True)

    def all_chunks(self, with_vectors: bool = False) -> tuple[list[str], list[str], list[dict[str, Any]], np.ndarray]:
        """Every chunk's id, text, metadata and (optionally) vector, for building derived indexes."""
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        include = ["documents", "metadatas", *(["embeddings"] if with_vectors else [])]
        with self._vector_reader() if with_vectors else nullcontext(self.chunks) as chunks:
            for page in self._pages(chunks, include=include):
                ids += page["ids"]
                docs += page["documents"] or []
                metas += [dict(m) for m in page["metadatas"] or []]
                if with_vectors:
                    vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
        return ids, docs, metas, (np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32))

    def chunk_ids(self) -> list[str]:
        """Every chunk id (no content): 60 ms at 10k chunks; how derived indexes find deletions."""
        return [cid for page in self._pages(self.chunks, include=[]) for cid in page["ids"]]

    def chunk_count(self) -> int:
        return self.chunks.count()

    def chunks_written_since(self, written_ns: int) -> dict[str, int]:
        """Id -> ``written_ns`` of the chunks a write touched at or after ``written_ns`` (see ``WRITTEN_NS``)."""
        where: dict[str, Any] = {WRITTEN_NS: {"$gte": written_ns}}
        got = self.chunks.get(where=where, include=["metadatas"])
        return {cid: int(str(m[WRITTEN_NS])) for cid, m in zip(got["ids"], got["metadatas"] or [], strict=True)}

    def chunk_records(
        self, ids: Sequence[str], with_vectors: bool = False, fresh_client: bool = True
    ) -> tuple[list[str], list[str], list[dict[str, Any]], np.ndarray]:
        """Id, text, metadata and (optionally) vector of these chunks (those still stored), like ``all_chunks``.

        ``fresh_client=False`` reads vectors through this client even when another process wrote since it was
        opened: cheap, but raises for that process's new chunks (the caller then reads them without vectors)."""
        out: tuple[list[str], list[str], list[dict[str, Any]]] = ([], [], [])
        vectors: list[np.ndarray] = []
        include = ["documents", "metadatas", *(["embeddings"] if with_vectors else [])]
        with self._vector_reader() if with_vectors and fresh_client else nullcontext(self.chunks) as chunks:
            for start in range(0, len(ids), _PAGE):
                page = chunks.get(ids=list(ids[start : start + _PAGE]), include=include)  # type: ignore[arg-type]
                out[0].extend(page["ids"])
                out[1].extend(page["documents"] or [])
                out[2].extend(dict(m) for m in page["metadatas"] or [])
                if with_vectors and page["ids"]:
                    vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
        return *out, (np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32))

    def get_chunks(self, ids: Sequence[str]) -> list[Passage]:
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {
            cid: passage_from(cid, doc, dict(meta))
            for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def dense_search(self, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        """Chunk ids and cosine similarities, best first."""
        self._fresh_vectors()
        count = self.chunks.count()
        if count == 0:
            return []
        for attempt in (1, 2):
            try:
                res = self.chunks.query(
                    query_embeddings=[vector.tolist()], n_results=min(n, count), where=where, include=["distances"]
                )
                break
            except Exception as exc:  # a stale in-memory index after a concurrent write: reload once
                if attempt == 2:
                    raise StoreUnavailable(f"dense search failed: {exc}") from exc
                self._reopen()
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], (res["distances"] or [[]])[0], strict=True)]

    def exists(self, article_id: str) -> bool:
        """Whether an article record (indexed article or syndicated copy) with this id is committed."""
        return bool(self.articles.get(ids=[article_id], include=[])["ids"])

    def article_meta(self, article_id: str) -> dict[str, Any] | None:
        """The raw metadata of a committed article record (see ``rag.store.schema``), if any."""
        metas = self.articles.get(ids=[article_id], include=["metadatas"])["metadatas"] or []
        return dict(metas[0]) if metas else None

    def article_vector(self, article_id: str) -> np.ndarray | None:
        """The vector of a committed article record (the mean of its chunk vectors), if any."""
        got = self.articles.get(ids=[article_id], include=["embeddings"])
        embeddings = got["embeddings"]
        return np.asarray(embeddings[0], dtype=np.float32) if got["ids"] and embeddings is not None else None

    def story_candidates(self, band_keys: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        """Article records sharing at least one LSH band key with a signature (ingest.neardup), with metadata."""
        clauses: list[dict[str, Any]] = [{BAND_KEY.format(i): key} for i, key in enumerate(band_keys)]
        got = self.articles.get(where={"$or": clauses}, include=["metadatas"])
        return list(zip(got["ids"], [dict(m) for m in got["metadatas"] or []], strict=True))

    def get_article(self, article_id: str) -> Article:
        got = self.articles.get(ids=[article_id], include=["documents", "metadatas"])
        if not got["ids"]:
            raise NotFound(f"no article with id {article_id!r} (see `newsqa articles`)")
        return article_from(dict((got["metadatas"] or [{}])[0]), (got["documents"] or [""])[0])

    def list_articles(self, where: dict[str, Any] | None = None) -> list[tuple[Article, int]]:
        """Committed articles (text omitted) with their chunk counts, newest first."""
        out = []
        for page in self._pages(self.articles, include=["metadatas"], where=where):
            for meta in page["metadatas"] or []:
                out.append((article_from(dict(meta), ""), int(meta.get(N_CHUNKS, 0))))
        epoch = datetime.min.replace(tzinfo=UTC)
        out.sort(key=lambda item: (item[0].published or epoch, item[0].id), reverse=True)
        return out

    def counts(self) -> dict[str, int]:
        return {"articles": self.articles.count(), "chunks": self.chunks.count()}

    @staticmethod
    def _pages(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[Any]:
        offset = 0
        while True:
            page = collection.get(include=include, limit=_PAGE, offset=offset, where=where)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])
