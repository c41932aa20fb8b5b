"""Feeds: the registry and per-feed state (SQLite under the data dir), polling, and the background poller.

A poll fetches each registered feed with a conditional GET (``If-None-Match``/``If-Modified-Since`` from
the previous answer; a 304 fetches nothing more). For each entry not seen before it fetches and extracts
the article page (:func:`ingest.web.fetch_article`); when that fails it ingests the entry's own content
or summary, marked ``partial``. The entry's ``published`` date wins over the page's. Every feed is polled
inside its own ``try``: one feed's failure is recorded in its state and never stops the others.

The registry is state, not an index: the articles themselves live only in Chroma. (Slightly over our usual
~300 lines: the registry, the poll and the background thread share the feed-state schema defined here.)
"""

from __future__ import annotations

import contextlib
import logging
import random
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from ingest.readers import Failure, RawDocument
from ingest.readers.feeds import Feed, FeedEntry, entry_document, parse_feed, with_entry_metadata
from ingest.web import FEED_TYPES, check_url, fetch, fetch_article, make_client
from ingest.web.fetch import redact
from rag.errors import NewsqaError, NotFound
from rag.settings import Settings
from rag.text.ids import canonical_url

if TYPE_CHECKING:
    import httpx

    from ingest.engine import Engine

log = logging.getLogger(__name__)
JITTER = 0.1  # each wait between polls is the interval ±10%, so many servers do not poll in lockstep
_ACCEPT = FEED_TYPES | {"text/plain"}  # some servers label feeds text/plain; the parser decides

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    key TEXT PRIMARY KEY, url TEXT NOT NULL, title TEXT, added_at TEXT NOT NULL,
    etag TEXT, last_modified TEXT, last_poll TEXT, last_status TEXT, last_error TEXT,
    polls INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0,
    entries_seen INTEGER NOT NULL DEFAULT 0, articles_ingested INTEGER NOT NULL DEFAULT 0,
    articles_partial INTEGER NOT NULL DEFAULT 0, last_new_entries INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS seen_entries (
    feed_key TEXT NOT NULL, entry_key TEXT NOT NULL, first_seen TEXT NOT NULL,
    PRIMARY KEY (feed_key, entry_key)
);
"""


class FeedState(BaseModel):
    """One registered feed and what its polls did (``GET /v1/feeds``, ``newsqa feeds list``)."""

    url: str
    title: str | None = None
    added_at: datetime
    last_poll: datetime | None = None
    last_status: str | None = Field(None, description="`ok`, `not_modified` (HTTP 304) or `error`.")
    last_error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    polls: int = 0
    errors: int = Field(0, description="Consecutive failed polls (0 after a success).")
    entries_seen: int = 0
    articles_ingested: int = Field(0, description="Articles indexed (new, updated or grouped) from this feed.")
    articles_partial: int = Field(0, description="Of those, indexed from the entry's own text (page failed).")
    last_new_entries: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat()


class FeedRegistry:
    """Registered feeds, their conditional-GET validators and counters, and the entries already seen."""

    def __init__(self, settings: Settings) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.path: Path = settings.data_dir / "feeds.sqlite3"
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per call: the poller thread and request threads share the file.
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def add(self, url: str) -> tuple[FeedState, bool]:
        """Register ``url``; (state, True) when new, (existing state, False) when already registered."""
        url = check_url(url)
        key = canonical_url(url)
        with self._db() as db:
            created = (
                db.execute(
                    "INSERT OR IGNORE INTO feeds (key, url, added_at) VALUES (?, ?, ?)", (key, url, _now())
                ).rowcount
                == 1
            )
        return self.get(url), created

    def remove(self, url: str) -> None:
        key = canonical_url(url)
        with self._db() as db:
            if db.execute("DELETE FROM feeds WHERE key = ?", (key,)).rowcount == 0:
                raise NotFound(f"no feed {url!r} is registered (see `newsqa feeds list`)")
            db.execute("DELETE FROM seen_entries WHERE feed_key = ?", (key,))

    def get(self, url: str) -> FeedState:
        with self._db() as db:
            row = db.execute("SELECT * FROM feeds WHERE key = ?", (canonical_url(url),)).fetchone()
        if row is None:
            raise NotFound(f"no feed {url!r} is registered (see `newsqa feeds list`)")
        return _state(row)

    def list(self) -> list[FeedState]:
        with self._db() as db:
            return [_state(r) for r in db.execute("SELECT * FROM feeds ORDER BY added_at, url")]

    def seen(self, url: str) -> set[str]:
        with self._db() as db:
            rows = db.execute("SELECT entry_key FROM seen_entries WHERE feed_key = ?", (canonical_url(url),))
            return {r[0] for r in rows}

    def record_success(
        self,
        url: str,
        fetched_validators: tuple[str | None, str | None] | None,
        title: str | None,
        new_keys: Sequence[str],
        ingested: int,
        partial: int,
    ) -> None:
        """A poll that worked: validators (None for a 304: keep the old ones), entries now seen, counters."""
        key, now = canonical_url(url), _now()
        with self._db() as db:
            db.executemany(
                "INSERT OR IGNORE INTO seen_entries (feed_key, entry_key, first_seen) VALUES (?, ?, ?)",
                [(key, k, now) for k in new_keys],
            )
            status = "not_modified" if fetched_validators is None else "ok"
            db.execute(
                """UPDATE feeds SET last_poll = ?, last_status = ?, last_error = NULL, polls = polls + 1, errors = 0,
                   title = COALESCE(?, title), entries_seen = entries_seen + ?, last_new_entries = ?,
                   articles_ingested = articles_ingested + ?, articles_partial = articles_partial + ?
                   WHERE key = ?""",
                (now, status, title, len(new_keys), len(new_keys), ingested, partial, key),
            )
            if fetched_validators is not None:
                db.execute("UPDATE feeds SET etag = ?, last_modified = ? WHERE key = ?", (*fetched_validators, key))

    def record_error(self, url: str, error: str) -> None:
        with self._db() as db:
            db.execute(
                """UPDATE feeds SET last_poll = ?, last_status = 'error', last_error = ?, polls = polls + 1,
                   errors = errors + 1, last_new_entries = 0 WHERE key = ?""",
                (_now(), error, canonical_url(url)),
            )


def _state(row: sqlite3.Row) -> FeedState:
    """A feed's state; a URL registered with ``user:password@`` (before they were refused) is shown without."""
    state = FeedState(**{k: row[k] for k in row.keys() if k != "key"})  # noqa: SIM118 (Row iterates values)
    state.url = redact(state.url)
    return state


# ---- polling ------------------------------------------------------------------------------------
@dataclass
class FeedResult:
    url: str
    status: str  # ok | not_modified | error
    new_entries: int = 0
    ingested: int = 0
    partial: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "new_entries": self.new_entries,
            "ingested": self.ingested,
            "partial": self.partial,
            "skipped": self.skipped,
            "error": self.error,
            "failures": [{"origin": f.origin, "reason": f.reason} for f in self.failures],
        }


class FeedPoller:
    """Polls the registered feeds into an engine."""

    def __init__(self, engine: Engine, settings: Settings, registry: FeedRegistry | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.registry = registry or FeedRegistry(settings)

    def poll_all(self) -> list[FeedResult]:
        """Poll every registered feed once; each feed's failure is recorded and the others go on."""
        return [self.poll_one(state) for state in self.registry.list()]

    def poll_one(self, state: FeedState) -> FeedResult:
        try:
            return self._poll(state)
        except Exception as exc:  # any failure of one feed (network, parse, store) is that feed's alone
            reason = str(exc) if isinstance(exc, NewsqaError) else f"{type(exc).__name__}: {exc}"
            reason = reason.removeprefix(f"{state.url}: ")
            log.warning("feed %s: %s", state.url, reason)
            with contextlib.suppress(Exception):
                self.registry.record_error(state.url, reason)
            return FeedResult(state.url, "error", error=reason)

    def _poll(self, state: FeedState) -> FeedResult:
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        with make_client(self.settings) as client:
            fetched = fetch(state.url, self.settings, accept=_ACCEPT, headers=headers, client=client)
            if fetched.not_modified:
                self.registry.record_success(state.url, None, None, [], 0, 0)
                return FeedResult(state.url, "not_modified")
            feed = parse_feed(fetched.content, state.url)
            seen = self.registry.seen(state.url)
            new = [e for e in dict((e.key, e) for e in feed.entries).values() if e.key not in seen]
            docs = self._documents(feed, new, client)
        report = self.engine.ingest_documents(docs)
        partial = sum(1 for d in docs if isinstance(d, RawDocument) and d.partial)
        failures = [Failure(state.url, f"entry skipped: {b}") for b in feed.broken] + report.failed
        ingested = report.ingested + report.updated + report.grouped
        self.registry.record_success(
            state.url, (fetched.etag, fetched.last_modified), feed.title, [e.key for e in new], ingested, partial
        )
        return FeedResult(state.url, "ok", len(new), ingested, partial, report.skipped, failures)

    def _documents(self, feed: Feed, entries: list[FeedEntry], client: httpx.Client) -> list[RawDocument | Failure]:
        """Each entry's article page (fetched a few at once), else its own text marked partial."""

        def one(entry: FeedEntry) -> RawDocument | Failure:
            origin = entry.link or entry.key
            page_error = "the entry has no link"
            if entry.link:
                try:
                    page = fetch_article(entry.link, self.settings, client=client)
                    return with_entry_metadata(page, entry, feed.title)
                except (NewsqaError, ValueError) as exc:
                    page_error = str(exc).removeprefix(f"{entry.link}: ")
            try:
                doc = entry_document(entry, feed, origin)
            except NewsqaError as exc:
                return Failure(origin, f"{page_error}; {str(exc).removeprefix(f'{origin}: ')}")
            doc.provenance["partial_because"] = page_error
            return doc

        with ThreadPoolExecutor(max_workers=self.settings.feed_workers, thread_name_prefix="feed-fetch") as pool:
            return list(pool.map(one, entries))


# ---- the background poller inside `newsqa serve` ------------------------------------------------
class FeedPollerHandle:
    """A running background poller; :meth:`stop` ends it (waiting for a poll in progress)."""

    def __init__(self, thread: threading.Thread, stopping: threading.Event) -> None:
        self.thread = thread
        self._stopping = stopping

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stopping.set()
        self.thread.join(timeout)

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


@contextlib.contextmanager
def _poll_lock(settings: Settings) -> Iterator[bool]:
    """True when this process holds the data dir's poll lock (several server workers: one polls)."""
    import fcntl

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "feeds.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_feed_poller(engine: Engine, settings: Settings, first_delay: float | None = None) -> FeedPollerHandle:
    """Poll every registered feed every ``NEWSQA_FEED_INTERVAL`` seconds (±10% jitter) on a daemon thread.

    The first poll comes after ``first_delay`` (default: a random few seconds, at most 10% of the interval).
    Call ``.stop()`` on the returned handle at shutdown.
    """
    stopping = threading.Event()
    poller = FeedPoller(engine, settings)
    interval = settings.feed_interval

    def run() -> None:
        delay = first_delay if first_delay is not None else random.uniform(1.0, max(1.0, min(30.0, interval * JITTER)))
        while not stopping.wait(delay):
            try:
                with _poll_lock(settings) as mine:
                    if mine:
                        results = poller.poll_all()
                        log.info("polled %d feed(s): %s", len(results), [r.status for r in results])
            except Exception:  # the poller must outlive any one bad round
                log.exception("feed poll failed")
            delay = interval * random.uniform(1 - JITTER, 1 + JITTER)

    thread = threading.Thread(target=run, name="newsqa-feed-poller", daemon=True)
    thread.start()
    return FeedPollerHandle(thread, stopping)
