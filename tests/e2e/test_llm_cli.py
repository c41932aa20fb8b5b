"""`newsqa ask` with an LLM, in real subprocesses: a cited LLM answer from a local chat-completions server,
and a misconfigured provider failing with one line that says what to set."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_env
from tests.e2e.test_llm_answers import FLAGSHIP, good_reply
from tests.fakes.hash_embedder import HASH_ENV
from tests.fakes.llm_server import FakeLLM

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]


def ask(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "ask", FLAGSHIP, "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_answers_with_the_llm_and_fails_cleanly_without_a_key(_seeded_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(_seeded_dir, data_dir)
    with FakeLLM([good_reply]) as fake:
        proc = ask(cli_env(data_dir, NEWSQA_LLM="openai-compatible:fake", NEWSQA_LLM_BASE_URL=fake.base_url))
        assert proc.returncode == 0, proc.stderr
        answer = json.loads(proc.stdout)
        assert answer["mode"] == "llm" and answer["citations"] and all(c["support"] for c in answer["citations"])
        assert all(name in answer["answer"] for name in ("Dell", "Wistron", "Inventec"))
        assert len(fake.requests) == 1

    env = cli_env(data_dir, NEWSQA_LLM="openai:gpt-4o-mini", **HASH_ENV)  # fails on the key; no model needed
    env.pop("OPENAI_API_KEY", None)
    proc = ask(env)
    assert proc.returncode != 0 and proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1].endswith("needs an API key: set OPENAI_API_KEY") and "Traceback" not in proc.stderr
