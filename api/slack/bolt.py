"""The Bolt app over a :class:`~api.slack.bot.SlackBot`: listeners, retry dedup, error logging.

Every listener acknowledges at once and does the work in a lazy listener (Bolt runs it on a worker thread),
so Slack always gets its answer within 3 seconds. Buttons ack first too: a modal's ``trigger_id`` is valid
for 3 seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from api.slack import render
from api.slack.bot import UPDATE_INTERVAL_S, SlackBot
from api.slack.feedback import FeedbackStore
from rag.errors import ConfigError
from rag.settings import Settings, reveal

if TYPE_CHECKING:
    from ingest.engine import Engine

log = logging.getLogger("newsqa.slack")


def _ack(ack: Any) -> None:
    ack()


def build_app(
    settings: Settings,
    engine: Engine,
    *,
    socket_mode: bool = False,
    feedback: FeedbackStore | None = None,
    update_interval_s: float = UPDATE_INTERVAL_S,
) -> tuple[App, SlackBot]:
    """The Bolt app with every listener registered, and the bot behind it.

    HTTP mode verifies signatures; Socket Mode does not need to.
    """
    if not settings.slack_bot_token:
        raise ConfigError("the Slack bot needs NEWSQA_SLACK_BOT_TOKEN (the app's xoxb-... bot token)")
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError("the Slack bot needs NEWSQA_SLACK_SIGNING_SECRET (Basic Information > Signing Secret)")
    bot = SlackBot(engine, feedback or FeedbackStore.for_data_dir(settings.data_dir), update_interval_s)
    client = WebClient(token=reveal(settings.slack_bot_token), base_url=api_url(settings))
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))  # waits Retry-After on 429
    app = App(
        client=client,  # carries the bot token and the Web API base URL (a local fake in tests)
        signing_secret=reveal(settings.slack_signing_secret) or "",
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
    return app, bot


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


def api_url(settings: Settings) -> str:
    """The Slack Web API base URL (a local fake in tests), with its trailing slash."""
    return settings.slack_api_url.rstrip("/") + "/"
