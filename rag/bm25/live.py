"""Keeps the lexical/dense view in step with the store, without a query ever waiting for a rebuild.

Before, every write changed the store's generation and the next search in every process rebuilt the whole
snapshot from Chroma on the query path: 6.2 s at 9,874 chunks, linear in size. Now a search that finds the
generation changed catches up by the write, not by the store (``rag.bm25.delta``):

- it reads the ids of the chunks written since its watermark (``written_ns``, ~4 ms), then the texts,
  metadata and vectors of those it does not hold as written, tokenises them and serves base + delta: 13 ms
  for a 10-chunk article. Vectors another process wrote cannot be read through this process's Chroma
  client until it is reopened (a fresh client's first read costs ~0.7 s at 10k chunks), so those chunks are
  read without them (BM25 finds them at once) and the worker reads their vectors through a fresh client;
- deletions: when the live row count differs from Chroma's count, it lists every chunk id (60 ms at 10k
  chunks) and tombstones the missing ones; above ``scan_sync_max`` rows that scan runs in the background;
- a catch-up of more than ``sync_max_chunks`` new chunks (a bulk ingest), and the fold of a delta grown past
  ``max(merge_min, merge_fraction x base)`` into a new base, run on one background thread while the previous
  view serves. A new base is saved for the other processes, which load it (under a build lock) instead of
  building their own when it covers their view;
- while one thread catches up, other searches are served the previous view; only a process with no view at
  all (cold start, no saved base) builds synchronously, once.

Why a delta over bm25s rather than tantivy (measured at 9,874 chunks, same machine, one run; the bm25s
figures include our tokenizer): a full build takes bm25s 6.5 s (tokenising alone 2.4 s; chunk and article
indexes) against tantivy's 1.2 s, but adding one article (10 chunks) takes 13 ms as a bm25s delta against
135 ms for a tantivy commit + reader reload; a query is 0.2 ms against 0.6 ms (top 60). Reading every chunk
back from Chroma costs another 5.5 s for either engine. With the delta a full build happens only off the
query path, once per ``merge_min`` chunks written, so tantivy's faster build would not shorten any search,
while its tokenizer and BM25 differ from ours (Snowball stems, bm25s stop words, ``lucene`` scoring), which
RRF fusion and the answerer's idf were tuned on. Freshness before/after: ``benchmarks/index_freshness.py``
(one article searchable in another process 0.11 s after its commit, was 19 s; search p95 during writes
0.7 s, was 24.8 s).
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path

from rag.bm25.delta import DeltaChunk, View, delta_chunks
from rag.bm25.snapshot import Bm25Snapshot, build_snapshot, load_snapshot, read_manifest, save_snapshot
from rag.store import ChromaStore
from rag.store.locks import file_lock

log = logging.getLogger("rag.bm25")

SLACK_NS = 5_000_000_000  # re-read 5 s before the watermark: a write whose clock ran a little behind is not lost


class Bm25Index:
    """The current ``View`` of the store for search; thread-safe for concurrent searches.

    ``incremental=False`` is the old behaviour (rebuild on the query path), kept for the benchmark."""

    def __init__(
        self,
        store: ChromaStore,
        cache_dir: Path,
        name: str,
        max_vector_chunks: int = 200_000,
        *,
        incremental: bool = True,
        sync_max_chunks: int = 500,
        scan_sync_max: int = 50_000,
        merge_min: int = 2_000,
        merge_fraction: float = 0.1,
    ) -> None:
        self._store = store
        self._max_vector_chunks = max_vector_chunks
        self._cache_dir = cache_dir
        self._name = name
        self.incremental = incremental
        self.sync_max_chunks = sync_max_chunks
        self.scan_sync_max = scan_sync_max
        self.merge_min = merge_min
        self.merge_fraction = merge_fraction
        self._warned = False  # a damaged cache is reported once per process, then rebuilt quietly
        self._lock = threading.Lock()  # one catch-up at a time; searches never wait for it once a view exists
        self._view: View | None = None
        self._worker: threading.Thread | None = None
        self._worker_guard = threading.Lock()
        self.builds = 0  # bases built by this process (tests, benchmarks)

    # ---- the query path ---------------------------------------------------------------------------
    def current(self) -> View:
        """The view for the store as it is now, or, while another thread or the background worker is catching
        up, the previous one."""
        generation = self._store.generation()
        view = self._view
        if view is not None and view.generation == generation:
            return view
        if view is None or not self.incremental:
            with self._lock:  # cold start (or the old behaviour): build or load synchronously
                if self._view is None or (not self.incremental and self._view.generation != generation):
                    self._view = self._start(generation)
                view = self._view
            if view.generation == generation or not self.incremental:
                return view
        if not self._lock.acquire(blocking=False):
            return view  # another thread is catching up: serve the previous view meanwhile
        try:
            if self._view is not None and self._view.generation != generation:
                self._view = self._catch_up(self._view, generation, background=False)
            return self._view or view
        except Exception as exc:  # Chroma read during another process's write ("Error finding id"): serve, retry
            log.warning("BM25 catch-up failed (%s); serving the previous view, the next search retries", exc)
            return view
        finally:
            self._lock.release()

    def idf(self, token: str) -> float:
        """Inverse document frequency of a (stemmed) token over the chunks of the latest base."""
        view = self._view
        if view is None:
            return 1.0
        df = max(view.base.doc_freq.get(token, 0), 1)  # unseen terms are no rarer than a term seen once
        return math.log(1.0 + (len(view.base.ids) - df + 0.5) / (df + 0.5))

    def wait_idle(self, timeout: float) -> bool:
        """Wait for the background worker to finish (tests, benchmarks); True when it is idle."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self._worker is None or not self._worker.is_alive()

    # ---- catching up --------------------------------------------------------------------------------
    def _start(self, generation: str) -> View:
        """A first view: the saved base if there is one (then caught up), else a base built now."""
        base = self._load(None if self.incremental else generation)
        if base is None:
            base = self._build()
            return View(base.generation, base)
        view = View(base.generation, base, {})
        return view if base.generation == generation else self._catch_up(view, generation, background=False)

    def _catch_up(self, view: View, generation: str, background: bool) -> View:
        """``view`` plus what was written and deleted since, labelled ``generation`` (read before any of this, so
        a write that lands meanwhile changes the generation and the next search catches up again)."""
        store = self._store
        written = [
            cid for cid, ns in store.chunks_written_since(view.watermark - SLACK_NS).items() if view.written(cid) != ns
        ]
        if not background and len(written) > self.sync_max_chunks:
            self._in_background()  # a bulk write: the worker catches up (or rebuilds); serve this view
            return view
        if background:  # chunks read on the query path without their vectors: read them now
            written = sorted(set(written) | set(view.missing_vectors))
        fetched = self._fetch(view, written, background)
        new = view.changed(generation, fetched)
        if int(new.alive.sum()) != store.chunk_count():  # deleted, or written by code that predates written_ns
            if not background and new.size > self.scan_sync_max:
                self._in_background()
                return new
            new = self._reconcile(new, generation, set(store.chunk_ids()), background)
        if new.missing_vectors or len(new.delta) > max(self.merge_min, self.merge_fraction * len(new.base.ids)):
            self._in_background()
        return new

    def _reconcile(self, view: View, generation: str, stored: set[str], background: bool) -> View:
        """``view`` made to hold exactly the ``stored`` chunk ids: the missing ones tombstoned, unknown ones (from
        writers that predate ``written_ns``) read with the rest of their articles, which they replace."""
        live = set(view.ids)
        unknown = self._fetch(view, sorted(stored - live), background)
        known = {c.id for c in unknown}
        siblings = [
            cid
            for cid in (view.row_ids[row] for row in view.article_rows_of({c.article_id for c in unknown}))
            if cid in stored and cid not in known
        ]
        fetched = unknown + self._fetch(view, siblings, background)
        return view.changed(generation, fetched, gone=live - stored, newest_only=False)

    def _fetch(self, view: View, ids: list[str], background: bool) -> list[DeltaChunk]:
        """These chunks as Chroma holds them now; tokens reused for chunks the view holds unchanged.

        Vectors (when the base keeps them): on the query path only through the current client, which cannot
        read another process's new vectors until reopened (the first read of a fresh client costs ~0.7 s at
        10k chunks); then they are read without, and the worker reads them through a fresh client."""
        if not ids:
            return []
        store, want = self._store, view.base.vectors is not None
        try:
            records = store.chunk_records(ids, with_vectors=want, fresh_client=background or store.vectors_current)
        except Exception:
            if background or not want:
                raise
            records = store.chunk_records(ids)  # "Error finding id": another process's chunks; vectors later
        got_ids, texts, metas, vectors = records
        return delta_chunks(got_ids, texts, metas, vectors if len(vectors) else None, known=view.delta)

    # ---- off the query path -------------------------------------------------------------------------
    def _in_background(self) -> None:
        """Start the worker unless it is running: it brings the view up to date, folding a big delta into a
        new base first."""
        with self._worker_guard:
            if self._worker is not None and self._worker.is_alive():
                return
            self._worker = threading.Thread(target=self._work, name=f"bm25-{self._name}", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        """Bring the view up to date off the query path; the slow reads (a new base, vectors through a fresh
        Chroma client) run without the lock, so searches keep catching up with new writes meanwhile."""
        try:
            for _ in range(3):  # what searches caught up meanwhile may need another round (their vectors)
                view = self._view
                if view is None:
                    return
                pending = len(self._store.chunks_written_since(view.watermark - SLACK_NS)) + len(view.delta)
                if pending > max(self.merge_min, self.merge_fraction * len(view.base.ids)):
                    base = self._newer_base(view)
                    view = View(base.generation, base, {})
                new = self._catch_up(view, self._store.generation(), background=True)
                with self._lock:  # brief: what searches caught up meanwhile is read again on top (cheap)
                    generation = self._store.generation()
                    if self._view is not view and new.generation != generation:
                        new = self._catch_up(new, generation, background=False)
                    self._view = new
                if not new.missing_vectors and len(new.delta) <= max(
                    self.merge_min, self.merge_fraction * len(new.base.ids)
                ):
                    return
        except Exception:  # the previous view keeps serving; the next search that needs a catch-up retries
            log.exception("background refresh of the BM25 index failed")

    def _newer_base(self, view: View) -> Bm25Snapshot:
        """A base covering at least ``view``: the saved one if another process built it, else built now."""
        with file_lock(self._cache_dir / f"bm25-{self._name}.build.lock").hold():  # one build across processes
            try:
                manifest = read_manifest(self._cache_dir, self._name)
            except (OSError, ValueError):
                manifest = None
            if (
                manifest
                and int(manifest.get("watermark", 0)) >= view.watermark
                and int(manifest["built_ns"]) > int(view.base.built_ns)
            ):
                saved = self._load(None)
                if saved is not None:
                    return saved
            return self._build()

    # ---- bases ----------------------------------------------------------------------------------------
    def _build(self) -> Bm25Snapshot:
        """A base from every chunk in the store, saved for the other processes."""
        generation = self._store.generation()  # before reading: a write meanwhile is caught up afterwards
        keep = self._max_vector_chunks > 0 and self._store.chunk_count() <= self._max_vector_chunks
        for attempt in range(1, 4):
            try:  # a full read racing another process's write can fail inside Chroma ("Error finding id")
                ids, texts, metas, vectors = self._store.all_chunks(with_vectors=keep)
                break
            except Exception as exc:
                if attempt == 3:
                    raise
                log.warning("reading the store for the BM25 base failed (%s); reading it again", exc)
        base = build_snapshot(generation, ids, texts, metas, vectors if keep else None)
        self.builds += 1
        return self._save(base)

    def _load(self, generation: str | None) -> Bm25Snapshot | None:
        """The saved base (for ``generation`` when given); None (build) when absent, stale or unreadable."""
        try:
            return load_snapshot(self._cache_dir, self._name, generation)
        except Exception as exc:  # any damage (flipped byte, truncation, foreign file) costs a rebuild only
            level = logging.WARNING if not self._warned else logging.DEBUG
            self._warned = True
            log.log(level, "discarding the unreadable BM25 cache in %s (%s); rebuilding it", self._cache_dir, exc)
            return None

    def _save(self, snap: Bm25Snapshot) -> Bm25Snapshot:
        """``snap`` saved for the other processes, and read back from its files (memory-mapped) to serve."""
        try:
            return save_snapshot(self._cache_dir, self._name, snap)
        except OSError as exc:  # a read-only cache dir costs start-up time and memory, not correctness
            log.warning("could not persist the BM25 cache in %s: %s", self._cache_dir, exc)
            return snap
