"""The deterministic hash embedder for tests whose subject is plumbing, not answer quality.

It is the product's ``hash:<dim>`` provider (``rag/embedders/hashing.py``), so a subprocess gets the same one with
``NEWSQA_EMBED_MODEL=hash:384`` (``HASH_ENV``) and never imports torch (~16 s saved per process).
"""

from __future__ import annotations

from rag.embedders import load_embedder
from rag.embedders.hashing import HashEmbedder

HASH_MODEL = "hash:384"
HASH_ENV = {"NEWSQA_EMBED_MODEL": HASH_MODEL}


def hash_embedder(dim: int = 384) -> HashEmbedder:
    """The same embedder ``NEWSQA_EMBED_MODEL=hash:<dim>`` selects."""
    embedder = load_embedder(f"hash:{dim}")
    assert isinstance(embedder, HashEmbedder)
    return embedder
