"""The sentence-transformers embedder (torch): the reference implementation; importing it alone costs ~13 s."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.embedders.base import SMALL_INPUT_CHARS, bundled_model_dir
from rag.errors import ConfigError


class SentenceTransformerEmbedder:
    """sentence-transformers model from a local directory or a bundled package (never the hub)."""

    def __init__(self, model: str, batch_size: int = 64, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        path = Path(model)
        if not path.exists():
            bundled = bundled_model_dir(model)
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
        threads = 1 if sum(len(t) for t in texts) < SMALL_INPUT_CHARS else self._threads
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
