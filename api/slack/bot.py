"""The Slack bot's logic: a question in, a placeholder posted, the engine's answer rendered in its place.

:class:`SlackBot` reads thread history for follow-ups, answers (replacing the "Searching the news..."
placeholder in place with ``chat.update``; with an LLM answerer the reply is updated as the answer streams,
at most once per ``update_interval_s``), and handles the Share, Show quotes and feedback buttons. Its
``on_*`` methods are Bolt's lazy listeners (:mod:`api.slack.bolt`); how the app is served is
:mod:`api.slack.serve`.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from api.slack import render
from api.slack.feedback import FeedbackStore
from api.slack.watches import answer_in_digest, digest_thread, watch_command
from rag.errors import NewsqaError
from rag.types import Answer, ChatMessage, Passage

if TYPE_CHECKING:
    from ingest.engine import Engine

log = logging.getLogger("newsqa.slack")

ERROR_TEXT = "Sorry, something went wrong while I was searching the news; please try again in a minute."
UPDATE_INTERVAL_S = 1.2  # chat.update is rate limited (Tier 3, ~50/min); one update a second or so is safe
HISTORY_LIMIT = 50  # thread messages read for a follow-up
METADATA_EVENT = "newsqa_answer"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")


def plain_text(text: str) -> str:
    """A Slack message's text as the user typed it: mentions removed, links and entities decoded."""
    text = _MENTION.sub(" ", text or "")
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return " ".join(html.unescape(text).split())


@dataclass
class ReplyTarget:
    """Where an answer goes: the channel, the thread (None: top level) and the asker."""

    channel: str
    thread_ts: str | None
    user: str | None


class SlackBot:
    """Turns Slack questions into answers: placeholder, engine, render, update; feedback and buttons."""

    def __init__(self, engine: Engine, feedback: FeedbackStore, update_interval_s: float = UPDATE_INTERVAL_S) -> None:
        self.engine = engine
        self.feedback = feedback
        self.update_interval_s = update_interval_s
        self._engine_lock = threading.Lock()  # Bolt runs listeners on several threads; the engine is CPU-bound

    # ---- conversation ---------------------------------------------------------------------------
    @staticmethod
    def is_own(message: dict[str, Any], bot_user_id: str | None, bot_id: str | None) -> bool:
        """Whether a message was posted by this bot."""
        by_user = bool(bot_user_id) and message.get("user") == bot_user_id
        return by_user or (bool(bot_id) and message.get("bot_id") == bot_id)

    def thread_history(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str,
        until_ts: str,
        bot_user_id: str | None,
        bot_id: str | None,
    ) -> list[ChatMessage]:
        """The thread's turns before ``until_ts`` as chat history: people are users, this bot is the assistant.

        The bot's answers carry their question in message metadata, so a thread that starts with an answer
        (a DM reply) still knows what was asked.
        """
        reply = client.conversations_replies(
            channel=channel, ts=thread_ts, limit=HISTORY_LIMIT, include_all_metadata=True
        )
        history: list[ChatMessage] = []
        messages: list[dict[str, Any]] = reply.get("messages") or []
        for message in messages:
            if float(message.get("ts", "0")) >= float(until_ts):
                continue
            if self.is_own(message, bot_user_id, bot_id):
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                asked = payload.get("question")
                if asked and not any(m.role == "user" for m in history):
                    history.append(ChatMessage(role="user", content=asked))
                if message.get("text") and message.get("text") != render.PLACEHOLDER_TEXT:
                    history.append(ChatMessage(role="assistant", content=message["text"]))
            elif not message.get("bot_id") and message.get("subtype") is None:
                text = plain_text(message.get("text", ""))
                if text:
                    history.append(ChatMessage(role="user", content=text))
        return history

    def bot_in_thread(
        self, client: WebClient, channel: str, thread_ts: str, bot_user_id: str | None, bot_id: str | None
    ) -> bool:
        """Whether this bot has posted in the thread (so a reply there is a follow-up for it)."""
        reply = client.conversations_replies(channel=channel, ts=thread_ts, limit=HISTORY_LIMIT)
        messages: list[dict[str, Any]] = reply.get("messages") or []
        return any(self.is_own(m, bot_user_id, bot_id) for m in messages)

    # ---- answering ------------------------------------------------------------------------------
    def compute(
        self, messages: list[ChatMessage], on_progress: Callable[[str], None] | None = None
    ) -> tuple[str, Answer, list[Passage]]:
        """(question asked of the engine, answer, passages retrieved) for a conversation's last turn."""
        with self._engine_lock:
            question = self.engine.condense(messages) if len(messages) > 1 else messages[-1].content
            text, last = "", time.monotonic()

            def progress(delta: str) -> None:  # the answer so far, at most every update_interval_s
                nonlocal text, last
                text += delta
                if on_progress is not None and time.monotonic() - last >= self.update_interval_s:
                    on_progress(text)
                    last = time.monotonic()

            streaming = self.engine.settings.llm != "extractive" and on_progress is not None
            answered = self.engine.answer(question, on_delta=progress if streaming else None)
        return question, answered.answer, answered.passages

    def header_for(self, question: str, messages: list[ChatMessage]) -> str | None:
        """A context line saying how a follow-up was understood (only when condensing changed it)."""
        if len(messages) > 1 and question.strip() != messages[-1].content.strip():
            return f"Follow-up understood as: _{render.escape(question)}_"
        return None

    def answer_to_thread(self, client: WebClient, where: ReplyTarget, messages: list[ChatMessage]) -> None:
        """Post the placeholder, answer, and replace the placeholder with the answer (or a friendly error)."""
        placeholder = client.chat_postMessage(
            channel=where.channel, thread_ts=where.thread_ts, **render.placeholder().payload()
        )
        ts = placeholder["ts"]
        channel = placeholder.get("channel", where.channel)

        def progress(text: str) -> None:
            try:  # best effort: a skipped progress update must not lose the answer
                client.chat_update(channel=channel, ts=ts, **render.progress(text).payload())
            except SlackApiError as err:
                log.warning("progress update skipped: %s", err.response.get("error"))

        try:
            question, answer, passages = self.compute(messages, on_progress=progress)
            answer_id = self.feedback.record_answer(
                answer, where.channel, where.thread_ts, where.user, passages=passages
            )
            pages = render.render_answer(answer, passages, answer_id, header=self.header_for(question, messages))
            metadata = {"event_type": METADATA_EVENT, "event_payload": {"question": question, "answer_id": answer_id}}
            client.chat_update(channel=channel, ts=ts, metadata=metadata, **pages[0].payload())
            for page in pages[1:]:
                client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts or ts, **page.payload())
        except Exception as err:  # the user always hears back; the details go to the log
            log.exception("answering in %s failed", where.channel)
            client.chat_update(channel=channel, ts=ts, **render.notice(self.friendly(err)).payload())

    @staticmethod
    def friendly(err: Exception) -> str:
        """One sentence for the user: a NewsqaError's own message, otherwise a generic apology."""
        if isinstance(err, NewsqaError):
            return f"Sorry, I could not answer that: {str(err).rstrip('.')}."
        return ERROR_TEXT

    def safe(self, client: WebClient, where: ReplyTarget, work: Callable[[], None]) -> None:
        """Run ``work``; when it fails before anything was posted, post the friendly error in the thread."""
        try:
            work()
        except Exception as err:
            log.exception("slack handler failed")
            try:
                client.chat_postMessage(
                    channel=where.channel, thread_ts=where.thread_ts, **render.notice(self.friendly(err)).payload()
                )
            except Exception:
                log.exception("could not even post the error message")

    # ---- event entry points (lazy listeners) ----------------------------------------------------
    def on_mention(self, event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        """``@newsqa question`` in a channel: answer in a thread; in a thread, a follow-up with its history."""
        where = ReplyTarget(event["channel"], event.get("thread_ts") or event["ts"], event.get("user"))
        question = plain_text(event.get("text", ""))

        def work() -> None:
            if not question:
                client.chat_postMessage(
                    channel=where.channel, thread_ts=where.thread_ts, **render.notice(render.HELP_TEXT).payload()
                )
                return
            history: list[ChatMessage] = []
            if event.get("thread_ts") and event["thread_ts"] != event["ts"]:
                history = self.thread_history(
                    client,
                    where.channel,
                    event["thread_ts"],
                    event["ts"],
                    context.get("bot_user_id"),
                    context.get("bot_id"),
                )
            self.answer_to_thread(client, where, [*history, ChatMessage(role="user", content=question)])

        self.safe(client, where, work)

    def on_message(self, event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        """A DM (answered in the DM) or a reply in a thread where this bot has answered (a follow-up)."""
        bot_user_id, bot_id = context.get("bot_user_id"), context.get("bot_id")
        if event.get("subtype") or event.get("bot_id") or self.is_own(event, bot_user_id, bot_id):
            return  # edits, joins, other bots and our own posts are not questions
        is_dm = event.get("channel_type") == "im"
        thread_ts = event.get("thread_ts")
        in_thread = bool(thread_ts and thread_ts != event["ts"])
        if not is_dm and (not in_thread or (bot_user_id and f"<@{bot_user_id}" in event.get("text", ""))):
            return  # channel chatter, or a mention (answered by on_mention)
        question = plain_text(event.get("text", ""))
        where = ReplyTarget(event["channel"], thread_ts if in_thread else None, event.get("user"))

        def work() -> None:
            if not question:
                return
            history: list[ChatMessage] = []
            if in_thread:
                assert thread_ts is not None
                if (delivered := digest_thread(self.engine, where.channel, thread_ts)) is not None:  # a watch digest
                    answer_in_digest(self, client, where, question, delivered)
                    return
                if not is_dm and not self.bot_in_thread(client, where.channel, thread_ts, bot_user_id, bot_id):
                    return
                history = self.thread_history(client, where.channel, thread_ts, event["ts"], bot_user_id, bot_id)
            self.answer_to_thread(client, where, [*history, ChatMessage(role="user", content=question)])

        self.safe(client, where, work)

    def on_command(self, command: dict[str, Any], respond: Any) -> None:
        """``/newsqa question``: the answer visible only to the asker, with a button to share it."""
        question = " ".join((command.get("text") or "").split())
        if not question:
            return
        if (reply := watch_command(self.engine, command)) is not None:  # watch, unwatch, watches
            if reply[0] == "in_channel":  # an ephemeral placeholder cannot become a channel message: a new one
                respond(delete_original=True)
            respond(response_type=reply[0], replace_original=reply[0] == "ephemeral", text=reply[1])
            return
        try:
            _, answer, passages = self.compute([ChatMessage(role="user", content=question)])
            answer_id = self.feedback.record_answer(
                answer, command.get("channel_id"), None, command.get("user_id"), passages=passages
            )
            page = render.render_answer(answer, passages, answer_id, shareable=True)[0]
            respond(response_type="ephemeral", replace_original=True, **page.payload())
        except Exception as err:
            log.exception("/newsqa failed")
            respond(response_type="ephemeral", replace_original=True, text=self.friendly(err))

    # ---- buttons --------------------------------------------------------------------------------
    def on_share(self, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        """Post an ephemeral answer to the channel for everyone, then remove the ephemeral copy."""
        stored = self.feedback.get_answer(body["actions"][0]["value"])
        if stored is None:
            respond(response_type="ephemeral", replace_original=False, text="Sorry, that answer has expired.")
            return
        user = body["user"]["id"]
        header = f"<@{user}> asked: _{render.escape(stored.answer.question)}_"
        page = render.render_answer(stored.answer, stored.passages, stored.id, header=header)[0]
        try:
            client.chat_postMessage(channel=body["channel"]["id"], **page.payload())
        except SlackApiError as err:
            log.warning("share failed: %s", err.response.get("error"))
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="Sorry, I cannot post in this channel; invite me with /invite @newsqa and try again.",
            )
            return
        respond(delete_original=True)

    def on_vote(self, body: dict[str, Any], client: WebClient, respond: Any, helpful: bool) -> None:
        """Store a Helpful / Not helpful vote; a Not helpful vote opens a modal for an optional note."""
        answer_id, user = body["actions"][0]["value"], body["user"]["id"]
        if self.feedback.get_answer(answer_id) is None:
            respond(response_type="ephemeral", replace_original=False, text="Sorry, that answer has expired.")
            return
        self.feedback.record_vote(answer_id, user, helpful)
        if not helpful and body.get("trigger_id"):
            client.views_open(trigger_id=body["trigger_id"], view=render.note_view(answer_id))
        respond(response_type="ephemeral", replace_original=False, text="Thanks, your feedback was recorded.")

    def on_note(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The optional note from the Not helpful modal."""
        note = (view["state"]["values"].get("note", {}).get("note", {}) or {}).get("value")
        if note and note.strip():
            self.feedback.add_note(view["private_metadata"], body["user"]["id"], note.strip())

    def on_quotes(self, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        """Open a modal with the verbatim quotes behind the answer."""
        stored = self.feedback.get_answer(body["actions"][0]["value"])
        if stored is None:
            respond(response_type="ephemeral", replace_original=False, text="Sorry, that answer has expired.")
            return
        client.views_open(trigger_id=body["trigger_id"], view=render.quotes_view(stored.answer))
