"""Every sentence of every article, with its offsets and its embedding, computed once per article.

Why: the old answerer embedded a shortlist of 5 sentences per question (latency), so the sentence that
answered was often never compared semantically, and it only saw sentences of the retrieved chunks. Here
each article's sentences are embedded once, when it is ingested (``Engine.ingest_*`` calls :meth:`add`), and
any sentence of a retrieved article is a candidate whose cosine with the question is one matrix product.

It is a derived cache, like the BM25 index: one ``.npz`` file per article under
``<cache_dir>/sentences-v<FORMAT>/`` (no pickle: arrays and unicode strings only), keyed by the article's
text hash, so a write costs work proportional to the write and concurrent writers never clash (atomic
replace). An article missing from the cache (ingested by an older version or another process) is embedded
on first use and saved. Offsets are into ``Article.text``, so quotes stay verbatim.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.bm25 import View
from rag.embedders import Embedder
from rag.text.normalize import is_call_to_action
from rag.text.sentences import sentence_spans
from rag.text.tokens import tokenize
from rag.types import Article

log = logging.getLogger(__name__)


class TextEmbedder(Protocol):
    """What the index needs of an embedder (the static one of ``static_vectors`` has no token counts)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


FORMAT = 1
_WORD = re.compile(r"\w+")


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class ArticleSentences:
    """The sentences of one article: ``text[starts[i]:ends[i]] == texts[i]``, ``vectors[i]`` unit-norm."""

    article_id: str
    text_hash: str
    starts: np.ndarray
    ends: np.ndarray
    texts: list[str]
    vectors: np.ndarray  # float32 (n, dim)
    _tokens: list[set[str]] | None = field(default=None, repr=False)
    _keys: list[tuple[str, bool]] | None = field(default=None, repr=False)
    _words: list[int] | None = field(default=None, repr=False)

    @property
    def tokens(self) -> list[set[str]]:
        """Stemmed tokens of each sentence (computed on first use, then kept)."""
        if self._tokens is None:
            self._tokens = [set(t) for t in tokenize(self.texts)]
        return self._tokens

    @property
    def candidate_keys(self) -> list[tuple[str, bool]]:
        """Per sentence: its words lower-cased (to drop repeats across articles) and whether it can answer at
        all (5+ words, not a call to action). Computed on first use, then kept: ~10 ms a question otherwise."""
        if self._keys is None:
            keys, counts = [], []
            for text in self.texts:
                found = _WORD.findall(text)
                n = len(found)
                # ASCII: lower-casing maps letters to letters, so the words of the lower-cased text are these
                # lower-cased (one regex pass instead of two); other text is matched again (lower() can change
                # what counts as a word character, "İ" -> "i̇").
                norm = " ".join(found).lower() if text.isascii() else " ".join(_WORD.findall(text.lower()))
                keys.append((norm, n >= 5 and not is_call_to_action(text)))
                counts.append(n)
            self._words, self._keys = counts, keys
        return self._keys

    @property
    def word_counts(self) -> list[int]:
        """Per sentence: its number of words (``\\w+`` runs), counted with ``candidate_keys``."""
        if self._words is None:
            _ = self.candidate_keys  # counts them too
        return self._words or []

    def __len__(self) -> int:
        return len(self.texts)


def split_article(text: str) -> tuple[list[int], list[int], list[str]]:
    spans = [(s, e) for s, e in sentence_spans(text) if text[s:e].strip()]
    return [s for s, _ in spans], [e for _, e in spans], [text[s:e] for s, e in spans]


class SentenceIndex:
    """Per-article sentence vectors: filled at ingest, loaded lazily, thread-safe."""

    def __init__(
        self, cache_dir: Path, embedder: Embedder | TextEmbedder, get_article: Callable[[str], Article]
    ) -> None:
        self.dir = cache_dir / f"sentences-v{FORMAT}"
        self.embedder = embedder
        self.get_article = get_article
        self._mem: dict[str, ArticleSentences] = {}
        self._lock = threading.Lock()

    def _path(self, article_id: str) -> Path:
        return self.dir / f"{hashlib.sha1(article_id.encode()).hexdigest()}.npz"

    # ---- writes -----------------------------------------------------------------------------------
    def add(self, articles: Iterable[Article], batch: int = 2048) -> int:
        """Embed and save the sentences of ``articles`` that are not cached yet; returns how many were new."""
        todo = []
        for a in articles:
            cached = self._mem.get(a.id) or self._load(a.id)
            if cached is None or cached.text_hash != _text_hash(a.text):
                todo.append(a)
        pending: list[tuple[Article, list[int], list[int], list[str]]] = []
        n_sent = 0
        for a in todo:
            starts, ends, texts = split_article(a.text)
            pending.append((a, starts, ends, texts))
            n_sent += len(texts)
            if n_sent >= batch:
                self._embed_and_save(pending)
                pending, n_sent = [], 0
        if pending:
            self._embed_and_save(pending)
        save = getattr(self.embedder, "save", None)  # a static embedder caches the token vectors it computed
        if todo and save:
            save()
        return len(todo)

    def _embed_and_save(self, pending: list[tuple[Article, list[int], list[int], list[str]]]) -> None:
        all_texts = [t for _, _, _, texts in pending for t in texts]
        vectors = self.embedder.embed(all_texts) if all_texts else np.zeros((0, 0), dtype=np.float32)
        pos = 0
        for a, starts, ends, texts in pending:
            vecs = vectors[pos : pos + len(texts)]
            pos += len(texts)
            entry = ArticleSentences(
                a.id,
                _text_hash(a.text),
                np.asarray(starts, dtype=np.int32),
                np.asarray(ends, dtype=np.int32),
                texts,
                np.asarray(vecs, dtype=np.float32),
            )
            self._save(entry)
            with self._lock:
                self._mem[a.id] = entry

    def _save(self, entry: ArticleSentences) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp.npz")
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    article_id=np.array(entry.article_id),
                    text_hash=np.array(entry.text_hash),
                    starts=entry.starts,
                    ends=entry.ends,
                    texts=np.array(entry.texts, dtype=str),
                    vectors=entry.vectors.astype(np.float16),
                )
            os.replace(tmp, self._path(entry.article_id))
        except OSError as exc:  # a read-only cache costs time (re-embedding), not correctness
            log.warning("could not save sentence vectors under %s: %s", self.dir, exc)

    # ---- reads ------------------------------------------------------------------------------------
    def _load(self, article_id: str) -> ArticleSentences | None:
        try:
            with np.load(self._path(article_id), allow_pickle=False) as z:
                if str(z["article_id"]) != article_id:
                    return None
                entry = ArticleSentences(
                    article_id,
                    str(z["text_hash"]),
                    z["starts"],
                    z["ends"],
                    [str(t) for t in z["texts"]],
                    z["vectors"].astype(np.float32),
                )
        except (OSError, KeyError, ValueError):
            return None
        with self._lock:
            self._mem[article_id] = entry
        return entry

    def get_cached(self, article_id: str) -> ArticleSentences | None:
        """The article's sentences if cached (memory or disk), without embedding anything."""
        return self._mem.get(article_id) or self._load(article_id)

    def get(self, article_id: str) -> ArticleSentences | None:
        """The article's sentences, embedding them now if no cache has them (None: no such article)."""
        entry = self._mem.get(article_id) or self._load(article_id)
        if entry is not None:
            return entry
        try:
            article = self.get_article(article_id)
        except Exception:
            return None
        self.add([article])
        return self._mem.get(article_id)

    def load_all(self) -> int:
        """Read every cached article into memory (warm-up); returns how many."""
        if not self.dir.is_dir():
            return 0
        n = 0
        for path in self.dir.glob("*.npz"):
            try:
                with np.load(path, allow_pickle=False) as z:
                    aid = str(z["article_id"])
                    if aid not in self._mem:
                        self._mem[aid] = ArticleSentences(
                            aid,
                            str(z["text_hash"]),
                            z["starts"],
                            z["ends"],
                            [str(t) for t in z["texts"]],
                            z["vectors"].astype(np.float32),
                        )
                        n += 1
            except (OSError, KeyError, ValueError):
                continue
        return n


class ChunkLocator:
    """(article id, start, end) -> (id, index) of the chunk holding that span, from the metadata of that article's
    chunks in the current BM25 view, so a citation of any sentence names a real chunk."""

    def __init__(self, snapshot: Callable[[], View]) -> None:
        self._snapshot = snapshot

    def __call__(self, article_id: str, start: int, end: int) -> tuple[str, int] | None:
        snap = self._snapshot()
        chunks = []
        for row in snap.article_rows_of([article_id]):  # the article's few chunks, not every chunk's metadata
            meta = snap.row_metas[row]
            chunks.append((int(meta["start"]), int(meta["end"]), snap.row_ids[row], int(meta["index"])))
        for s, e, cid, index in sorted(chunks):
            if s <= start and end <= e:
                return cid, index
        return None
