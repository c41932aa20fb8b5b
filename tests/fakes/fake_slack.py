"""A small in-memory Slack for tests: the Web API and response_url hooks on 127.0.0.1, recording each call.

It keeps messages per channel (so ``conversations.replies`` returns what was posted and updated), checks
the bearer token like Slack does, and answers in Slack's JSON shapes. Helpers build signed requests the
way Slack signs them (v0 HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from tests.fakes.ports import free_port, serve_in_thread

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T0001"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when the fake received it (the test process's clock)


@dataclass
class FakeSlack:
    """The fake Web API (``url``) and hooks (``hook_url(name)``); ``calls`` and ``hooks`` record traffic."""

    port: int = field(default_factory=free_port)
    calls: list[Call] = field(default_factory=list)
    hooks: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    socket_url: str | None = None  # what apps.connections.open hands out
    rate_limit_once: set[str] = field(default_factory=set)  # methods answered once with 429 + Retry-After
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def hook_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    def next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    # ---- state -----------------------------------------------------------------------------------
    def add_message(
        self, channel: str, text: str, user: str = "U_ALICE", thread_ts: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A message as if a person posted it (before the test sends its event)."""
        msg = {"type": "message", "user": user, "text": text, "ts": self.next_ts(), **extra}
        if thread_ts:
            msg["thread_ts"] = thread_ts
        with self._lock:
            self.messages.setdefault(channel, []).append(msg)
        return msg

    def calls_to(self, method: str, **match: Any) -> list[dict[str, Any]]:
        """Params of the recorded calls to ``method`` whose params contain ``match``."""
        with self._lock:
            return [
                c.params
                for c in self.calls
                if c.method == method and all(c.params.get(k) == v for k, v in match.items())
            ]

    def times_of(self, method: str, **match: Any) -> list[float]:
        """When each call ``calls_to(method, **match)`` returns was received (``time.monotonic()``)."""
        with self._lock:
            return [
                c.at for c in self.calls if c.method == method and all(c.params.get(k) == v for k, v in match.items())
            ]

    def hooks_to(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for hook, body in self.hooks if hook == name]

    def wait_for(self, check: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Poll until ``check()`` is truthy (the bot works after acking); fail with the recorded calls."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out; calls so far: {[(c.method, c.params) for c in self.calls]}")

    # ---- the API ---------------------------------------------------------------------------------
    def handle(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            msg = {
                "type": "message",
                "user": BOT_USER,
                "bot_id": BOT_ID,
                "ts": self.next_ts(),
                **{k: v for k, v in params.items() if k in ("text", "blocks", "thread_ts", "metadata")},
            }
            with self._lock:
                self.messages.setdefault(params["channel"], []).append(msg)
            return {"ok": True, "channel": params["channel"], "ts": msg["ts"], "message": msg}
        if method == "chat.update":
            with self._lock:
                for msg in self.messages.get(params["channel"], []):
                    if msg["ts"] == params["ts"]:
                        msg.update({k: v for k, v in params.items() if k in ("text", "blocks", "metadata")})
                        return {"ok": True, "channel": params["channel"], "ts": msg["ts"], "text": msg.get("text")}
            return {"ok": False, "error": "message_not_found"}
        if method == "conversations.replies":
            with self._lock:
                thread = [
                    m
                    for m in self.messages.get(params["channel"], [])
                    if m["ts"] == params["ts"] or m.get("thread_ts") == params["ts"]
                ]
            if not thread:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": sorted(thread, key=lambda m: float(m["ts"])), "has_more": False}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0001", **params.get("view", {})}}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://newsqa-test.slack.com/",
                "team": "newsqa-test",
                "user": "newsqa",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "apps.connections.open" and self.socket_url:
            return {"ok": True, "url": self.socket_url}
        return {"ok": False, "error": "unknown_method"}

    def build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/{method}")
        @app.get("/api/{method}")
        async def api(method: str, request: Request) -> JSONResponse:
            raw = await request.body()
            params: dict[str, Any] = dict(request.query_params)
            if raw:
                if request.headers.get("content-type", "").startswith("application/json"):
                    params.update(json.loads(raw))
                else:
                    params.update(dict(parse_qsl(raw.decode())))
            for key in ("blocks", "view", "metadata"):  # form-encoded calls send these as JSON strings
                if isinstance(params.get(key), str):
                    params[key] = json.loads(params[key])
            token = request.headers.get("authorization", "").removeprefix("Bearer ") or params.pop("token", "")
            with self._lock:
                self.calls.append(Call(method, params))
            if method in self.rate_limit_once:
                self.rate_limit_once.discard(method)
                return JSONResponse(
                    {"ok": False, "error": "ratelimited"}, status_code=429, headers={"Retry-After": "1"}
                )
            wanted = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
            if token != wanted:
                return JSONResponse({"ok": False, "error": "invalid_auth"})
            return JSONResponse(self.handle(method, params))

        @app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> PlainTextResponse:
            with self._lock:
                self.hooks.append((name, json.loads(await request.body())))
            return PlainTextResponse("ok")

        return app

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self._server, self._thread = serve_in_thread(self.build(), self.port)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


# ---- requests as Slack sends them -------------------------------------------------------------------
def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The X-Slack-Signature / X-Slack-Request-Timestamp headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


_event_ids = itertools.count(1)


def event_body(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """An Events API ``event_callback`` envelope around ``event``."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()),
        "event_context": "4-test",
        "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }


def json_request(payload: dict[str, Any], **sign_kwargs: Any) -> tuple[str, dict[str, str]]:
    """(body, headers) for an Events API request."""
    body = json.dumps(payload)
    return body, {"Content-Type": "application/json", **sign(body, **sign_kwargs)}


def form_request(fields: dict[str, str], **sign_kwargs: Any) -> tuple[str, dict[str, str]]:
    """(body, headers) for a slash command or an interactivity request (form-encoded)."""
    body = urlencode(fields)
    return body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body, **sign_kwargs)}


def command_fields(text: str, channel: str, response_url: str, user: str = "U_ALICE") -> dict[str, str]:
    """A ``/newsqa`` slash command's form fields."""
    return {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "newsqa-test",
        "channel_id": channel,
        "channel_name": "news",
        "user_id": user,
        "user_name": "alice",
        "command": "/newsqa",
        "text": text,
        "api_app_id": "A0001",
        "response_url": response_url,
        "trigger_id": "trigger-cmd",
    }


def action_fields(
    action_id: str, value: str, channel: str, response_url: str, user: str = "U_ALICE", ephemeral: bool = False
) -> dict[str, str]:
    """A button click (``block_actions``) as interactivity form fields."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "newsqa-test"},
        "user": {"id": user, "username": "alice", "team_id": TEAM},
        "api_app_id": "A0001",
        "token": "legacy",
        "container": {"type": "message", "message_ts": "1.0", "channel_id": channel, "is_ephemeral": ephemeral},
        "trigger_id": f"trigger-{action_id}",
        "channel": {"id": channel, "name": "news"},
        "response_url": response_url,
        "actions": [
            {"action_id": action_id, "block_id": "b", "value": value, "type": "button", "action_ts": str(time.time())}
        ],
    }
    return {"payload": json.dumps(payload)}


def view_submission_fields(
    callback_id: str, private_metadata: str, values: dict[str, Any], user: str = "U_ALICE"
) -> dict[str, str]:
    """A modal submission as interactivity form fields."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": user},
        "api_app_id": "A0001",
        "token": "legacy",
        "trigger_id": "trigger-view",
        "view": {
            "id": "V0001",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
        },
    }
    return {"payload": json.dumps(payload)}


def final_update(fake: FakeSlack, channel: str) -> dict:
    """Wait for the placeholder in ``channel`` to be replaced by a final answer; return that chat.update."""

    def done() -> dict | None:
        updates = [
            u
            for u in fake.calls_to("chat.update", channel=channel)
            if u.get("metadata")
            or (u["blocks"][0]["type"] == "section" and not u["blocks"][0]["text"]["text"].endswith(" …"))
        ]
        return updates[-1] if updates else None

    return fake.wait_for(done)


def mention(fake: FakeSlack, channel: str, text: str, thread_ts: str | None = None) -> dict:
    """An ``app_mention`` event for a message the test posts as a person."""
    asked = fake.add_message(channel, f"<@{BOT_USER}> {text}", thread_ts=thread_ts)
    event = {
        "type": "app_mention",
        "user": "U_ALICE",
        "text": asked["text"],
        "ts": asked["ts"],
        "channel": channel,
        "event_ts": asked["ts"],
        **({"thread_ts": thread_ts} if thread_ts else {}),
    }
    return event
