"""POST /slack/events inside the main HTTP app (``api.http.app.create_app``), served by uvicorn."""

from __future__ import annotations

from pathlib import Path

from api.http.app import create_app
from ingest.engine import Engine
from rag.settings import Settings
from tests.api.slack.conftest import BotServer, slack_settings
from tests.fakes.fake_slack import FakeSlack, json_request


def _serve(settings: Settings, engine: Engine) -> BotServer:
    return BotServer(settings, engine, app=create_app(settings, engine))


def test_route_exists_only_with_a_bot_token(tmp_path: Path, engine: Engine, fake_slack: FakeSlack) -> None:
    without = _serve(Settings(data_dir=tmp_path / "a"), engine)
    try:
        assert without.post(*json_request({"type": "url_verification", "challenge": "c"})).status_code == 404
    finally:
        without.stop()
    settings = slack_settings(Settings(data_dir=tmp_path / "b"), fake_slack)
    with_token = _serve(settings, Engine(settings, embedder=engine.embedder))
    try:
        ok = with_token.post(*json_request({"type": "url_verification", "challenge": "c"}))
        assert ok.status_code == 200 and ok.json() == {"challenge": "c"}
    finally:
        with_token.stop()


def test_missing_signing_secret_is_a_clear_503(tmp_path: Path, engine: Engine, fake_slack: FakeSlack) -> None:
    settings = slack_settings(Settings(data_dir=tmp_path), fake_slack, slack_signing_secret=None)
    server = _serve(settings, Engine(settings, embedder=engine.embedder))
    try:
        response = server.post(*json_request({"type": "url_verification", "challenge": "c"}))
        assert response.status_code == 503
        assert "NEWSQA_SLACK_SIGNING_SECRET" in response.json()["error"]["message"]
    finally:
        server.stop()
