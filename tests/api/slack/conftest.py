"""Fixtures for the Slack bot: the fake Slack on 127.0.0.1 and the bot served by a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from api.slack.serve import create_slack_app
from ingest.engine import Engine
from rag.settings import Settings
from tests.fakes.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.ports import free_port, serve_in_thread


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def slack_settings(base: Settings, fake: FakeSlack, **extra: Any) -> Settings:
    """``base`` with the Slack settings pointing at the fake (``model_copy`` does not validate: tokens are
    wrapped as the secrets the settings hold)."""
    update = {"slack_bot_token": BOT_TOKEN, "slack_signing_secret": SIGNING_SECRET, "slack_api_url": fake.url, **extra}
    secrets = ("slack_bot_token", "slack_signing_secret", "slack_app_token")
    return base.model_copy(update={k: SecretStr(v) if k in secrets and v else v for k, v in update.items()})


class BotServer:
    """``create_slack_app`` served by uvicorn on a free 127.0.0.1 port in a thread of the test process."""

    def __init__(self, settings: Settings, engine: Engine, app: Any = None, **kwargs: Any) -> None:
        self.port = free_port()
        self.settings = settings
        self.app = app or create_slack_app(settings, engine, **kwargs)
        self.server, self.thread = serve_in_thread(self.app, self.port)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return self.client.post("/slack/events", content=body, headers=headers)

    def stop(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def bot_server(seeded_engine: Engine, fake_slack: FakeSlack) -> Iterator[BotServer]:
    settings = slack_settings(seeded_engine.settings, fake_slack)
    server = BotServer(settings, Engine(settings, embedder=seeded_engine.embedder))
    yield server
    server.stop()
