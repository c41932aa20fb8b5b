"""The Slack bot over HTTP: real uvicorn, real Chroma with the seed article, the fake Slack Web API."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.slack import render
from api.slack.bot import ERROR_TEXT, HISTORY_LIMIT, SlackBot
from api.slack.feedback import FeedbackStore
from ingest.engine import Engine
from rag.settings import Settings
from tests.api.slack.conftest import BotServer, slack_settings
from tests.builders import FLAGSHIP
from tests.fakes.fake_slack import (
    BOT_ID,
    BOT_USER,
    TEAM,
    FakeSlack,
    action_fields,
    command_fields,
    event_body,
    final_update,
    form_request,
    json_request,
    mention,
    view_submission_fields,
)
from tests.fakes.hash_embedder import hash_embedder

QUESTION = FLAGSHIP
CONTEXT = {"bot_user_id": BOT_USER, "bot_id": BOT_ID}


class RecordingClient:
    """Stands in for slack_sdk's WebClient when a handler is called synchronously: records every call as
    (Web API method, arguments); ``conversations.replies`` returns ``thread``, posts return a new ``ts``."""

    def __init__(self, thread: list[dict[str, Any]] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.thread = thread or []

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        method = name.replace("_", ".", 1)  # chat_postMessage -> chat.postMessage

        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((method, kwargs))
            if method == "conversations.replies":
                return {"ok": True, "messages": self.thread}
            return {"ok": True, "ts": f"300.{len(self.calls):06d}", "channel": kwargs.get("channel")}

        return call


def quiet_bot(tmp_path: Path) -> SlackBot:
    """A bot over an empty store with the hash embedder: its decisions, without a model or a server."""
    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder=hash_embedder())
    return SlackBot(engine, FeedbackStore.for_data_dir(tmp_path / "data"), update_interval_s=0)


def stored(server: BotServer, answer_id: str):  # type: ignore[no-untyped-def]
    return FeedbackStore.for_data_dir(server.settings.data_dir).get_answer(answer_id)


def test_url_verification_challenge(bot_server: BotServer) -> None:
    response = bot_server.post(*json_request({"token": "x", "challenge": "c-123", "type": "url_verification"}))
    assert response.status_code == 200 and response.json() == {"challenge": "c-123"}


def test_bad_signature_and_stale_timestamp_are_rejected(bot_server: BotServer, fake_slack: FakeSlack) -> None:
    body, headers = json_request(event_body(mention(fake_slack, "C_SIG", QUESTION)))
    forged = {**headers, "X-Slack-Signature": "v0=" + "0" * 64}
    assert bot_server.post(body, forged).status_code == 401
    old, old_headers = json_request(
        event_body(mention(fake_slack, "C_SIG", QUESTION)), timestamp=int(time.time()) - 6 * 60
    )
    assert bot_server.post(old, old_headers).status_code == 401  # refused before any listener is dispatched


@pytest.fixture
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
def gated_server(seeded_engine: Engine, fake_slack: FakeSlack, gate: threading.Event) -> Iterator[BotServer]:
    """The bot over the real engine, whose answering waits until the test opens ``gate``."""

    class GatedEngine(Engine):
        def answer(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            assert gate.wait(60), "the test never opened the gate"
            return super().answer(*args, **kwargs)

    settings = slack_settings(seeded_engine.settings, fake_slack)
    server = BotServer(settings, GatedEngine(settings, embedder=seeded_engine.embedder))
    yield server
    gate.set()  # never leave a listener thread waiting
    server.stop()


def test_mention_answers_in_thread_updating_the_placeholder(
    gated_server: BotServer, fake_slack: FakeSlack, gate: threading.Event
) -> None:
    event = mention(fake_slack, "C_NEWS", QUESTION)
    # Acked before the work: the answer cannot start until the gate opens, so an ack that waited for it would
    # time out (the client's 30 s). A wall-clock bound here passed or failed with the machine's speed.
    response = gated_server.post(*json_request(event_body(event)))
    assert response.status_code == 200
    assert fake_slack.calls_to("chat.update", channel="C_NEWS") == []  # nothing answered yet
    gate.set()
    update = final_update(fake_slack, "C_NEWS")
    posted = fake_slack.calls_to("chat.postMessage", channel="C_NEWS")
    placeholder = render.placeholder().payload()
    assert posted == [{"channel": "C_NEWS", "thread_ts": event["ts"], "team_id": TEAM, **placeholder}]
    placeholder_ts = fake_slack.messages["C_NEWS"][-1]["ts"]
    assert update["ts"] == placeholder_ts
    assert "Dell" in update["text"] and "[1]" in update["text"]
    answer_id = update["metadata"]["event_payload"]["answer_id"]
    saved = stored(gated_server, answer_id)
    assert saved.answer.answer == update["text"] and saved.answer.citations
    # the exact payload: the stored engine answer rendered, with the question in the message metadata
    expected = render.render_answer(saved.answer, saved.passages, answer_id)[0].payload()
    assert update == {
        "channel": "C_NEWS",
        "ts": placeholder_ts,
        "team_id": TEAM,
        **expected,
        "metadata": {"event_type": "newsqa_answer", "event_payload": {"question": QUESTION, "answer_id": answer_id}},
    }
    sources = json.dumps(update["blocks"], ensure_ascii=False)
    assert "*Sources*" in sources and "Tom’s Hardware" in sources and render.ACTION_HELPFUL in sources


def test_rate_limited_update_is_retried_after_the_wait(bot_server: BotServer, fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit_once.add("chat.update")
    bot_server.post(*json_request(event_body(mention(fake_slack, "C_429", QUESTION))))
    attempts = fake_slack.wait_for(
        lambda: (
            len(fake_slack.calls_to("chat.update", channel="C_429")) == 2
            and fake_slack.calls_to("chat.update", channel="C_429")
        )
    )
    assert attempts[0] == attempts[1] and "Dell" in attempts[1]["text"]  # the same update, again after Retry-After
    assert fake_slack.messages["C_429"][-1]["text"] == attempts[1]["text"]  # and this time it landed


def test_thread_follow_up_uses_the_thread_as_history(bot_server: BotServer, fake_slack: FakeSlack) -> None:
    first = mention(fake_slack, "C_THREAD", QUESTION)
    bot_server.post(*json_request(event_body(first)))
    final_update(fake_slack, "C_THREAD")
    follow = fake_slack.add_message("C_THREAD", "and who loses?", thread_ts=first["ts"])
    event = {
        "type": "message",
        "channel_type": "channel",
        "user": "U_ALICE",
        "text": follow["text"],
        "ts": follow["ts"],
        "thread_ts": first["ts"],
        "channel": "C_THREAD",
        "event_ts": follow["ts"],
    }
    assert bot_server.post(*json_request(event_body(event))).status_code == 200
    update = fake_slack.wait_for(
        lambda: [
            u
            for u in fake_slack.calls_to("chat.update", channel="C_THREAD")
            if u.get("metadata") and u["metadata"]["event_payload"]["question"] != QUESTION
        ]
    )[-1]
    condensed = update["metadata"]["event_payload"]["question"]
    assert condensed.startswith("and who loses?") and "Supermicro" in condensed  # the earlier turn was used
    assert update["blocks"][0] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"Follow-up understood as: _{render.escape(condensed)}_"}],
    }
    assert fake_slack.calls_to("conversations.replies", channel="C_THREAD", ts=first["ts"])
    assert all(p["thread_ts"] == first["ts"] for p in fake_slack.calls_to("chat.postMessage", channel="C_THREAD"))


def _channel_reply(text: str, parent_ts: str, ts: str, user: str = "U_BOB") -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": parent_ts,
        "channel": "C_CHAT",
        "event_ts": ts,
    }


def test_thread_reply_without_the_bot_is_looked_at_and_not_answered(tmp_path: Path) -> None:
    parent = {"user": "U_ALICE", "text": "lunch?", "ts": "100.000001"}
    reply = {"user": "U_BOB", "text": "who benefits from Dell?", "ts": "100.000002", "thread_ts": parent["ts"]}
    client = RecordingClient(thread=[parent, reply])
    quiet_bot(tmp_path).on_message(_channel_reply(reply["text"], parent["ts"], reply["ts"]), client, CONTEXT)
    # the handler has returned: it read the thread once, found no post of its own there, and posted nothing
    assert client.calls == [
        ("conversations.replies", {"channel": "C_CHAT", "ts": parent["ts"], "limit": HISTORY_LIMIT})
    ]


def test_thread_reply_where_the_bot_answered_is_taken_as_a_follow_up(tmp_path: Path) -> None:
    parent = {"user": "U_ALICE", "text": "lunch?", "ts": "100.000001"}
    answer = {"user": BOT_USER, "bot_id": BOT_ID, "text": "An answer.", "ts": "100.000002", "thread_ts": parent["ts"]}
    client = RecordingClient(thread=[parent, answer])
    quiet_bot(tmp_path).on_message(_channel_reply("and who loses?", parent["ts"], "100.000003"), client, CONTEXT)
    methods = [method for method, _ in client.calls]
    assert methods[:3] == ["conversations.replies", "conversations.replies", "chat.postMessage"]
    assert client.calls[2][1]["thread_ts"] == parent["ts"] and methods[-1] == "chat.update"


def test_direct_message_is_answered_in_the_dm(bot_server: BotServer, fake_slack: FakeSlack) -> None:
    dm = fake_slack.add_message("D_ALICE", QUESTION)
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U_ALICE",
        "text": QUESTION,
        "ts": dm["ts"],
        "channel": "D_ALICE",
        "event_ts": dm["ts"],
    }
    assert bot_server.post(*json_request(event_body(event))).status_code == 200
    update = final_update(fake_slack, "D_ALICE")
    assert "Dell" in update["text"]
    assert fake_slack.calls_to("chat.postMessage", channel="D_ALICE")[0].get("thread_ts") is None  # top level


def test_own_and_other_bot_messages_are_not_questions(tmp_path: Path) -> None:
    stamps = iter(["200.000001", "200.000002", "200.000003"])
    own = {
        "type": "message",
        "channel_type": "im",
        "user": BOT_USER,
        "bot_id": BOT_ID,
        "text": QUESTION,
        "ts": next(stamps),
        "channel": "D_SELF",
    }
    other = {
        "type": "message",
        "subtype": "bot_message",
        "channel_type": "im",
        "bot_id": "B_OTHER",
        "text": QUESTION,
        "ts": next(stamps),
        "channel": "D_SELF",
    }
    other_no_subtype = {
        "type": "message",
        "channel_type": "im",
        "bot_id": "B_OTHER",
        "user": "U_OTHERBOT",
        "text": QUESTION,
        "ts": next(stamps),
        "channel": "D_SELF",
    }
    client = RecordingClient()
    for event in (own, other, other_no_subtype):
        quiet_bot(tmp_path).on_message(event, client, CONTEXT)
    assert client.calls == []  # each handler returned without reading or posting anything
    person = {**other_no_subtype, "user": "U_ALICE", "text": "", "ts": "200.000004"}
    person.pop("bot_id")
    quiet_bot(tmp_path).on_message({**person, "text": QUESTION}, client, CONTEXT)
    assert [method for method, _ in client.calls] == ["chat.postMessage", "chat.update"]  # a person is answered


def test_retried_event_is_answered_once(
    bot_server: BotServer, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="newsqa.slack")
    body = event_body(mention(fake_slack, "C_RETRY", QUESTION), event_id="EvRETRY0001")
    first = bot_server.post(*json_request(body))
    payload, headers = json_request(body)
    retry = bot_server.post(payload, {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert first.status_code == retry.status_code == 200
    assert retry.headers.get("x-slack-no-retry") == "1"
    assert "ignoring retry 1 of event EvRETRY0001" in caplog.messages  # dropped before any listener ran
    final_update(fake_slack, "C_RETRY")
    assert len(fake_slack.calls_to("chat.postMessage", channel="C_RETRY")) == 1


def test_empty_mention_gets_help(bot_server: BotServer, fake_slack: FakeSlack) -> None:
    bot_server.post(*json_request(event_body(mention(fake_slack, "C_EMPTY", ""))))
    posted = fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage", channel="C_EMPTY"))
    assert posted[0]["text"] == render.HELP_TEXT


def test_slash_command_is_ephemeral_with_share_button(bot_server: BotServer, fake_slack: FakeSlack) -> None:
    response = bot_server.post(*form_request(command_fields(QUESTION, "C_CMD", fake_slack.hook_url("cmd"))))
    assert response.status_code == 200
    assert response.json() == {"response_type": "ephemeral", "text": render.PLACEHOLDER_TEXT}
    hook = fake_slack.wait_for(lambda: fake_slack.hooks_to("cmd"))[0]
    assert hook["response_type"] == "ephemeral" and hook["replace_original"] is True and "Dell" in hook["text"]
    buttons = [e for b in hook["blocks"] if b["type"] == "actions" for e in b["elements"]]
    share = next(b for b in buttons if b["action_id"] == render.ACTION_SHARE)
    assert fake_slack.calls_to("chat.postMessage", channel="C_CMD") == []  # nobody else saw it yet
    clicked = bot_server.post(
        *form_request(
            action_fields(render.ACTION_SHARE, share["value"], "C_CMD", fake_slack.hook_url("share"), ephemeral=True)
        )
    )
    assert clicked.status_code == 200
    shared = fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage", channel="C_CMD"))[0]
    assert shared["text"] == hook["text"]
    assert shared["blocks"][0]["elements"][0]["text"] == f"<@U_ALICE> asked: _{QUESTION}_"
    deleted = fake_slack.wait_for(lambda: fake_slack.hooks_to("share"))
    assert len(deleted) == 1 and deleted[0]["delete_original"] is True  # the ephemeral copy goes away


def test_feedback_buttons_store_votes_and_notes(bot_server: BotServer, fake_slack: FakeSlack) -> None:
    bot_server.post(*json_request(event_body(mention(fake_slack, "C_FB", QUESTION))))
    answer_id = final_update(fake_slack, "C_FB")["metadata"]["event_payload"]["answer_id"]
    hook = fake_slack.hook_url("vote")
    response = bot_server.post(*form_request(action_fields(render.ACTION_NOT_HELPFUL, answer_id, "C_FB", hook)))
    assert response.status_code == 200
    opened = fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))[0]
    assert opened["trigger_id"] == f"trigger-{render.ACTION_NOT_HELPFUL}"
    assert opened["view"]["callback_id"] == render.NOTE_VIEW and opened["view"]["private_metadata"] == answer_id
    values = {"note": {"note": {"type": "plain_text_input", "value": "It should also name Wistron."}}}
    submitted = bot_server.post(*form_request(view_submission_fields(render.NOTE_VIEW, answer_id, values)))
    assert submitted.status_code == 200
    bot_server.post(*form_request(action_fields(render.ACTION_HELPFUL, answer_id, "C_FB", hook, user="U_BOB")))
    assert fake_slack.wait_for(lambda: len(fake_slack.hooks_to("vote")) == 2)
    assert fake_slack.hooks_to("vote")[0]["text"] == "Thanks, your feedback was recorded."

    def votes_with_the_note() -> dict[str, Any] | None:
        # Bolt acks the modal first and stores the note after (on its worker thread): wait for it, not race it.
        votes = {v.user: v for v in FeedbackStore.for_data_dir(bot_server.settings.data_dir).votes()}
        return votes if "U_ALICE" in votes and votes["U_ALICE"].note else None

    votes = fake_slack.wait_for(votes_with_the_note)
    assert votes["U_ALICE"].helpful is False and votes["U_ALICE"].note == "It should also name Wistron."
    assert votes["U_BOB"].helpful is True and votes["U_BOB"].note is None
    assert votes["U_BOB"].answer.answer.question == QUESTION


def test_show_quotes_opens_a_modal_with_the_verbatim_quotes(bot_server: BotServer, fake_slack: FakeSlack) -> None:
    bot_server.post(*json_request(event_body(mention(fake_slack, "C_Q", QUESTION))))
    answer_id = final_update(fake_slack, "C_Q")["metadata"]["event_payload"]["answer_id"]
    bot_server.post(*form_request(action_fields(render.ACTION_QUOTES, answer_id, "C_Q", fake_slack.hook_url("q"))))
    view = fake_slack.wait_for(lambda: fake_slack.calls_to("views.open"))[0]["view"]
    quote = stored(bot_server, answer_id).answer.citations[0].quote
    assert view["title"]["text"] == "Quotes" and render.escape(quote) in json.dumps(view["blocks"], ensure_ascii=False)


@pytest.fixture
def broken_server(seeded_engine: Engine, fake_slack: FakeSlack) -> Iterator[BotServer]:
    """The bot over an engine whose answering fails (the store is fine; answering raises)."""

    class BrokenEngine(Engine):
        def answer(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            raise RuntimeError("boom: the answerer crashed")

    settings = slack_settings(seeded_engine.settings, fake_slack)
    server = BotServer(settings, BrokenEngine(settings, embedder=seeded_engine.embedder))
    yield server
    server.stop()


def test_engine_failure_becomes_a_friendly_message(broken_server: BotServer, fake_slack: FakeSlack) -> None:
    broken_server.post(*json_request(event_body(mention(fake_slack, "C_ERR", QUESTION))))
    update = fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update", channel="C_ERR"))[0]
    assert update["text"] == ERROR_TEXT and "boom" not in json.dumps(update)
    broken_server.post(*form_request(command_fields(QUESTION, "C_ERR", fake_slack.hook_url("err"))))
    hook = fake_slack.wait_for(lambda: fake_slack.hooks_to("err"))[0]
    assert hook["text"] == ERROR_TEXT


class SlowStreamingAnswerer:
    """Stands in for an LLM answerer (none is available offline): the real extractive answer, streamed word
    by word with a delay, as an LLM would."""

    def __init__(self, inner, delay_s: float) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.delay_s = inner, delay_s

    def answer(self, question, passages, as_of=None):  # type: ignore[no-untyped-def]
        return self.inner.answer(question, passages)

    def stream(self, question, passages, as_of=None):  # type: ignore[no-untyped-def]
        from rag.answer import AnswerEvent

        answer = self.inner.answer(question, passages)
        for word in answer.answer.split(" "):
            time.sleep(self.delay_s)
            yield AnswerEvent("delta", text=word + " ")
        yield AnswerEvent("done", answer=answer)


def test_streamed_answer_updates_the_message_progressively_at_a_limited_rate(
    seeded_engine: Engine, fake_slack: FakeSlack
) -> None:
    settings = slack_settings(seeded_engine.settings, fake_slack, llm="test:streaming")
    engine = Engine(settings, embedder=seeded_engine.embedder)
    engine.__dict__["answerer"] = SlowStreamingAnswerer(seeded_engine.answerer, delay_s=0.08)
    server = BotServer(settings, engine, update_interval_s=0.4)
    try:
        server.post(*json_request(event_body(mention(fake_slack, "C_STREAM", QUESTION))))
        final = final_update(fake_slack, "C_STREAM")
        updates = fake_slack.calls_to("chat.update", channel="C_STREAM")
        received = fake_slack.times_of("chat.update", channel="C_STREAM")
        partial = [u for u in updates if u is not final]
        assert len(partial) >= 2  # progressive
        # Throttled: at most one update per interval, checked on the times the updates arrived. (A count bound
        # from the words' nominal 80 ms had a margin of one update here: it failed once each word took 20 ms
        # longer, as on a slow machine, though the bot never updated more than once per interval.)
        partial_at = [at for u, at in zip(updates, received, strict=True) if u is not final]
        gaps = [b - a for a, b in itertools.pairwise(partial_at)]
        assert min(gaps) >= 0.4, gaps
        texts = [u["text"] for u in partial]
        assert all(final["text"].startswith(t.strip()) for t in texts)  # each a growing prefix of the answer
        assert [len(t) for t in texts] == sorted(len(t) for t in texts)
        assert partial[0]["blocks"][0]["text"]["text"].endswith(" …")
    finally:
        server.stop()


def test_empty_slash_command_gets_usage(bot_server: BotServer, fake_slack: FakeSlack) -> None:
    response = bot_server.post(*form_request(command_fields("  ", "C_HELP", fake_slack.hook_url("help"))))
    assert response.status_code == 200 and response.json()["text"].startswith("Ask /newsqa a question")


def test_empty_slash_command_does_no_work_after_the_usage_ack(tmp_path: Path) -> None:
    responses: list[dict[str, Any]] = []
    quiet_bot(tmp_path).on_command({"text": "  ", "channel_id": "C_HELP"}, lambda **kw: responses.append(kw))
    assert responses == []  # returned at once: the usage text went out with the ack
    quiet_bot(tmp_path).on_command({"text": "", "channel_id": "C_HELP"}, lambda **kw: responses.append(kw))
    assert responses == []


def test_dm_thread_follow_up_recovers_the_question_from_the_answers_metadata(
    bot_server: BotServer, fake_slack: FakeSlack
) -> None:
    dm = fake_slack.add_message("D_THREAD", QUESTION)
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U_ALICE",
        "text": QUESTION,
        "ts": dm["ts"],
        "channel": "D_THREAD",
        "event_ts": dm["ts"],
    }
    bot_server.post(*json_request(event_body(event)))
    first = final_update(fake_slack, "D_THREAD")
    # the user opens a thread on the bot's answer (a top-level DM message): the question is not in that thread
    follow = fake_slack.add_message("D_THREAD", "and who loses?", thread_ts=first["ts"])
    reply = {
        "type": "message",
        "channel_type": "im",
        "user": "U_ALICE",
        "text": follow["text"],
        "ts": follow["ts"],
        "thread_ts": first["ts"],
        "channel": "D_THREAD",
        "event_ts": follow["ts"],
    }
    bot_server.post(*json_request(event_body(reply)))
    second = fake_slack.wait_for(
        lambda: [
            u
            for u in fake_slack.calls_to("chat.update", channel="D_THREAD")
            if u.get("metadata") and u["ts"] != first["ts"]
        ]
    )[-1]
    assert "Supermicro" in second["metadata"]["event_payload"]["question"]
    assert fake_slack.calls_to("chat.postMessage", channel="D_THREAD")[-1]["thread_ts"] == first["ts"]
