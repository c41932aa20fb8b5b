"""BM25 (and, on small stores, the chunk vectors) over the chunks: a derived cache of the Chroma collection.

The index also keeps every chunk's text and metadata in memory, so search builds passages without a
second round trip to the store. It is persisted with the store's generation token and rebuilt whenever
the store's token differs (another process ingested or deleted).

Persistence holds data only, never code (no pickle: loading one runs code, and a single flipped byte in the
old pickle made every search fail until someone deleted it, probe M4). A snapshot is a directory: bm25s's
own ``save`` for both retrievers, ``.npy`` arrays loaded with ``allow_pickle=False``, JSON for texts and
metadata. A manifest (format version, generation, sha256 of every file) is written last and renamed into
place atomically; a snapshot whose manifest, version or checksums do not match is discarded and rebuilt from
the store, with one warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from rag.store import ChromaStore
from rag.text.ids import source_key
from rag.text.tokens import tokenize

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s forces DEBUG on import

_FORMAT = 5  # bump when the snapshot's files change: older caches are then discarded and rebuilt


def index_text(title: str | None, text: str) -> str:
    """What both retrievers see of a chunk: its article's title, then the chunk."""
    return f"{title}\n{text}" if title else text


@dataclass
class Bm25Snapshot:
    generation: str
    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    retriever: bm25s.BM25 | None
    doc_freq: dict[str, int] = field(default_factory=dict)
    # Whole-article BM25: article_chunks[j] are the chunk positions of article j (in order).
    article_retriever: bm25s.BM25 | None = None
    article_chunks: list[list[int]] = field(default_factory=list)
    # Chunk vectors (row i = ids[i]) for exact dense search in memory on small stores; None on large ones.
    vectors: np.ndarray | None = None
    # Derived from ids and metas (filters read them as arrays): never passed in, never persisted.
    position: dict[str, int] = field(init=False)
    published_ts: np.ndarray = field(init=False)
    source_keys: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.position = {cid: i for i, cid in enumerate(self.ids)}
        self.published_ts = _published(self.metas)
        self.source_keys = _source_keys(self.metas)


def _published(metas: list[dict[str, Any]]) -> np.ndarray:
    return np.array([int(m.get("published_ts", -1)) for m in metas], dtype=np.int64)


def _source_keys(metas: list[dict[str, Any]]) -> np.ndarray:
    return np.array([source_key(m.get("source")) for m in metas], dtype=object)


def _article_texts(texts: list[str], metas: list[dict[str, Any]]) -> tuple[list[str], list[list[int]]]:
    """Each article's title and text, stitched back from its chunks' offsets (overlaps counted once)."""
    groups: dict[str, list[int]] = {}
    for i, m in enumerate(metas):
        groups.setdefault(m["article_id"], []).append(i)
    docs, members = [], []
    for positions in groups.values():
        positions.sort(key=lambda i: int(metas[i]["index"]))
        parts, covered = [], 0
        for i in positions:
            start, end = int(metas[i]["start"]), int(metas[i]["end"])
            if end > covered:
                parts.append(texts[i][max(covered - start, 0) :])
                covered = end
        docs.append(index_text(metas[positions[0]].get("title"), " ".join(parts)))
        members.append(positions)
    return docs, members


def build_snapshot(
    generation: str,
    ids: list[str],
    texts: list[str],
    metas: list[dict[str, Any]],
    vectors: np.ndarray | None = None,
) -> Bm25Snapshot:
    retriever = article_retriever = None
    article_chunks: list[list[int]] = []
    doc_freq: Counter[str] = Counter()
    if ids:
        tokens = tokenize([index_text(m.get("title"), t) for t, m in zip(texts, metas, strict=True)])
        for doc in tokens:
            doc_freq.update(set(doc))
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        article_docs, article_chunks = _article_texts(texts, metas)
        article_retriever = bm25s.BM25()
        article_retriever.index(tokenize(article_docs), show_progress=False)
    return Bm25Snapshot(
        generation=generation,
        ids=ids,
        texts=texts,
        metas=metas,
        retriever=retriever,
        doc_freq=dict(doc_freq),
        article_retriever=article_retriever,
        article_chunks=article_chunks,
        vectors=vectors,
    )


def _scores(retriever: bm25s.BM25 | None, query: str, n: int) -> np.ndarray:
    if retriever is None:
        return np.zeros(n, dtype=np.float32)
    tokens = [t for t in tokenize([query])[0] if t in retriever.vocab_dict]
    if not tokens:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(retriever.get_scores(tokens))


class Bm25Index:
    """Keeps a BM25 snapshot in step with the store; thread-safe for concurrent searches."""

    def __init__(self, store: ChromaStore, cache_dir: Path, name: str, max_vector_chunks: int = 200_000) -> None:
        self._store = store
        self._max_vector_chunks = max_vector_chunks
        self._cache_dir = cache_dir
        self._name = name
        self._warned = False  # a damaged cache is reported once per process, then rebuilt quietly
        self._lock = threading.Lock()
        self._snapshot: Bm25Snapshot | None = None

    def current(self) -> Bm25Snapshot:
        """The snapshot for the store as it is now, rebuilt or reloaded if another process wrote."""
        generation = self._store.generation()
        snap = self._snapshot
        if snap is not None and snap.generation == generation:
            return snap
        with self._lock:
            if self._snapshot is not None and self._snapshot.generation == generation:
                return self._snapshot
            snap = self._load(generation)
            if snap is None:
                keep = 0 < self._store.counts()["chunks"] <= self._max_vector_chunks
                ids, texts, metas, vectors = self._store.all_chunks(with_vectors=keep)
                snap = build_snapshot(generation, ids, texts, metas, vectors if keep else None)
                self._save(snap)
            self._snapshot = snap
            return snap

    def scores(self, snap: Bm25Snapshot, query: str) -> np.ndarray:
        """BM25 score of every chunk in the snapshot for ``query`` (zeros when nothing matches)."""
        return _scores(snap.retriever, query, len(snap.ids))

    def article_scores(self, snap: Bm25Snapshot, query: str) -> np.ndarray:
        """BM25 score of every whole article (order of ``snap.article_chunks``)."""
        return _scores(snap.article_retriever, query, len(snap.article_chunks))

    def idf(self, token: str) -> float:
        """Inverse document frequency of a (stemmed) token over the chunks of the latest snapshot."""
        snap = self._snapshot
        if snap is None:
            return 1.0
        df = max(snap.doc_freq.get(token, 0), 1)  # unseen terms are no rarer than a term seen once
        return math.log(1.0 + (len(snap.ids) - df + 0.5) / (df + 0.5))

    def _load(self, generation: str) -> Bm25Snapshot | None:
        """The persisted snapshot for ``generation``; None (rebuild) when absent, stale or unreadable."""
        try:
            return load_snapshot(self._cache_dir, self._name, generation)
        except Exception as exc:  # any damage (flipped byte, truncation, foreign file) costs a rebuild only
            level = logging.WARNING if not self._warned else logging.DEBUG
            self._warned = True
            log.log(level, "discarding the unreadable BM25 cache in %s (%s); rebuilding it", self._cache_dir, exc)
            return None

    def _save(self, snap: Bm25Snapshot) -> None:
        try:
            save_snapshot(self._cache_dir, self._name, snap)
        except OSError as exc:  # a read-only cache dir costs start-up time, not correctness
            log.warning("could not persist the BM25 cache in %s: %s", self._cache_dir, exc)


# ---- persistence: data files only, a checksummed manifest written last ----------------------------------
def manifest_path(cache_dir: Path, name: str) -> Path:
    return cache_dir / f"bm25-{name}.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


def save_snapshot(cache_dir: Path, name: str, snap: Bm25Snapshot) -> None:
    """Write ``snap`` to a fresh directory, then point the manifest at it (atomic rename); drop older ones."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    folder = cache_dir / f"bm25-{name}.snap-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    _write_json(
        folder / "chunks.json",
        {"ids": snap.ids, "texts": snap.texts, "metas": snap.metas, "article_chunks": snap.article_chunks},
    )
    _write_json(folder / "doc_freq.json", snap.doc_freq)
    if snap.retriever is not None:
        snap.retriever.save(str(folder / "chunk_bm25"))
    if snap.article_retriever is not None:
        snap.article_retriever.save(str(folder / "article_bm25"))
    if snap.vectors is not None:
        np.save(folder / "vectors.npy", np.ascontiguousarray(snap.vectors, dtype=np.float32), allow_pickle=False)
    files = {p.relative_to(folder).as_posix(): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    manifest = {"format": _FORMAT, "generation": snap.generation, "folder": folder.name, "files": files}
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh)
    os.replace(tmp, manifest_path(cache_dir, name))  # atomic: readers see the old or the new manifest
    _remove_others(cache_dir, name)


def _remove_others(cache_dir: Path, name: str) -> None:
    """Delete snapshot folders the manifest no longer names, and pickles from before format 5 (best effort)."""
    try:
        current = json.loads(manifest_path(cache_dir, name).read_text(encoding="utf-8"))["folder"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    for old in cache_dir.glob(f"bm25-{name}.snap-*"):
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
    for legacy in cache_dir.glob(f"bm25-{name}-v*.pkl"):
        legacy.unlink(missing_ok=True)


def load_snapshot(cache_dir: Path, name: str, generation: str) -> Bm25Snapshot | None:
    """The saved snapshot if it is for ``generation``; None when there is none or it is stale.

    Raises (ValueError, OSError, ...) when a cache is there but damaged: wrong version, checksum mismatch,
    missing or extra files, unreadable content."""
    path = manifest_path(cache_dir, name)
    if not path.exists():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ValueError(f"format {found!r}, expected {_FORMAT}")
    if manifest["generation"] != generation:
        return None  # the store changed since: a normal rebuild, not damage
    folder = cache_dir / str(manifest["folder"])
    if folder.parent != cache_dir or not folder.is_dir():
        raise ValueError(f"snapshot folder {manifest['folder']!r} is missing")
    files: dict[str, str] = manifest["files"]
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    if present != set(files):
        raise ValueError("the snapshot's files differ from its manifest")
    for rel, digest in files.items():
        if _sha256(folder / rel) != digest:
            raise ValueError(f"checksum mismatch in {rel}")
    chunks = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
    ids, texts, metas = list(chunks["ids"]), list(chunks["texts"]), [dict(m) for m in chunks["metas"]]
    if not len(ids) == len(texts) == len(metas):
        raise ValueError("chunk lists of different lengths")
    vectors = None
    if (folder / "vectors.npy").exists():
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        if vectors.dtype != np.float32 or vectors.ndim != 2 or len(vectors) != len(ids):
            raise ValueError(f"vectors of shape {vectors.shape} for {len(ids)} chunks")
    retriever = article_retriever = None
    if (folder / "chunk_bm25").is_dir():
        retriever = bm25s.BM25.load(str(folder / "chunk_bm25"), allow_pickle=False)
    if (folder / "article_bm25").is_dir():
        article_retriever = bm25s.BM25.load(str(folder / "article_bm25"), allow_pickle=False)
    return Bm25Snapshot(
        generation=generation,
        ids=ids,
        texts=texts,
        metas=metas,
        retriever=retriever,
        doc_freq={str(k): int(v) for k, v in json.loads((folder / "doc_freq.json").read_text("utf-8")).items()},
        article_retriever=article_retriever,
        article_chunks=[[int(i) for i in group] for group in chunks["article_chunks"]],
        vectors=vectors,
    )
