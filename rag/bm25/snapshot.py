"""The base snapshot: BM25 (and, on small stores, the chunk vectors) over every chunk, built from Chroma.

The snapshot also keeps every chunk's text and metadata, so search builds passages without a second round
trip to the store. Once saved (and when loaded) they stay on disk, memory-mapped and read per chunk
(``rag.bm25.ondisk``), like the vectors and the BM25 scores: a serving process holds the ids and a few
per-chunk arrays, and the files' pages are shared by every process on the machine (a process's own memory
after loading one: 20 MB at 9,874 chunks, was 72 MB when every text, metadata dict and vector was copied in;
~50 MB at 100k, was ~620 MB; ``benchmarks/snapshot_memory.py``). It is immutable: what was written since it
was built is served as a delta over it (``rag.bm25.delta``), and a new base is built in the background when
the delta grows (``rag.bm25.live``). Building one reads every chunk back from Chroma (5.5 s at 9,874 chunks)
and indexes them (6.5 s with tokenising, on the shared machine), linear in size.
It is persisted with the store's generation token and its watermark (the newest ``written_ns`` it holds), so a
new process starts from it and reads only what was written after.

Persistence holds data only, never code (no pickle: loading one runs code, and a single flipped byte in the
old pickle made every search fail until someone deleted it, probe M4). A snapshot is a directory: bm25s's
own ``save`` for both retrievers, ``.npy`` arrays loaded with ``allow_pickle=False`` (texts and metadata as
UTF-8 and JSON bytes in ``.npy`` columns), JSON for the ids and statistics. A manifest (format version,
generation, sha256 of every file) is written last and renamed into
place atomically; a snapshot whose manifest, version or checksums do not match is discarded and rebuilt from
the store, with one warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from rag.bm25.ondisk import load_column, save_column
from rag.store import WRITTEN_NS
from rag.text.ids import source_key
from rag.text.tokens import tokenize

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s forces DEBUG on import

_FORMAT = 7  # bump when the snapshot's files change: older caches are then discarded and rebuilt


def index_text(title: str | None, text: str) -> str:
    """What both retrievers see of a chunk: its article's title, then the chunk."""
    return f"{title}\n{text}" if title else text


@dataclass(frozen=True)
class ChunkColumns:
    """Per chunk (or article), what is read of every one at once: filters, grouping, catch-up."""

    published_ts: np.ndarray  # int64, -1 when undated
    published: list[str]  # the ISO time the recency prior reads ("": undated), without parsing each metadata
    source_keys: np.ndarray  # object: ``source_key`` of each chunk's outlet
    article_ids: list[str]  # of article j in ``article_chunks``
    watermark: int

    @classmethod
    def of(cls, metas: Sequence[dict[str, Any]], article_chunks: list[list[int]]) -> ChunkColumns:
        return cls(
            published_ts=_published(metas),
            published=[str(m.get("published") or "") for m in metas],
            source_keys=_source_keys(metas),
            article_ids=[str(metas[group[0]]["article_id"]) for group in article_chunks],
            watermark=max((int(m.get(WRITTEN_NS, 0)) for m in metas), default=0),
        )


@dataclass
class Bm25Snapshot:
    generation: str
    ids: list[str]
    texts: Sequence[str]  # on disk (``rag.bm25.ondisk``) once saved or loaded
    metas: Sequence[dict[str, Any]]
    retriever: bm25s.BM25 | None
    doc_freq: dict[str, int]
    # Whole-article BM25: article_chunks[j] are the chunk positions of article j (in order).
    article_retriever: bm25s.BM25 | None
    article_chunks: list[list[int]]
    # Chunk vectors (row i = ids[i]) for exact dense search in memory on small stores; None on large ones.
    vectors: np.ndarray | None
    # Mean token count of a chunk / an article: what a delta needs to score with these statistics.
    chunk_avgdl: float
    article_avgdl: float
    built_ns: int  # when it was built (time.time_ns()): the newer of two persisted bases wins
    # What filters and catch-ups read of every chunk's metadata, kept in memory while the metadata is on disk.
    columns: ChunkColumns
    # Derived from ids and article_chunks: never passed in, never persisted.
    position: dict[str, int] = field(init=False)
    article_index: dict[str, int] = field(init=False)  # article id -> j in article_chunks
    chunk_article: np.ndarray = field(init=False)  # chunk position -> j in article_chunks

    def __post_init__(self) -> None:
        self.position = {cid: i for i, cid in enumerate(self.ids)}
        self.article_index = {aid: j for j, aid in enumerate(self.columns.article_ids)}
        self.chunk_article = np.zeros(len(self.ids), dtype=np.int64)
        for j, group in enumerate(self.article_chunks):
            self.chunk_article[group] = j

    @property
    def published_ts(self) -> np.ndarray:
        return self.columns.published_ts

    @property
    def source_keys(self) -> np.ndarray:
        return self.columns.source_keys

    @property
    def watermark(self) -> int:
        """The newest ``written_ns`` held (0: none, a store from before ``written_ns``)."""
        return self.columns.watermark


def _published(metas: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([int(m.get("published_ts", -1)) for m in metas], dtype=np.int64)


def _source_keys(metas: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([source_key(m.get("source")) for m in metas], dtype=object)


def _article_texts(texts: Sequence[str], metas: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[int]]]:
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
    built_ns = time.time_ns()
    retriever = article_retriever = None
    article_chunks: list[list[int]] = []
    doc_freq: Counter[str] = Counter()
    chunk_avgdl = article_avgdl = 0.0
    if ids:
        tokens = tokenize([index_text(m.get("title"), t) for t, m in zip(texts, metas, strict=True)])
        for doc in tokens:
            doc_freq.update(set(doc))
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        article_docs, article_chunks = _article_texts(texts, metas)
        article_tokens = tokenize(article_docs)
        article_retriever = bm25s.BM25()
        article_retriever.index(article_tokens, show_progress=False)
        chunk_avgdl = float(np.mean([len(t) for t in tokens]))
        article_avgdl = float(np.mean([len(t) for t in article_tokens]))
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
        chunk_avgdl=chunk_avgdl,
        article_avgdl=article_avgdl,
        built_ns=built_ns,
        columns=ChunkColumns.of(metas, article_chunks),
    )


def scores(retriever: bm25s.BM25 | None, query: str, n: int) -> np.ndarray:
    if retriever is None:
        return np.zeros(n, dtype=np.float32)
    tokens = [t for t in tokenize([query])[0] if t in retriever.vocab_dict]
    if not tokens:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(retriever.get_scores(tokens))


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


def save_snapshot(cache_dir: Path, name: str, snap: Bm25Snapshot) -> Bm25Snapshot:
    """Write ``snap`` to a fresh directory, then point the manifest at it (atomic rename); drop older ones.

    Returns the snapshot read back from its files (texts, metadata, vectors and scores memory-mapped), which
    the caller serves instead of ``snap``, so the process that built a base holds no more than the others."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    folder = cache_dir / f"bm25-{name}.snap-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    _write_json(
        folder / "chunks.json",
        {
            "ids": snap.ids,
            "article_chunks": snap.article_chunks,
            "article_ids": snap.columns.article_ids,
            "source_keys": snap.source_keys.tolist(),
            "published": snap.columns.published,
        },
    )
    save_column(folder, "texts", (t.encode("utf-8") for t in snap.texts))
    save_column(folder, "metas", (json.dumps(m, ensure_ascii=False).encode("utf-8") for m in snap.metas))
    np.save(folder / "published_ts.npy", snap.published_ts, allow_pickle=False)
    _write_json(folder / "doc_freq.json", snap.doc_freq)
    _write_json(
        folder / "stats.json",
        {
            "chunk_avgdl": snap.chunk_avgdl,
            "article_avgdl": snap.article_avgdl,
            "built_ns": snap.built_ns,
            "watermark": snap.watermark,
        },
    )
    if snap.retriever is not None:
        snap.retriever.save(str(folder / "chunk_bm25"))
    if snap.article_retriever is not None:
        snap.article_retriever.save(str(folder / "article_bm25"))
    if snap.vectors is not None:
        np.save(folder / "vectors.npy", np.ascontiguousarray(snap.vectors, dtype=np.float32), allow_pickle=False)
    files = {p.relative_to(folder).as_posix(): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    manifest = {
        "format": _FORMAT,
        "generation": snap.generation,
        "watermark": snap.watermark,
        "built_ns": snap.built_ns,
        "folder": folder.name,
        "files": files,
    }
    saved = _open(folder, snap.generation)  # mapped first: a newer save that removes the files cannot pull them away
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh)
    os.replace(tmp, manifest_path(cache_dir, name))  # atomic: readers see the old or the new manifest
    _remove_others(cache_dir, name)
    return saved


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


def read_manifest(cache_dir: Path, name: str) -> dict[str, Any] | None:
    """The saved snapshot's manifest (None when there is none); raises ValueError when it is not this format's."""
    path = manifest_path(cache_dir, name)
    if not path.exists():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ValueError(f"format {found!r}, expected {_FORMAT}")
    return manifest


def load_snapshot(cache_dir: Path, name: str, generation: str | None = None) -> Bm25Snapshot | None:
    """The saved snapshot (if ``generation`` is given, only if it is for that generation); None when there is
    none or it is for another generation.

    Raises (ValueError, OSError, ...) when a cache is there but damaged: wrong version, checksum mismatch,
    missing or extra files, unreadable content."""
    manifest = read_manifest(cache_dir, name)
    if manifest is None:
        return None
    generation = generation or str(manifest["generation"])
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
    return _open(folder, generation)


def _open(folder: Path, generation: str) -> Bm25Snapshot:
    """The snapshot in ``folder``: ids, statistics and per-chunk arrays read into memory; texts, metadata, vectors
    and BM25 scores memory-mapped, read when used (the mapping outlives the files if another process's
    newer snapshot replaces them)."""
    chunks = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
    ids = [str(cid) for cid in chunks["ids"]]
    texts = load_column(folder, "texts", bytes.decode)
    metas = load_column(folder, "metas", json.loads)
    interned: dict[str, str] = {}  # one string per outlet or date, not one per chunk
    source_keys = np.array([interned.setdefault(k, k) for k in chunks["source_keys"]], dtype=object)
    published = [interned.setdefault(str(d), str(d)) for d in chunks["published"]]
    published_ts = np.load(folder / "published_ts.npy", allow_pickle=False)
    if published_ts.dtype != np.int64 or published_ts.ndim != 1:
        raise ValueError(f"publication times of type {published_ts.dtype}")
    if not len(ids) == len(texts) == len(metas) == len(source_keys) == len(published_ts) == len(published):
        raise ValueError("chunk columns of different lengths")
    vectors = None
    if (folder / "vectors.npy").exists():
        vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)  # read-only: never written
        if vectors.dtype != np.float32 or vectors.ndim != 2 or len(vectors) != len(ids):
            raise ValueError(f"vectors of shape {vectors.shape} for {len(ids)} chunks")
    retriever = article_retriever = None
    if (folder / "chunk_bm25").is_dir():
        retriever = bm25s.BM25.load(str(folder / "chunk_bm25"), mmap=True, allow_pickle=False)
    if (folder / "article_bm25").is_dir():
        article_retriever = bm25s.BM25.load(str(folder / "article_bm25"), mmap=True, allow_pickle=False)
    stats = json.loads((folder / "stats.json").read_text("utf-8"))
    article_chunks = [[int(i) for i in group] for group in chunks["article_chunks"]]
    return Bm25Snapshot(
        generation=generation,
        ids=ids,
        texts=texts,
        metas=metas,
        retriever=retriever,
        doc_freq={str(k): int(v) for k, v in json.loads((folder / "doc_freq.json").read_text("utf-8")).items()},
        article_retriever=article_retriever,
        article_chunks=article_chunks,
        vectors=vectors,
        chunk_avgdl=float(stats["chunk_avgdl"]),
        article_avgdl=float(stats["article_avgdl"]),
        built_ns=int(stats["built_ns"]),
        columns=ChunkColumns(
            published_ts=published_ts,
            published=published,
            source_keys=source_keys,
            article_ids=[str(a) for a in chunks["article_ids"]],
            watermark=int(stats["watermark"]),
        ),
    )
