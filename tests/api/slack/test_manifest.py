"""The Slack app manifest matches what the bot listens to and calls."""

from __future__ import annotations

from pathlib import Path

import yaml

import api.slack
from api.slack.bolt import build_app
from ingest.engine import Engine
from rag.settings import Settings

MANIFEST = Path(api.slack.__file__).parent / "manifest.yml"


def test_manifest_covers_the_bots_listeners(tmp_path: Path) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    settings = Settings(data_dir=tmp_path, slack_bot_token="xoxb-1", slack_signing_secret="s")
    build_app(settings, Engine(settings))  # builds without Slack being reachable (auth.test is lazy)
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # chat.postMessage/update, conversations.replies in channels and DMs, the slash command, mentions
    assert {"chat:write", "commands", "app_mentions:read", "channels:history", "im:history"} <= scopes
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/newsqa"]
    urls = [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
        manifest["features"]["slash_commands"][0]["url"],
    ]
    assert all(url.endswith("/slack/events") for url in urls)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
