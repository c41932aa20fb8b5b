"""Socket Mode: the bot's handler against a local stub of Slack's Socket Mode (apps.connections.open + a
WebSocket that says hello, delivers an event envelope and expects its ack)."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from api.slack.serve import socket_mode_handler
from ingest.engine import Engine
from rag.errors import ConfigError
from tests.api.slack.conftest import slack_settings
from tests.builders import FLAGSHIP
from tests.fakes.fake_slack import APP_TOKEN, BOT_USER, FakeSlack, event_body


class SocketStub:
    """A WebSocket server on 127.0.0.1 that plays Slack's side of Socket Mode for queued envelopes."""

    def __init__(self) -> None:
        self.outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.acks: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.server = serve(self.session, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def session(self, ws: ServerConnection) -> None:
        self.paths.append(ws.request.path if ws.request else "")
        ws.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "stub"},
                    "connection_info": {"app_id": "A0001"},
                }
            )
        )
        while True:
            try:
                envelope = self.outbox.get(timeout=0.05)
                ws.send(json.dumps(envelope))
            except queue.Empty:
                pass
            try:
                message = ws.recv(timeout=0.05)
            except TimeoutError:
                continue
            except Exception:
                return
            self.acks.append(json.loads(message))

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def socket_stub(fake_slack: FakeSlack) -> Iterator[SocketStub]:
    stub = SocketStub()
    fake_slack.socket_url = f"ws://127.0.0.1:{stub.port}/link/?ticket=t1"
    yield stub
    stub.close()


def test_socket_mode_needs_the_app_token(seeded_engine: Engine, fake_slack: FakeSlack) -> None:
    settings = slack_settings(seeded_engine.settings, fake_slack)
    with pytest.raises(ConfigError, match="NEWSQA_SLACK_APP_TOKEN"):
        socket_mode_handler(settings, seeded_engine)


def test_socket_mode_receives_a_mention_acks_it_and_answers(
    seeded_engine: Engine, fake_slack: FakeSlack, socket_stub: SocketStub
) -> None:
    settings = slack_settings(
        seeded_engine.settings, fake_slack, slack_app_token=APP_TOKEN, slack_signing_secret=None
    )  # Socket Mode needs no signing secret
    handler = socket_mode_handler(settings, Engine(settings, embedder=seeded_engine.embedder))
    asked = fake_slack.add_message("C_SOCK", f"<@{BOT_USER}> {FLAGSHIP}")
    event = {
        "type": "app_mention",
        "user": "U_ALICE",
        "text": asked["text"],
        "ts": asked["ts"],
        "channel": "C_SOCK",
        "event_ts": asked["ts"],
    }
    try:
        handler.connect()
        assert fake_slack.calls_to("apps.connections.open")  # with the app-level token
        socket_stub.outbox.put(
            {
                "envelope_id": "env-1",
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "retry_reason": "",
                "payload": event_body(event),
            }
        )
        fake_slack.wait_for(lambda: any(a.get("envelope_id") == "env-1" for a in socket_stub.acks), timeout=10)
        update = fake_slack.wait_for(
            lambda: [u for u in fake_slack.calls_to("chat.update", channel="C_SOCK") if u.get("metadata")]
        )[-1]
        assert "Dell" in update["text"]
        placeholder = fake_slack.calls_to("chat.postMessage", channel="C_SOCK")[0]
        assert placeholder["thread_ts"] == asked["ts"] and placeholder["text"] == "Searching the news..."
        assert socket_stub.paths[0].startswith("/link/")
    finally:
        handler.close()
