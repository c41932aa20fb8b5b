"""Watches in Slack: ``/newsqa watch|watches|unwatch`` in a channel, and a reply in a digest's thread answered
from that watch's stories: handlers called directly with a recording stand-in for the Web API, and the whole loop
over the bot's HTTP route and the fake Slack (slow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from api.slack.bot import SlackBot
from api.slack.feedback import FeedbackStore
from ingest.engine import Engine
from ingest.watches import WatchIn
from rag.embedders import Embedder
from tests.api.slack.conftest import BotServer
from tests.api.slack.test_bot import CONTEXT, RecordingClient
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack, event_body, json_request

CHANNEL = "C_NEWS"


def bot_over(engine: Engine, tmp_path: Path) -> SlackBot:
    settings = engine.settings.model_copy(update={"slack_bot_token": SecretStr(BOT_TOKEN)})
    return SlackBot(Engine(settings, embedder=engine.embedder), FeedbackStore.for_data_dir(tmp_path / "fb"))


def command(bot: SlackBot, text: str) -> dict[str, Any]:
    said: list[dict[str, Any]] = []
    bot.on_command({"text": text, "channel_id": CHANNEL, "user_id": "U_ALICE"}, lambda **kw: said.append(kw))
    reply = said[-1]
    if reply["response_type"] == "in_channel":  # the "Searching..." placeholder goes, a channel message comes
        assert said == [{"delete_original": True}, {**reply, "replace_original": False}]
    else:
        assert said == [{**reply, "replace_original": True}]
    return reply


def test_watch_watches_unwatch_in_a_channel(seeded_engine: Engine, tmp_path: Path) -> None:
    bot = bot_over(seeded_engine, tmp_path)
    added = command(bot, "watch   Supermicro xAI")
    [watch] = bot.engine.watches.list(CHANNEL)
    assert added["response_type"] == "in_channel" and watch.query == "Supermicro xAI" and watch.created_by == "U_ALICE"
    assert added["text"].startswith(f"<@U_ALICE> is watching _Supermicro xAI_ here (`{watch.id}`)")
    listed = command(bot, "watches")
    assert (
        listed["response_type"] == "ephemeral"
        and f"`{watch.id}` _Supermicro xAI_: 0 stories delivered" in listed["text"]
    )
    assert "Say what to watch for" in command(bot, "watch")["text"]
    assert "No watch 'Dell'" in command(bot, "unwatch Dell")["text"]
    removed = command(bot, "unwatch supermicro xai")
    assert removed["response_type"] == "in_channel" and "stopped watching _Supermicro xAI_" in removed["text"]
    assert bot.engine.watches.list(CHANNEL) == [] and "No watches in this channel" in command(bot, "watches")["text"]


def test_a_reply_in_a_digest_thread_is_answered_from_the_watchs_stories(seeded_engine: Engine, tmp_path: Path) -> None:
    bot = bot_over(seeded_engine, tmp_path)
    command(bot, "watch Supermicro")
    [watch] = bot.engine.watches.list(CHANNEL)
    [(article, _)] = bot.engine.store.list_articles()
    db = bot.engine.watches.db
    db.enqueue(watch.id, [(article.id, article.id, 0.7)])
    [claimed] = db.claim_due()
    db.mark_sent(claimed, slack_channel=CHANNEL, slack_ts="500.000001")  # as the digest post would
    client = RecordingClient()
    reply = {"type": "message", "channel_type": "channel", "user": "U_BOB", "text": "Who gets the xAI orders?",
             "ts": "500.000009", "thread_ts": "500.000001", "channel": CHANNEL}  # fmt: skip
    bot.on_message(reply, client, CONTEXT)
    posts = [kw for method, kw in client.calls if method == "chat.postMessage"]
    assert posts and all(p["thread_ts"] == "500.000001" and p["channel"] == CHANNEL for p in posts)
    text = str(posts[0]["blocks"])
    assert "Answered from the stories this watch delivered." in text and "Dell" in text
    assert not any(method == "conversations.replies" for method, _ in client.calls)  # no thread history needed


def test_digest_posted_to_slack_then_a_thread_reply_answered_over_http(
    bot_server: BotServer, fake_slack: FakeSlack, embedder: Embedder
) -> None:
    """The whole loop against the fake Slack and the bot's real HTTP route: the sender posts the digest, a
    person replies in its thread, the bot answers there from the watch's story."""
    engine = Engine(bot_server.settings, embedder=embedder)
    watch, _ = engine.watches.add(WatchIn(query="Supermicro", channel=CHANNEL))
    [(article, _)] = engine.store.list_articles()
    engine.watches.db.enqueue(watch.id, [(article.id, article.id, 0.7)])
    assert engine.watches.deliver_now() == 1
    [digest] = fake_slack.messages[CHANNEL]
    assert "1 new story for your watch _Supermicro_" in digest["text"]
    follow = fake_slack.add_message(CHANNEL, "Who gets the xAI orders?", thread_ts=digest["ts"])
    event = {"type": "message", "channel_type": "channel", "user": "U_ALICE", "text": follow["text"],
             "ts": follow["ts"], "thread_ts": digest["ts"], "channel": CHANNEL, "event_ts": follow["ts"]}  # fmt: skip
    assert bot_server.post(*json_request(event_body(event))).status_code == 200
    answer = fake_slack.wait_for(
        lambda: fake_slack.calls_to("chat.postMessage", channel=CHANNEL, thread_ts=digest["ts"])
    )[0]
    assert "Answered from the stories this watch delivered." in str(answer["blocks"]) and "Dell" in str(answer)
