"""The base snapshot: BM25 (and, on small stores, the chunk vectors) over every chunk, built from Chroma.

The snapshot also keeps every chunk's text and metadata in memory, so search builds passages without a
second round trip to the store. It is immutable: what was written since it was built is served as a delta
over it (``rag.bm25.delta``), and a new base is built in the background when the delta grows
(``rag.bm25.live``). Building one reads every chunk back from Chroma (5.5 s at 9,874 chunks) and indexes
them (6.5 s with tokenising, on the shared machine), linear in size.
It is persisted with the store's generation token and its watermark (the newest ``written_ns`` it holds), so a
new process starts from it and reads only what was written after.

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
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from rag.store import WRITTEN_NS
from rag.text.ids import source_key
from rag.text.tokens import tokenize

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s forces DEBUG on import

_FORMAT = 6  # bump when the snapshot's files change: older caches are then discarded and rebuilt


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
    # Mean token count of a chunk / an article: what a delta needs to score with these statistics.
    chunk_avgdl: float = 0.0
    article_avgdl: float = 0.0
    built_ns: int = 0  # when it was built (time.time_ns()): the newer of two persisted bases wins
    # Derived from ids and metas (filters read them as arrays): never passed in, never persisted.
    position: dict[str, int] = field(init=False)
    published_ts: np.ndarray = field(init=False)
    source_keys: np.ndarray = field(init=False)
    watermark: int = field(init=False)  # newest written_ns held (0: none, a store from before written_ns)
    article_index: dict[str, int] = field(init=False)  # article id -> j in article_chunks
    chunk_article: np.ndarray = field(init=False)  # chunk position -> j in article_chunks

    def __post_init__(self) -> None:
        self.position = {cid: i for i, cid in enumerate(self.ids)}
        self.published_ts = _published(self.metas)
        self.source_keys = _source_keys(self.metas)
        self.watermark = max((int(m.get(WRITTEN_NS, 0)) for m in self.metas), default=0)
        self.article_index = {self.metas[g[0]]["article_id"]: j for j, g in enumerate(self.article_chunks)}
        self.chunk_article = np.zeros(len(self.ids), dtype=np.int64)
        for j, group in enumerate(self.article_chunks):
            self.chunk_article[group] = j


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
    _write_json(
        folder / "stats.json",
        {"chunk_avgdl": snap.chunk_avgdl, "article_avgdl": snap.article_avgdl, "built_ns": snap.built_ns},
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
    stats = json.loads((folder / "stats.json").read_text("utf-8"))
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
        chunk_avgdl=float(stats["chunk_avgdl"]),
        article_avgdl=float(stats["article_avgdl"]),
        built_ns=int(stats["built_ns"]),
    )
