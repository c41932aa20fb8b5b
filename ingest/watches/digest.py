"""A digest: the new stories of one watch, each as title, outlet, date, lede sentence, "also in N outlets", link.

One entry per story: a syndicated copy (``ingest.neardup``) is a chunkless record whose ``story_id`` names the
indexed article, and the entry is built from that article, with the story's other outlets counted from its
``also_in``. The same entries go to Slack (:func:`slack_message`, mrkdwn with article text escaped, so a title
cannot add links or mentions) and to webhooks (:func:`webhook_body`, JSON).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from ingest.watches.store import Watch
from rag.errors import NotFound
from rag.store import ChromaStore
from rag.text.sentences import sentence_spans

MAX_LEDE_CHARS = 300


class DigestEntry(BaseModel):
    """One story of a digest."""

    story_id: str
    title: str | None
    source: str | None
    published: datetime | None
    lede: str = Field(description="The article's first sentence (verbatim, cut at 300 characters).")
    also_in: int = Field(description="How many other outlets ran the same story.")
    other_outlets: list[str] = Field(default_factory=list)
    url: str | None


def _is_heading(line: str, title: str | None) -> bool:
    """A line that repeats the title, or a short line without closing punctuation (a heading, a kicker)."""
    line = line.strip()
    same = title is not None and line.casefold().rstrip(".") == title.strip().casefold().rstrip(".")
    return same or (len(line.split()) < 8 and not line.endswith((".", "!", "?", '"', "”")))


def lede(text: str, title: str | None = None) -> str:
    """The first sentence of the article's body (a verbatim slice; a leading title or heading line is skipped),
    cut at ``MAX_LEDE_CHARS`` with an ellipsis."""
    offset = 0
    for line in text.split("\n"):
        if line.strip() and not _is_heading(line, title):
            break
        offset += len(line) + 1
    body = text[offset:] if offset < len(text) else text
    spans = sentence_spans(body)
    first = body[spans[0][0] : spans[0][1]].strip() if spans else body.strip()
    first = " ".join(first.split())
    return first if len(first) <= MAX_LEDE_CHARS else first[: MAX_LEDE_CHARS - 1].rstrip() + "…"


def entry(store: ChromaStore, story_id: str) -> DigestEntry | None:
    """The digest entry of a story (None when the story has been deleted since it matched)."""
    try:
        article = store.get_article(story_id)
    except NotFound:
        return None
    outlets = list(dict.fromkeys(c.source or "an unnamed outlet" for c in article.also_in))
    return DigestEntry(
        story_id=story_id,
        title=article.title,
        source=article.source,
        published=article.published,
        lede=lede(article.text, article.title),
        also_in=len(article.also_in),
        other_outlets=outlets,
        url=article.url,
    )


def _escape(text: str) -> str:
    """Slack mrkdwn control characters as entities: article text stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")


def entry_text(e: DigestEntry) -> str:
    title = _escape(e.title or "(untitled)")
    head = f"*<{e.url}|{title}>*" if e.url and _SAFE_URL.match(e.url) else f"*{title}*"
    meta = [_escape(e.source or "unknown outlet"), f"{e.published:%Y-%m-%d}" if e.published else "undated"]
    if e.also_in:
        meta.append(f"also in {e.also_in} outlet{'s' if e.also_in != 1 else ''}")
    return f"{head}\n{' · '.join(meta)}\n> {_escape(e.lede)}"


def slack_message(watch: Watch, entries: list[DigestEntry]) -> dict[str, object]:
    """``chat.postMessage`` arguments (text + blocks) for a digest; reply in its thread to ask about it."""
    n = len(entries)
    header = f"{n} new {'story' if n == 1 else 'stories'} for your watch _{_escape(watch.query)}_"
    blocks: list[dict[str, object]] = [{"type": "section", "text": {"type": "mrkdwn", "text": header}}]
    for e in entries:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": entry_text(e)}})
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Reply in this thread to ask about these stories."}],
        }
    )
    fallback = header + "\n" + "\n".join(f"• {_escape(e.title or '(untitled)')} ({e.source or '?'})" for e in entries)
    return {"text": fallback, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def webhook_body(watch: Watch, entries: list[DigestEntry], delivery_ids: list[int]) -> bytes:
    """The JSON body POSTed to a webhook (the exact bytes that are signed)."""
    payload = {
        "type": "newsqa.watch.digest",
        "watch": {"id": watch.id, "query": watch.query},
        "delivery_ids": delivery_ids,
        "sent_at": datetime.now(UTC).isoformat(),
        "stories": [e.model_dump(mode="json") for e in entries],
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
