"""A static (bag-of-token-vectors) sentence embedder distilled from the bundled MiniLM, for sentence vectors.

Why: every sentence of every article needs a vector (``sentence_index``), and the transformer costs ~4x the
chunk ingest on this 2-core machine (measured while shared with other jobs: 9 articles in 2 min, a 949-article
corpus would take hours). The model2vec recipe, done here without the extra dependency: pass every token of
the model's vocabulary through the model once (``[CLS] token [SEP]``, mean-pooled like the model's own
pooling), then embed a sentence as the weighted mean of its tokens' vectors (stop words and punctuation
weighted down). `make setup` computes the whole 30k vocabulary once per machine through ONNX Runtime (87 s on
the loaded machine) beside the ONNX export; a store starts from that table, and a token it lacks is computed
the first time a text holds it; the store's copy is ``<cache_dir>/static-minilm-v<FORMAT>.npz`` (no pickle).
An unreadable copy (truncated, garbage bytes) is a derived cache: logged, deleted and replaced by the shared
table (else the model), never raised into a question. Nothing downloads. Embedding a
sentence is a table lookup (~100x faster than the transformer).

Its cosines measure topic overlap like MiniLM's but coarser; the learned scorer weighs them accordingly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from bm25s.stopwords import STOPWORDS_EN as STOPWORDS

log = logging.getLogger(__name__)
FORMAT = 1
_PUNCT = re.compile(r"^(##)?[^\w]+$")
STOP_WEIGHT, PUNCT_WEIGHT = 0.2, 0.0


@runtime_checkable
class TokenSource(Protocol):
    """What a static embedder is distilled from: the ONNX and the sentence-transformers embedders."""

    dim: int

    def vocabulary(self) -> dict[str, int]: ...
    def token_ids(self, texts: Sequence[str]) -> list[list[int]]: ...
    def token_vectors(self, ids: np.ndarray) -> np.ndarray: ...


class StaticEmbedder:
    """``embed(texts)`` -> unit vectors from a token table filled lazily (a token's vector is computed the
    first time a text holds it), centred by a fixed sample of the vocabulary so cosines spread out (without
    centring every pair of sentences scores 0.65-0.87; centred, related 0.2-0.45, unrelated 0.06-0.12)."""

    SAMPLE = range(1000, 30_000, 15)

    def __init__(self, source: TokenSource, path: Path | None = None, seed: Path | None = None) -> None:
        self.source = source
        vocabulary = source.vocabulary()
        n = max(vocabulary.values()) + 1
        self.dim = source.dim
        self.table = np.zeros((n, self.dim), dtype=np.float32)
        self.known = np.zeros(n, dtype=bool)
        self.weights = _weights(vocabulary, n)
        self.path = path
        self._lock = threading.Lock()  # concurrent requests fill the table and save it
        self.name = "static-minilm"
        self._dirty = False
        self._start_from([p for p in (path, seed) if p is not None and p.exists()])
        self._fill(np.array([i for i in self.SAMPLE if i < n]))
        self.centre = self.table[[i for i in self.SAMPLE if i < n]].mean(axis=0)

    def _start_from(self, candidates: list[Path]) -> None:
        """Load the first readable table: the store's copy, else the shared one `make setup` wrote, else none
        (each token is then computed from the model when a text first holds it). An unreadable file (truncated,
        garbage bytes) is logged and skipped, never raised, so a serving process keeps answering; a broken
        store copy is also deleted (a derived cache), so it is logged once, not at every start."""
        for k, candidate in enumerate(candidates):
            try:
                with np.load(candidate, allow_pickle=False) as z:
                    table, known = z["table"].astype(np.float32), z["known"]
                self.table[:] = table
                self.known[:] = known
                return
            except Exception as exc:  # a derived cache: whatever np.load or zipfile raise, rebuild it
                self.table[:], self.known[:] = 0.0, False  # nothing half-copied from a wrong-shaped table
                fallback = str(candidates[k + 1]) if k + 1 < len(candidates) else "the model"
                log.warning(
                    "static vector table %s is unreadable (%s: %s); ignoring it and starting from %s",
                    candidate,
                    type(exc).__name__,
                    exc,
                    fallback,
                )
                if candidate == self.path:  # the store's own copy: gone, the next process starts as a new store
                    with contextlib.suppress(OSError):
                        candidate.unlink()

    def _fill(self, ids: np.ndarray) -> None:
        missing = np.unique(ids[~self.known[ids]]) if len(ids) else ids
        if len(missing):
            with self._lock:
                self.table[missing] = self.source.token_vectors(missing)
                self.known[missing] = True
                self._dirty = True

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        rows = self.source.token_ids(texts)
        flat = np.fromiter((i for row in rows for i in row), dtype=np.int64)
        self._fill(flat)
        for k, row in enumerate(rows):
            if row:
                w = self.weights[row]
                v = ((self.table[row] - self.centre) * w[:, None]).sum(axis=0)
                n = float(np.linalg.norm(v))
                if n > 0:
                    out[k] = v / n
        return out

    def learn(self, texts: Sequence[str]) -> None:
        """Compute (and persist) the vectors of the tokens ``texts`` hold, so no question pays for them: the
        ingest of a new article does this, in proportion to the words it is the first to use."""
        self._fill(np.fromiter((i for row in self.source.token_ids(texts) for i in row), dtype=np.int64))
        self.save()

    def learn_vocabulary(self) -> None:
        """Every token of the vocabulary (the shared table `make setup` writes)."""
        self._fill(np.arange(len(self.known)))
        self.save()

    def save(self) -> None:
        """Persist the token vectors computed so far (atomic replace; a derived cache)."""
        if not self._dirty or self.path is None:
            return
        with self._lock:
            self._save(self.path)

    def _save(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, table=self.table.astype(np.float16), known=self.known)
            os.replace(tmp, path)
            self._dirty = False
        except OSError as exc:
            log.warning("could not cache the static embedder at %s: %s", path, exc)


def _weights(vocabulary: dict[str, int], n: int) -> np.ndarray:
    weights = np.ones(n, dtype=np.float32)
    for token, i in vocabulary.items():
        if _PUNCT.match(token) or (token.startswith("[") and token.endswith("]")):
            weights[i] = PUNCT_WEIGHT
        elif token in STOPWORDS:
            weights[i] = STOP_WEIGHT
    return weights


def load_static_embedder(embedder: Any, cache_dir: Path) -> StaticEmbedder | None:
    """The static embedder distilled from ``embedder`` (ONNX or sentence-transformers MiniLM), its token
    vectors cached in ``cache_dir``; None when the embedder has no tokens to distil (the hash embedder)."""
    if not isinstance(embedder, TokenSource):
        return None
    return StaticEmbedder(embedder, cache_dir / f"static-minilm-v{FORMAT}.npz", seed=shared_table(embedder))


def shared_table(embedder: Any) -> Path | None:
    """The whole vocabulary's table, computed once per machine by `make setup` beside the ONNX export."""
    onnx_path = getattr(embedder, "onnx_path", None)
    return Path(f"{onnx_path}.static-v{FORMAT}.npz") if onnx_path else None


if __name__ == "__main__":  # `make setup`: every token of the default model's vocabulary, once (~30 s idle)
    from rag.embedders import load_embedder
    from rag.settings import DEFAULT_EMBED_MODEL

    model = load_embedder(DEFAULT_EMBED_MODEL)
    target = shared_table(model)
    if target is not None and not target.exists():
        StaticEmbedder(model, target).learn_vocabulary()  # type: ignore[arg-type]
    print(target)
