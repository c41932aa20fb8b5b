"""Watches in Slack: ``/newsqa watch <query>``, ``/newsqa unwatch <id or query>``, ``/newsqa watches`` in a
channel, and a reply in a digest's thread answered over that watch's stories (``ingest.watches.ask``).

The bot (:mod:`api.slack.bot`) calls :func:`watch_command` first for every ``/newsqa`` command, and
:func:`digest_thread` for a thread reply; anything else is a question as before.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from api.slack import render
from rag.errors import NewsqaError
from rag.settings import validation_message

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from ingest.engine import Engine

log = logging.getLogger("newsqa.slack")
VERBS = ("watch", "unwatch", "watches")


def watch_command(engine: Engine, command: dict[str, Any]) -> tuple[str, str] | None:
    """(response_type, text) for ``watch``/``unwatch``/``watches``; None when the command is a question."""
    verb, _, rest = " ".join((command.get("text") or "").split()).partition(" ")
    verb = verb.lower()
    if verb not in VERBS or (verb == "watches" and rest):
        return None
    channel, user = command.get("channel_id"), command.get("user_id")
    if not channel:
        return "ephemeral", "Watches belong to a channel: use this command in one."
    try:
        if verb == "watches":
            return "ephemeral", _list(engine, channel)
        if verb == "unwatch":
            return _unwatch(engine, channel, user, rest)
        return _watch(engine, channel, user, rest)
    except NewsqaError as err:
        return "ephemeral", f"Sorry, I could not do that: {str(err).rstrip('.')}."


def _watch(engine: Engine, channel: str, user: str | None, query: str) -> tuple[str, str]:
    from ingest.watches import WatchIn

    if not query:
        return "ephemeral", "Say what to watch for, for example: `/newsqa watch Supermicro`"
    try:
        spec = WatchIn(query=query, channel=channel)
    except ValidationError as exc:
        return "ephemeral", f"Sorry, I could not add that watch: {validation_message(exc)}."
    watch, _ = engine.watches.add(spec, created_by=user)
    who = f"<@{user}>" if user else "Someone"
    query = render.escape(watch.query)
    text = f"{who} is watching _{query}_ here (`{watch.id}`): new stories will be posted in this channel."
    return "in_channel", text


def _unwatch(engine: Engine, channel: str, user: str | None, what: str) -> tuple[str, str]:
    found = [w for w in engine.watches.list(channel) if what in (w.id, w.query) or what.lower() == w.query.lower()]
    if not what or not found:
        return "ephemeral", f"No watch {render.escape(what)!r} in this channel; `/newsqa watches` lists them."
    for w in found:
        engine.watches.remove(w.id)
    names = ", ".join(f"_{render.escape(w.query)}_" for w in found)
    return "in_channel", f"{f'<@{user}>' if user else 'Someone'} stopped watching {names} here."


def _list(engine: Engine, channel: str) -> str:
    watches = engine.watches.list(channel)
    if not watches:
        return "No watches in this channel. Add one with `/newsqa watch <words or a name>`."
    lines = [
        f"• `{w.id}` _{render.escape(w.query)}_: {w.delivered} stor{'y' if w.delivered == 1 else 'ies'} delivered"
        + (f" (last error: {render.escape(w.last_error or '')})" if w.failures else "")
        for w in watches
    ]
    return "Watches in this channel:\n" + "\n".join(lines)


def digest_thread(engine: Engine, channel: str, thread_ts: str) -> list[str] | None:
    """The articles a digest delivered, when (channel, thread_ts) is a watch digest; else None."""
    try:
        found = engine.watches.db.thread_watch(channel, thread_ts) if engine.watches.db.exists() else None
    except Exception:
        log.exception("looking up a digest thread failed")
        return None
    return found[1] if found is not None else None


def answer_in_digest(bot: Any, client: WebClient, where: Any, question: str, article_ids: list[str]) -> None:
    """Answer ``question`` in the digest's thread from the watch's delivered stories only."""
    from ingest.watches.ask import answer_over

    with bot._engine_lock:
        answered = answer_over(bot.engine, question, article_ids)
    answer_id = bot.feedback.record_answer(
        answered.answer, where.channel, where.thread_ts, where.user, passages=answered.passages
    )
    header = "Answered from the stories this watch delivered."
    for page in render.render_answer(answered.answer, answered.passages, answer_id, header=header):
        client.chat_postMessage(channel=where.channel, thread_ts=where.thread_ts, **page.payload())
