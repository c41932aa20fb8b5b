"""Shared fixtures: the real embedding model (loaded once), real Chroma stores in temp dirs; the slow tier.

``make check`` runs ``-m "not slow"``. Whole real-process files carry ``pytestmark = pytest.mark.slow``;
tests that take a fixture serving on a TCP port (the fake Slack and the bot's uvicorn thread, the page
server) are marked here, so a new test using one is tiered without anyone remembering to.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from evals.sets import default_data_dir
from ingest.engine import Engine
from rag.embedders import Embedder, load_embedder
from rag.settings import DEFAULT_EMBED_MODEL, Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SEED = SAMPLES / "supermicro_xai_dell.txt"
SHARED_DATA = default_data_dir(Settings())  # NEWSQA_EVAL_DATA_DIR, else ../shared/data (as evals and benchmarks)
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled MiniLM, loaded once per test session."""
    return load_embedder(DEFAULT_EMBED_MODEL)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def engine(settings: Settings, embedder: Embedder) -> Engine:
    """An engine over an empty real Chroma store in a temp dir."""
    return Engine(settings, embedder=embedder)


@pytest.fixture(scope="session")
def _seeded_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    data_dir = tmp_path_factory.mktemp("seeded") / "data"
    Engine(Settings(data_dir=data_dir), embedder=embedder).ingest_paths([SEED])
    return data_dir


@pytest.fixture
def seeded_engine(_seeded_dir: Path, tmp_path: Path, embedder: Embedder) -> Engine:
    """An engine whose store holds the bundled seed article (a private copy per test)."""
    data_dir = tmp_path / "data"
    shutil.copytree(_seeded_dir, data_dir)
    return Engine(Settings(data_dir=data_dir), embedder=embedder)


# Fixtures that start a server thread on a 127.0.0.1 port: a test that takes one is in the slow tier.
SERVER_FIXTURES = frozenset({"fake_slack", "bot_server", "site"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for running ``newsqa`` in a subprocess against ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSQA_")}
    env.update({"NEWSQA_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", **extra})
    return env
