"""Watch state in SQLite under the data dir (``watches.sqlite3``): the watches, and one delivery row per story.

Exactly once per story per watch, with any number of processes and threads: a delivery row is created with
``INSERT OR IGNORE`` under ``UNIQUE(watch_id, story_id)``, so a story is queued at most once whoever matched it;
a sender *claims* due rows (``pending`` -> ``sending`` with its own claim token, in one ``BEGIN IMMEDIATE``
transaction, so two senders never hold the same row), sends, then marks them ``sent``. A failed send puts
them back to ``pending`` with the next attempt time (exponential backoff) until ``NEWSQA_WATCH_MAX_ATTEMPTS``,
then ``failed``; each failure is recorded on the watch. A claim older than ``CLAIM_LEASE_S`` (its sender died
mid-send) can be claimed again: the only case where a receiver may see a digest twice, which is why every
webhook carries the delivery ids (``X-Newsqa-Delivery``) for it to drop a repeat.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field

from rag.errors import NotFound
from rag.settings import Settings

CLAIM_LEASE_S = 300.0  # a sender holding rows longer than this is presumed dead
MAX_STORIES = 20  # stories per digest (a Slack message holds at most 50 blocks); more go in the next digest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    id TEXT PRIMARY KEY, query TEXT NOT NULL, sources TEXT NOT NULL DEFAULT '[]', since TEXT, until TEXT,
    channel TEXT, webhook_url TEXT, secret TEXT, created_at TEXT NOT NULL, created_by TEXT,
    delivered INTEGER NOT NULL DEFAULT 0, last_delivery_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_error_at TEXT
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    watch_id TEXT NOT NULL REFERENCES watches(id) ON DELETE CASCADE,
    story_id TEXT NOT NULL, article_id TEXT NOT NULL, score REAL NOT NULL, matched_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL, claim TEXT, claimed_at TEXT,
    sent_at TEXT, last_error TEXT, slack_channel TEXT, slack_ts TEXT,
    UNIQUE (watch_id, story_id)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_thread ON deliveries (slack_channel, slack_ts);
"""


class Watch(BaseModel):
    """One watch: a query with optional filters, and where its digests go (a Slack channel or a webhook)."""

    id: str
    query: str
    sources: list[str] = Field(default_factory=list, description="Only stories from these outlets.")
    since: datetime | None = Field(None, description="Only stories published at or after this time.")
    until: datetime | None = Field(None, description="Only stories published at or before this time.")
    channel: str | None = Field(None, description="Slack channel id the digests are posted to.")
    webhook_url: str | None = Field(None, description="URL the digests are POSTed to (signed, SSRF-guarded).")
    has_secret: bool = Field(False, description="Whether the watch has its own webhook signing secret.")
    created_at: datetime
    created_by: str | None = None
    delivered: int = Field(0, description="Stories delivered so far.")
    last_delivery_at: datetime | None = None
    failures: int = Field(0, description="Consecutive failed deliveries (0 after a success).")
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass
class Claimed:
    """Delivery rows one sender holds for one watch (sent together as one digest)."""

    watch_id: str
    claim: str
    ids: list[int]
    story_ids: list[str]
    article_ids: list[str]
    attempts: int


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt else None


class WatchStore:
    """The watches and their delivery rows. One short-lived connection per call (threads and processes share it)."""

    def __init__(self, settings: Settings) -> None:
        self.path: Path = settings.data_dir / "watches.sqlite3"  # created on first use, not by an engine
        self.max_attempts = settings.watch_max_attempts
        self.backoff_s = settings.watch_backoff_s
        self._ready = False

    def exists(self) -> bool:
        """Whether any watch state exists yet (an ingest with no watches file has nothing to match)."""
        return self.path.exists()

    @contextlib.contextmanager
    def _db(self, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as setup:
                setup.executescript(_SCHEMA)
            self._ready = True
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        try:
            db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    # ---- watches ------------------------------------------------------------------------------------
    def add(
        self,
        query: str,
        *,
        sources: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        channel: str | None = None,
        webhook_url: str | None = None,
        secret: str | None = None,
        created_by: str | None = None,
    ) -> Watch:
        """Store a watch (inputs already checked by ``ingest.watches.service``)."""
        wid = "w_" + secrets.token_hex(6)
        with self._db() as db:
            db.execute(
                """INSERT INTO watches (id, query, sources, since, until, channel, webhook_url, secret, created_at,
                   created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (wid, query, json.dumps(sources or []), _iso(since), _iso(until), channel, webhook_url, secret,
                 _iso(_now()), created_by),
            )  # fmt: skip
        return self.get(wid)

    def get(self, watch_id: str) -> Watch:
        with self._db() as db:
            row = db.execute("SELECT * FROM watches WHERE id = ?", (watch_id,)).fetchone()
        if row is None:
            raise NotFound(f"no watch {watch_id!r} (see `newsqa watch list`)")
        return _watch(row)

    def secret(self, watch_id: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT secret FROM watches WHERE id = ?", (watch_id,)).fetchone()
        return row["secret"] if row else None

    def remove(self, watch_id: str) -> None:
        with self._db() as db:
            if db.execute("DELETE FROM watches WHERE id = ?", (watch_id,)).rowcount == 0:
                raise NotFound(f"no watch {watch_id!r} (see `newsqa watch list`)")

    def count(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM watches").fetchone()[0])

    # ---- deliveries ---------------------------------------------------------------------------------
    def enqueue(self, watch_id: str, hits: list[tuple[str, str, float]]) -> int:
        """Queue (story_id, article_id, score) matches; a story already queued for the watch is ignored.
        Returns how many were new."""
        now = _iso(_now())
        with self._db() as db:
            return sum(
                db.execute(
                    """INSERT OR IGNORE INTO deliveries (watch_id, story_id, article_id, score, matched_at,
                       next_attempt_at) SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM watches WHERE id = ?)""",
                    (watch_id, story, article, score, now, now, watch_id),
                ).rowcount
                for story, article, score in hits
            )

    def claim_due(self, now: datetime | None = None, slack: bool = True) -> list[Claimed]:
        """Atomically take due rows (pending and due, or a dead sender's; at most ``MAX_STORIES`` per watch),
        grouped by watch. Without
        ``slack`` (no bot token in this process), Slack watches' rows are left for a process that has one."""
        now = now or _now()
        token = uuid.uuid4().hex
        stale = _iso(now - timedelta(seconds=CLAIM_LEASE_S))
        only = "" if slack else "AND watch_id IN (SELECT id FROM watches WHERE webhook_url IS NOT NULL)"
        with self._db(immediate=True) as db:
            db.execute(
                f"""UPDATE deliveries SET status = 'sending', claim = ?, claimed_at = ?, attempts = attempts + 1
                    WHERE id IN (SELECT id FROM (
                        SELECT id, ROW_NUMBER() OVER (PARTITION BY watch_id ORDER BY id) AS n FROM deliveries
                        WHERE ((status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND claimed_at < ?))
                        {only}) WHERE n <= ?)""",
                (token, _iso(now), _iso(now), stale, MAX_STORIES),
            )
            rows = db.execute(
                "SELECT id, watch_id, story_id, article_id, attempts FROM deliveries WHERE claim = ? ORDER BY id",
                (token,),
            ).fetchall()
        groups: dict[str, Claimed] = {}
        for r in rows:
            group = groups.setdefault(r["watch_id"], Claimed(r["watch_id"], token, [], [], [], 0))
            group.ids.append(r["id"])
            group.story_ids.append(r["story_id"])
            group.article_ids.append(r["article_id"])
            group.attempts = max(group.attempts, r["attempts"])
        return list(groups.values())

    def mark_sent(
        self, claimed: Claimed, slack_channel: str | None = None, slack_ts: str | None = None, stories: int = -1
    ) -> None:
        """The claimed rows are done; ``stories`` were delivered (default: all; 0 when every story had gone)."""
        now = _iso(_now())
        marks = ",".join("?" * len(claimed.ids))
        with self._db() as db:
            n = db.execute(
                f"""UPDATE deliveries SET status = 'sent', sent_at = ?, last_error = NULL, slack_channel = ?,
                    slack_ts = ? WHERE claim = ? AND id IN ({marks})""",
                (now, slack_channel, slack_ts, claimed.claim, *claimed.ids),
            ).rowcount
            if n and stories:
                db.execute(
                    "UPDATE watches SET delivered = delivered + ?, last_delivery_at = ?, failures = 0 WHERE id = ?",
                    (min(n, stories) if stories >= 0 else n, now, claimed.watch_id),
                )

    def mark_failed(self, claimed: Claimed, error: str) -> datetime | None:
        """Record a failed send: back to pending after a backoff, or failed for good after the last attempt.
        Returns when the next attempt is due (None when there is none)."""
        now = _now()
        marks = ",".join("?" * len(claimed.ids))
        retry = claimed.attempts < self.max_attempts
        due = now + timedelta(seconds=self.backoff_s * 2 ** (claimed.attempts - 1)) if retry else None
        with self._db() as db:
            db.execute(
                f"""UPDATE deliveries SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at), last_error = ?
                    WHERE claim = ? AND id IN ({marks})""",
                ("pending" if retry else "failed", _iso(due), error, claimed.claim, *claimed.ids),
            )
            db.execute(
                "UPDATE watches SET failures = failures + 1, last_error = ?, last_error_at = ? WHERE id = ?",
                (error, _iso(now), claimed.watch_id),
            )
        return due

    def next_due(self) -> datetime | None:
        """When the earliest pending row is due (None when nothing is pending)."""
        with self._db() as db:
            row = db.execute("SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'").fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def deliveries(self, watch_id: str) -> list[dict[str, object]]:
        """A watch's delivery rows (oldest first), for ``newsqa watch list --json`` and tests."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM deliveries WHERE watch_id = ? ORDER BY id", (watch_id,)).fetchall()
        return [dict(r) for r in rows]

    def thread_watch(self, channel: str, ts: str) -> tuple[str, list[str]] | None:
        """The watch whose digest is the Slack message (channel, ts), with the articles it has delivered."""
        with self._db() as db:
            row = db.execute(
                "SELECT watch_id FROM deliveries WHERE slack_channel = ? AND slack_ts = ? LIMIT 1", (channel, ts)
            ).fetchone()
            if row is None:
                return None
            articles = db.execute(
                "SELECT article_id FROM deliveries WHERE watch_id = ? AND status = 'sent' ORDER BY id",
                (row["watch_id"],),
            ).fetchall()
        return row["watch_id"], [a[0] for a in articles]

    def list(self, channel: str | None = None) -> list[Watch]:
        where, args = ("WHERE channel = ?", (channel,)) if channel is not None else ("", ())
        with self._db() as db:
            return [_watch(r) for r in db.execute(f"SELECT * FROM watches {where} ORDER BY created_at, id", args)]


def _watch(row: sqlite3.Row) -> Watch:
    data = {k: row[k] for k in row.keys() if k != "secret"}  # noqa: SIM118 (Row iterates values)
    data["sources"] = json.loads(data["sources"] or "[]")
    data["has_secret"] = bool(row["secret"])
    return Watch.model_validate(data)
