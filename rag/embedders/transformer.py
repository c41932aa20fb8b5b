"""The sentence-transformers embedder (torch): the reference implementation; importing it alone costs ~13 s."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
        return [len(ids) for ids in self.token_ids(texts)]

    # ---- what rag.answer.static_vectors distils a static embedder from ----
    def vocabulary(self) -> dict[str, int]:
        return dict(self._model.tokenizer.get_vocab())

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        tokenizer = self._model.tokenizer
        return list(tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"])

    def token_vectors(self, ids: np.ndarray, batch: int = 512) -> np.ndarray:
        """Mean-pooled output of ``[CLS] token [SEP]`` for each token id (the model2vec recipe)."""
        import torch

        transformer: Any = self._model[0].auto_model  # a transformers model (the stubs type it as a tensor)
        cls, sep = self._model.tokenizer.cls_token_id, self._model.tokenizer.sep_token_id
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(ids), batch):
                chunk = torch.as_tensor(ids[start : start + batch])
                inputs = torch.stack([torch.full_like(chunk, cls), chunk, torch.full_like(chunk, sep)], dim=1)
                hidden = transformer(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
                out[start : start + len(chunk)] = hidden.mean(dim=1).numpy()
        return out
