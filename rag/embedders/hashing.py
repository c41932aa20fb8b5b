"""A deterministic word-hashing embedder for plumbing tests and benchmarks (no model, no torch)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from rag.embedders.base import Embedder
from rag.errors import ConfigError

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


def hash_embedder(name: str, _batch: int) -> Embedder:
    if not name.isdigit() or not 8 <= int(name) <= 4096:
        raise ConfigError(
            f"hash embedder needs a dimension from 8 to 4096, e.g. NEWSQA_EMBED_MODEL=hash:384 (got {name!r})"
        )
    return HashEmbedder(int(name))
