"""The Slack bot: a Bolt app over the engine, served over HTTP (``POST /slack/events``) or Socket Mode.

Every listener acknowledges at once and does the work in a lazy listener (Bolt runs it on a worker thread),
so Slack always gets its answer within 3 seconds. A question gets a "Searching the news..." reply right away,
which is then replaced in place (``chat.update``) by the answer; with an LLM answerer the reply is updated
as the answer streams, at most once per ``update_interval_s``.
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

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from starlette.concurrency import run_in_threadpool

from api.slack import render
from api.slack.feedback import FeedbackStore
from rag.errors import ConfigError, NewsqaError
from rag.settings import Settings
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
class Where:
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
            passages: list[Passage] = []
            answer: Answer | None = None
            deltas = self.engine.settings.llm != "extractive" and on_progress is not None
            text, last = "", time.monotonic()
            for event in self.engine.stream(question, deltas=deltas):
                if event.kind == "sources":
                    passages = event.passages
                elif event.kind == "delta" and on_progress is not None:
                    text += event.text
                    if time.monotonic() - last >= self.update_interval_s:
                        on_progress(text)
                        last = time.monotonic()
                elif event.kind == "done":
                    answer = event.answer
        if answer is None:
            raise RuntimeError("the engine ended without an answer")
        return question, answer, passages

    def header_for(self, question: str, messages: list[ChatMessage]) -> str | None:
        """A context line saying how a follow-up was understood (only when condensing changed it)."""
        if len(messages) > 1 and question.strip() != messages[-1].content.strip():
            return f"Follow-up understood as: _{render.escape(question)}_"
        return None

    def answer_to_thread(self, client: WebClient, where: Where, messages: list[ChatMessage]) -> None:
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

    def safe(self, client: WebClient, where: Where, work: Callable[[], None]) -> None:
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
        where = Where(event["channel"], event.get("thread_ts") or event["ts"], event.get("user"))
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
        where = Where(event["channel"], thread_ts if in_thread else None, event.get("user"))

        def work() -> None:
            if not question:
                return
            history: list[ChatMessage] = []
            if in_thread:
                assert thread_ts is not None
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


# ---- the Bolt app ---------------------------------------------------------------------------------
def _ack(ack: Any) -> None:
    ack()


def build_app(
    settings: Settings,
    engine: Engine,
    *,
    socket_mode: bool = False,
    feedback: FeedbackStore | None = None,
    update_interval_s: float = UPDATE_INTERVAL_S,
) -> App:
    """The Bolt app with every listener registered. HTTP mode verifies signatures; Socket Mode does not need to."""
    if not settings.slack_bot_token:
        raise ConfigError("the Slack bot needs NEWSQA_SLACK_BOT_TOKEN (the app's xoxb-... bot token)")
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError("the Slack bot needs NEWSQA_SLACK_SIGNING_SECRET (Basic Information > Signing Secret)")
    bot = SlackBot(engine, feedback or FeedbackStore.for_data_dir(settings.data_dir), update_interval_s)
    client = WebClient(token=settings.slack_bot_token, base_url=_api_url(settings))
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))  # waits Retry-After on 429
    app = App(
        client=client,  # carries the bot token and the Web API base URL (a local fake in tests)
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,  # auth.test on the first event, so a web app starts without Slack
        logger=logging.getLogger("newsqa.slack.bolt"),
    )
    app.use(_dedup_middleware(bot.feedback))
    app.event("app_mention")(ack=_ack, lazy=[bot.on_mention])
    app.event("message")(ack=_ack, lazy=[bot.on_message])

    def ack_command(ack: Any, command: dict[str, Any]) -> None:
        if (command.get("text") or "").strip():
            ack(response_type="ephemeral", text=render.PLACEHOLDER_TEXT)
        else:
            ack(response_type="ephemeral", text=render.HELP_TEXT.replace("Ask me", "Ask /newsqa"))

    app.command("/newsqa")(ack=ack_command, lazy=[bot.on_command])
    app.action(render.ACTION_SHARE)(ack=_ack, lazy=[bot.on_share])
    app.action(render.ACTION_QUOTES)(bot_action(bot.on_quotes))
    app.action(render.ACTION_HELPFUL)(
        bot_action(lambda body, client, respond: bot.on_vote(body, client, respond, helpful=True))
    )
    app.action(render.ACTION_NOT_HELPFUL)(
        bot_action(lambda body, client, respond: bot.on_vote(body, client, respond, helpful=False))
    )

    @app.view(render.NOTE_VIEW)
    def note(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        bot.on_note(body, view)

    app.error(_log_error)
    app.bot = bot  # type: ignore[attr-defined]  # tests and the CLI reach the bot through the app
    return app


def bot_action(handler: Callable[[dict[str, Any], WebClient, Any], None]) -> Callable[..., None]:
    """A button listener: ack at once (the trigger_id for a modal is valid for 3 s), then run ``handler``."""

    def listener(ack: Any, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        ack()
        try:
            handler(body, client, respond)
        except Exception as err:
            log.exception("button %s failed", body.get("actions", [{}])[0].get("action_id"))
            respond(response_type="ephemeral", replace_original=False, text=SlackBot.friendly(err))

    return listener


def _log_error(error: Exception, body: dict[str, Any]) -> None:
    log.error("unhandled Slack error for %s: %s", body.get("type"), error, exc_info=error)


def _dedup_middleware(feedback: FeedbackStore) -> Callable[..., BoltResponse | None]:
    """Answer each Events API event once: Slack retries (``X-Slack-Retry-Num``) carry the same ``event_id``."""

    def dedup(body: dict[str, Any], request: Any, next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        if event_id and not feedback.claim_event(str(event_id)):
            retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info("ignoring retry %s of event %s", retry, event_id)
            # 200 + X-Slack-No-Retry: the first delivery is being handled; Slack need not try again
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        next()
        return None

    return dedup


def _api_url(settings: Settings) -> str:
    return settings.slack_api_url.rstrip("/") + "/"


# ---- ways to serve it -------------------------------------------------------------------------
async def dispatch(bolt_app: App, request: Request) -> Response:
    """One Slack HTTP request through Bolt (signature check, ack; the work continues on Bolt's threads)."""
    # Bolt's FastAPI adapter dispatches on the event loop; a worker thread keeps the loop free while Bolt
    # verifies, acks and (first time only) calls auth.test
    body = await request.body()
    bolt_response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
    return to_starlette_response(bolt_response)


def slack_router(bolt_app: App) -> APIRouter:
    """A FastAPI router with ``POST /slack/events`` (events, commands, interactivity) for ``bolt_app``."""
    router = APIRouter()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await dispatch(bolt_app, request)

    return router


_shared_lock = threading.Lock()


def _shared_bolt_app(app: FastAPI) -> App:
    """The Bolt app of the main HTTP app, built once from its runtime's settings and engine."""
    with _shared_lock:
        bolt_app = getattr(app.state, "slack_bolt_app", None)
        if bolt_app is None:
            runtime = app.state.runtime
            bolt_app = app.state.slack_bolt_app = build_app(runtime.settings, runtime.engine)
        return bolt_app  # type: ignore[no-any-return]


# ``api.http.app`` includes this router when NEWSQA_SLACK_BOT_TOKEN is set: the same FastAPI app, the same
# engine (taken from ``app.state.runtime``), Slack's own signatures instead of the API keys.
router = APIRouter()


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request) -> Response:
    """Slack's Events API, slash commands and interactivity for the bot mounted in the main HTTP app."""
    try:
        bolt_app = await run_in_threadpool(_shared_bolt_app, request.app)
    except ConfigError as err:  # e.g. the signing secret is missing: say so to the operator, not a 500
        log.error("Slack bot is misconfigured: %s", err)
        return JSONResponse({"error": {"type": "config_error", "message": str(err)}}, status_code=503)
    return await dispatch(bolt_app, request)


def mount_slack(app: FastAPI, engine: Engine, settings: Settings) -> bool:
    """Add ``POST /slack/events`` to ``app`` when NEWSQA_SLACK_BOT_TOKEN is set; returns whether it did."""
    if not settings.slack_bot_token:
        return False
    app.include_router(slack_router(build_app(settings, engine)))
    return True


def create_slack_app(settings: Settings, engine: Engine, update_interval_s: float = UPDATE_INTERVAL_S) -> FastAPI:
    """A web app serving only the Slack bot (``newsqa slack``): ``POST /slack/events`` and ``GET /healthz``."""
    app = FastAPI(title="newsqa Slack bot")
    app.include_router(slack_router(build_app(settings, engine, update_interval_s=update_interval_s)))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def check_token(settings: Settings) -> dict[str, Any]:
    """auth.test with the bot token; a readable ConfigError when Slack rejects it or cannot be reached."""
    client = WebClient(token=settings.slack_bot_token, base_url=_api_url(settings), timeout=15)
    try:
        return dict(client.auth_test().data)  # type: ignore[arg-type]
    except SlackApiError as err:
        raise ConfigError(f"Slack rejected NEWSQA_SLACK_BOT_TOKEN: {err.response.get('error')}") from err
    except OSError as err:
        raise ConfigError(f"cannot reach Slack at {settings.slack_api_url}: {err}") from err


def socket_mode_handler(settings: Settings, engine: Engine, **kwargs: Any) -> Any:
    """A Socket Mode handler for the bot (call ``.start()`` to run); needs the app-level token."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if not settings.slack_app_token:
        raise ConfigError(
            "Socket Mode needs NEWSQA_SLACK_APP_TOKEN (an app-level xapp-... token with connections:write)"
        )
    app = build_app(settings, engine, socket_mode=True, **kwargs)
    web_client = WebClient(token=settings.slack_app_token, base_url=_api_url(settings))
    return SocketModeHandler(app, app_token=settings.slack_app_token, web_client=web_client)
