"""The Slack bot's SQLite store: answers it gave, votes on them, and the Slack events already handled.

One file under ``settings.data_dir/slack/``. Connections are opened per operation so the store is safe to use
from Bolt's worker threads and from several processes (WAL mode; SQLite serialises the writers).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from rag.types import Answer, Passage

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY, question TEXT NOT NULL, answer_json TEXT NOT NULL, channel TEXT, thread_ts TEXT,
    user TEXT, created_at TEXT NOT NULL, passages_json TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id), user TEXT NOT NULL, helpful INTEGER NOT NULL,
    note TEXT, voted_at TEXT NOT NULL, PRIMARY KEY (answer_id, user)
);
CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, seen_at REAL NOT NULL);
"""
MAX_KEPT_PASSAGES = 8
EVENT_TTL_S = 24 * 3600  # Slack retries within minutes; a day of keys is plenty and keeps the table small


@dataclass
class StoredAnswer:
    id: str
    answer: Answer
    channel: str | None
    thread_ts: str | None
    user: str | None
    created_at: datetime
    passages: list[Passage]


@dataclass
class Vote:
    answer: StoredAnswer
    user: str
    helpful: bool
    note: str | None
    voted_at: datetime


def _now() -> str:
    return datetime.now(UTC).isoformat()


class FeedbackStore:
    """Answers, votes and handled-event keys in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> FeedbackStore:
        """The store at its standard place under the data dir."""
        return cls(data_dir / "slack" / "feedback.sqlite3")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # one transaction, committed on success
                yield db
        finally:
            db.close()

    # ---- answers and votes ------------------------------------------------------------------------
    def record_answer(
        self,
        answer: Answer,
        channel: str | None,
        thread_ts: str | None,
        user: str | None,
        passages: list[Passage] | None = None,
    ) -> str:
        """Keep an answer (and the passages it was drawn from, for re-rendering an abstention's closest
        sources) so its buttons (quotes, share, feedback) can refer to it by id; returns the id."""
        answer_id = uuid.uuid4().hex[:16]
        kept = json.dumps([p.model_dump(mode="json") for p in (passages or [])[:MAX_KEPT_PASSAGES]])
        with self._connect() as db:
            db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (answer_id, answer.question, answer.model_dump_json(), channel, thread_ts, user, _now(), kept),
            )
        return answer_id

    def get_answer(self, answer_id: str) -> StoredAnswer | None:
        """The stored answer with this id, or None."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return self._answer(row) if row else None

    @staticmethod
    def _answer(row: tuple[Any, ...]) -> StoredAnswer:
        answer_id, _question, answer_json, channel, thread_ts, user, created, passages_json = row
        passages = [Passage.model_validate(p) for p in json.loads(passages_json)]
        return StoredAnswer(
            answer_id,
            Answer.model_validate_json(answer_json),
            channel,
            thread_ts,
            user,
            datetime.fromisoformat(created),
            passages,
        )

    def record_vote(self, answer_id: str, user: str, helpful: bool) -> None:
        """Store a user's vote on an answer; a second vote by the same user replaces the first."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO votes VALUES (?, ?, ?, NULL, ?) ON CONFLICT(answer_id, user) DO UPDATE SET "
                "helpful = excluded.helpful, voted_at = excluded.voted_at",
                (answer_id, user, int(helpful), _now()),
            )

    def add_note(self, answer_id: str, user: str, note: str) -> bool:
        """Attach a note to the user's vote on the answer; False when there is no such vote."""
        with self._connect() as db:
            cur = db.execute("UPDATE votes SET note = ? WHERE answer_id = ? AND user = ?", (note, answer_id, user))
        return cur.rowcount > 0

    def votes(self) -> list[Vote]:
        """Every vote with its answer, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT a.*, v.user, v.helpful, v.note, v.voted_at FROM votes v JOIN answers a ON a.id = v.answer_id "
                "ORDER BY v.voted_at, a.id"
            ).fetchall()
        return [Vote(self._answer(r[:8]), r[8], bool(r[9]), r[10], datetime.fromisoformat(r[11])) for r in rows]

    # ---- retries ---------------------------------------------------------------------------------
    def claim_event(self, key: str) -> bool:
        """True the first time ``key`` (a Slack event_id) is seen, False for a retry of it."""
        now = time.time()
        with self._connect() as db:
            db.execute("DELETE FROM seen_events WHERE seen_at < ?", (now - EVENT_TTL_S,))
            cur = db.execute("INSERT OR IGNORE INTO seen_events VALUES (?, ?)", (key, now))
        return cur.rowcount == 1


def evalset_rows(votes: list[Vote]) -> list[dict[str, Any]]:
    """One eval-set case per voted answer (issue 4's JSONL format), not-helpful cases first.

    ``type`` is ``feedback_not_helpful`` (any user said so) or ``feedback_helpful``; ``as_of`` is the time
    the question was asked, so a replay sees the same articles. Helpful answers propose their cited articles
    as ``gold_*``; the answer text is for a person to turn into ``all_of``/``any_of`` (left empty here:
    a vote says whether an answer helped, not which words a correct answer must contain).
    """
    by_answer: dict[str, list[Vote]] = {}
    for vote in votes:
        by_answer.setdefault(vote.answer.id, []).append(vote)
    rows = []
    for answer_id, group in by_answer.items():
        stored = group[0].answer
        answer = stored.answer
        helpful = sum(v.helpful for v in group)
        unhelpful = len(group) - helpful
        row: dict[str, Any] = {
            "id": f"slack-{answer_id}",
            "question": answer.question,
            "type": "feedback_not_helpful" if unhelpful else "feedback_helpful",
            "as_of": (answer.as_of or stored.created_at).isoformat(),
        }
        if not unhelpful and answer.citations and not answer.abstained:
            cited = list({c.article_id: c for c in answer.citations}.values())
            row["gold_article_ids"] = [c.article_id for c in cited]
            row["gold_titles"] = [c.title for c in cited if c.title]
            row["gold_urls"] = [c.url for c in cited if c.url]
        row["feedback"] = {
            "helpful": helpful,
            "not_helpful": unhelpful,
            "notes": [v.note for v in group if v.note],
            "answer": answer.answer,
            "abstained": answer.abstained,
            "mode": answer.mode,
            "citations": [
                {"n": c.n, "article_id": c.article_id, "title": c.title, "url": c.url, "quote": c.quote}
                for c in answer.citations
            ],
            "asked_at": stored.created_at.isoformat(),
        }
        rows.append(row)
    rows.sort(key=lambda r: (r["type"] != "feedback_not_helpful", r["feedback"]["asked_at"]))
    return rows


def export_evalset(store: FeedbackStore, out: TextIO) -> int:
    """Write the voted answers as JSONL eval cases to ``out``; returns how many were written."""
    rows = evalset_rows(store.votes())
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)
