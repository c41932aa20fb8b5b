"""Watches as every way in uses them: add (checked), list, remove; and :meth:`Watches.after_ingest`, the hook the
engine calls after each write.

``after_ingest`` runs after the articles are committed: it matches the new stories against every watch
(``ingest.watches.matcher``), queues each match once (``UNIQUE(watch, story)``), and hands sending to one
background thread per process, so a slow or failing webhook never delays or fails an ingest; every error is
caught, logged and recorded. The thread sends what is due, waits for retries due within ``MAX_WAIT_S``
(the backoff), and ends; rows still pending go out with the next ingest or ``newsqa watch deliver``. At
process exit the round in progress is finished (a CLI ingest sends its digests before it exits), later retries
are left to the next process.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from ingest.watches.deliver import Deliverer
from ingest.watches.matcher import Matcher
from ingest.watches.store import Watch, WatchStore
from ingest.web import FetchError, check_url
from rag.errors import InputError
from rag.settings import Settings
from rag.store import ChromaStore

log = logging.getLogger(__name__)
MAX_WAIT_S = 120.0  # the background sender waits for a retry due within this; later ones wait for the next kick
_CHANNEL = re.compile(r"^[A-Za-z0-9#_.-]{1,80}$")


class WatchIn(BaseModel):
    """A new watch: what to look for, and exactly one of a Slack channel or a webhook URL."""

    model_config = {"extra": "forbid"}

    query: str = Field(min_length=1, max_length=500, description="Words or an entity to watch for.")
    sources: list[str] = Field(default_factory=list, max_length=50, description="Only these outlets.")
    since: datetime | None = Field(None, description="Only stories published at or after this time.")
    until: datetime | None = Field(None, description="Only stories published at or before this time.")
    channel: str | None = Field(None, description="Slack channel id to post digests to.")
    webhook_url: str | None = Field(None, max_length=2000, description="URL to POST signed digests to.")
    secret: str | None = Field(
        None, min_length=16, max_length=200, description="Webhook signing secret (default: generated, shown once)."
    )

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the query is empty")
        return value

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @model_validator(mode="after")
    def _target(self) -> WatchIn:
        if (self.channel is None) == (self.webhook_url is None):
            raise ValueError("give exactly one target: a Slack channel or a webhook URL")
        if self.channel is not None and not _CHANNEL.match(self.channel):
            raise ValueError(f"not a Slack channel id: {self.channel!r}")
        if self.secret is not None and self.webhook_url is None:
            raise ValueError("a secret signs webhooks; this watch posts to Slack")
        if self.since and self.until and self.since > self.until:
            raise ValueError("since is after until")
        self.sources = [s.strip() for s in self.sources if s.strip()]
        return self


class Watches:
    """The watch registry, matcher and sender over one store. One per engine (``Engine.watches``)."""

    def __init__(self, store: ChromaStore, embed: Callable[[list[str]], np.ndarray], settings: Settings) -> None:
        self.settings = settings
        self.db = WatchStore(settings)
        self.matcher = Matcher(store, embed, settings.watch_threshold)
        self.deliverer = Deliverer(store, self.db, settings)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._exit_hook = False

    # ---- management -------------------------------------------------------------------------------
    def add(self, spec: WatchIn, created_by: str | None = None) -> tuple[Watch, str | None]:
        """Store a watch; returns it and the webhook secret when one was generated (shown once, never again)."""
        generated = None
        secret = spec.secret
        if spec.webhook_url is not None:
            try:
                check_url(spec.webhook_url)
            except FetchError as exc:
                raise InputError(f"webhook_url: {exc.reason}") from None
            if secret is None and self.settings.watch_webhook_secret is None:
                secret = generated = secrets.token_urlsafe(32)
        elif self.settings.slack_bot_token is None:
            raise InputError("a Slack channel watch needs NEWSQA_SLACK_BOT_TOKEN (or use a webhook URL)")
        watch = self.db.add(
            spec.query,
            sources=spec.sources,
            since=spec.since,
            until=spec.until,
            channel=spec.channel,
            webhook_url=spec.webhook_url,
            secret=secret,
            created_by=created_by,
        )
        return watch, generated

    def get(self, watch_id: str) -> Watch:
        return self.db.get(watch_id)

    def remove(self, watch_id: str) -> None:
        self.db.remove(watch_id)

    # ---- the ingest hook --------------------------------------------------------------------------
    def after_ingest(self, article_ids: Iterable[str]) -> None:
        """Queue the new stories' matches and start sending in the background. Never raises."""
        try:
            ids = list(article_ids)
            if ids and self.queue_matches(ids):
                self.kick()
        except Exception:  # a watch must never fail the ingest that triggered it
            log.exception("watches: matching new articles failed")

    def queue_matches(self, article_ids: list[str]) -> int:
        """Match ``article_ids`` against every watch and queue new (watch, story) pairs; returns how many."""
        watches = self.db.list() if self.db.exists() else []
        if not watches:
            return 0
        queued = 0
        for watch_id, hits in self.matcher.match(watches, article_ids).items():
            queued += self.db.enqueue(watch_id, [(h.story_id, h.article_id, h.score) for h in hits])
        return queued

    def deliver_now(self) -> int:
        """Send everything due now, in this thread (``newsqa watch deliver``); returns stories delivered."""
        return self.deliverer.deliver_due()

    # ---- the background sender --------------------------------------------------------------------
    def kick(self) -> None:
        """Make sure this process's sender thread runs (again) soon."""
        with self._lock:
            if self._thread is not None:
                self._wake.set()  # running: another round after this one (or now, if it is waiting for a retry)
                return
            if not self._exit_hook:
                self._exit_hook = True
                # At interpreter exit, threading's own exit callbacks run before non-daemon threads are joined
                # and shut every executor down (the DNS resolver of ingest.web among them): this one runs first
                # (they run last-registered first) and lets a CLI ingest finish its round of sends.
                with contextlib.suppress(RuntimeError):
                    threading._register_atexit(self.stop)  # type: ignore[attr-defined]
            self._thread = threading.Thread(target=self._run, name="newsqa-watch-delivery", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        """Rounds of sends until nothing is due within ``MAX_WAIT_S``; a kick meanwhile means one more round."""
        while True:
            self._wake.clear()
            try:
                self.deliverer.deliver_due()
                due = self.db.next_due()
            except Exception:
                log.exception("watches: delivery round failed")
                due = None
            wait = (due - datetime.now(UTC)).total_seconds() if due is not None else None
            with self._lock:
                if self._wake.is_set() and not self._stopping.is_set():
                    continue
                if wait is None or wait > MAX_WAIT_S or self._stopping.is_set():
                    self._thread = None
                    return
            self._wake.wait(max(0.0, wait) + 0.05)

    def join(self, timeout: float | None = 30.0) -> None:
        """Wait for the sender thread to finish (tests, and an orderly shutdown)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def stop(self) -> None:
        """Stop waiting for retries (the current send finishes); pending rows stay for the next process."""
        self._stopping.set()
        self._wake.set()
        self.join()

    def list(self, channel: str | None = None) -> list[Watch]:  # last: the name shadows list
        return self.db.list(channel)
