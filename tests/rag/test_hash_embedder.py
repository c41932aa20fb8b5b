"""The deterministic ``hash:<dim>`` embedder provider that plumbing tests use (rag/embedders/hashing.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rag.embedders import load_embedder
from rag.embedders.hashing import HashEmbedder
from rag.errors import ConfigError
from tests.builders import FLAGSHIP
from tests.conftest import ROOT, SEED


def test_hash_vectors_are_pinned_so_every_process_gets_the_same_ones():
    # blake2b, not the per-process salted hash(): these numbers hold in any process, on any machine.
    embedder = load_embedder("hash:16")
    assert isinstance(embedder, HashEmbedder) and (embedder.name, embedder.dim) == ("hash:16", 16)
    assert embedder._word_slots("dell") == [
        (3, -1.0), (1, -1.0), (0, -1.0), (9, -1.0), (2, -1.0), (6, 1.0), (7, 1.0), (14, 1.0)
    ]  # fmt: skip
    [vector] = embedder.embed(["Dell wins"])
    assert vector.dtype == np.float32 and np.linalg.norm(vector) == pytest.approx(1.0)
    assert np.flatnonzero(vector).tolist() == [0, 1, 3, 6, 7, 12, 15]


def test_texts_sharing_words_are_closer_than_unrelated_texts():
    embedder = load_embedder("hash:384")
    question, answer, unrelated = embedder.embed([FLAGSHIP, "Dell benefits if Supermicro loses xAI.", "Bananas"])
    assert question @ answer > 0.5 > question @ unrelated
    assert np.array_equal(embedder.embed([FLAGSHIP])[0], question)  # same text, same vector


def test_hash_tokens_are_whitespace_words_and_an_empty_text_is_still_a_unit_vector():
    embedder = load_embedder("hash:384")
    assert embedder.count_tokens(["Dell, Wistron and Inventec.", ""]) == [4, 0]
    assert np.linalg.norm(embedder.embed([""])[0]) == pytest.approx(1.0)
    assert embedder.embed([]).shape == (0, 384)


@pytest.mark.parametrize("spec", ["hash:0", "hash:abc", "hash:4", "hash:99999"])
def test_a_bad_hash_dimension_is_a_one_line_config_error(spec: str):
    with pytest.raises(ConfigError, match=r"^hash embedder needs a dimension from 8 to 4096, e\.g\. "):
        load_embedder(spec)


def test_an_unknown_provider_names_the_known_ones_hash_among_them():
    with pytest.raises(ConfigError, match=r"^unknown embedding provider 'nope' .*; known: .*\bhash\b"):
        load_embedder("nope:x")


_PROBE = """
import json, sys
from pathlib import Path
from ingest.engine import Engine
from rag.settings import Settings
engine = Engine(Settings(data_dir=Path(sys.argv[1])))
engine.ingest_paths([Path(sys.argv[2])])
hits = engine.search(sys.argv[3], k=1)
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
print(json.dumps({"embedder": engine.embedder.name, "title": hits[0].title, "heavy": heavy}))
"""


@pytest.mark.slow
def test_a_process_on_the_hash_embedder_ingests_and_searches_without_importing_torch(tmp_path):
    env = {"NEWSQA_EMBED_MODEL": "hash:384", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path / "data"), str(SEED), FLAGSHIP],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["embedder"] == "hash:384" and result["heavy"] == []
    assert result["title"].startswith("Elon Musk's xAI")
