"""Block Kit rendering of answers: `[n]` linked to sources, a sources list, buttons, and Slack's size limits.

Everything here is pure (no Slack calls), so it is tested on its own. Limits that shape the output:
a section's text is at most 3000 characters, a message at most 50 blocks, a button value 2000 characters,
and the fallback ``text`` (notifications, screen readers) is kept well under Slack's 4000-character advice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from rag.answer.attribution import outlet_label, sources_summary
from rag.answer.sources import group_by_article
from rag.markup import web_url
from rag.types import Answer, Citation, Passage

PLACEHOLDER_TEXT = "Searching the news..."
ABSTAIN_LINE = "The indexed articles do not cover this question."
HELP_TEXT = "Ask me a question about the news, for example: _Who benefits if Supermicro loses xAI?_"
MAX_SECTION_CHARS = 3000
MAX_BLOCKS = 50
MAX_FALLBACK_CHARS = 3000
MAX_CLOSEST = 3

# action_ids of the buttons; app.py registers one handler per id
ACTION_HELPFUL = "newsqa_feedback_helpful"
ACTION_NOT_HELPFUL = "newsqa_feedback_not_helpful"
ACTION_QUOTES = "newsqa_show_quotes"
ACTION_SHARE = "newsqa_share"
NOTE_VIEW = "newsqa_feedback_note"

Block = dict[str, Any]


@dataclass
class SlackMessage:
    """One Slack message: the fallback ``text`` and its ``blocks``."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage / chat.update / respond."""
        return {"text": self.text, "blocks": self.blocks}


# ---- text helpers ---------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fallback_text(text: str) -> str:
    """The top-level ``text`` (notifications, screen readers): Slack parses mrkdwn there too, so it is escaped
    like the blocks (no ``<!channel>``, ``<@U…>`` or disguised ``<url|label>``), then cut to the length cap
    without leaving half an ``&amp;``."""
    return re.sub(r"&[a-z]{0,3}$", "", escape(text)[:MAX_FALLBACK_CHARS])


def _safe_url(url: str) -> str:
    # `|` and `>` would end Slack's <url|label> syntax early; spaces are never valid in a URL anyway
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def _web(url: str | None) -> str | None:
    """``url`` if it is an http(s) URL (a ``javascript:`` or ``file:`` URL is never linked), else None."""
    checked = web_url(url)
    return checked if isinstance(checked, str) else None


def link(url: str | None, label: str) -> str:
    """``<url|label>`` when there is an http(s) URL, else the label in bold."""
    label = escape(label).replace("|", "¦")
    url = _web(url)
    return f"<{_safe_url(url)}|{label}>" if url else f"*{label}*"


def link_citations(text: str, citations: list[Citation]) -> str:
    """Escape ``text`` and turn each ``[n]`` whose citation has a URL into a link to that source."""
    urls = {c.n: url for c in citations if (url := _web(c.url))}

    def repl(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"<{_safe_url(urls[n])}|[{n}]>" if n in urls else match.group(0)

    return re.sub(r"\[(\d+)\]", repl, escape(text))


def age(published: datetime | None, now: datetime) -> str:
    """How old a publication time is, in words: "just now", "5 hours ago", "3 days ago", "2 years ago"."""
    if published is None:
        return ""
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    seconds = (now - published).total_seconds()
    if seconds < 60:
        return "just now"
    steps = [
        (60, "minute"),
        (3600, "hour"),
        (86400, "day"),
        (7 * 86400, "week"),
        (30 * 86400, "month"),
        (365 * 86400, "year"),
    ]
    amount, unit = 0, "minute"
    for size, name in steps:
        if seconds >= size:
            amount, unit = int(seconds // size), name
    if unit == "day" and amount == 1:
        return "yesterday"
    return f"{amount} {unit}{'' if amount == 1 else 's'} ago"


def source_line(
    title: str | None, url: str | None, outlet: str | None, published: datetime | None, now: datetime
) -> str:
    """``<url|title> · outlet · 2024-11-16 (3 days ago)``; missing parts are left out."""
    parts = [link(url, title or url or "(untitled)")]
    if outlet:
        parts.append(escape(outlet))
    parts.append(f"{published.date().isoformat()} ({age(published, now)})" if published else "undated")
    return " · ".join(parts)


def split_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at line, sentence or word boundaries."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), window.rfind(". ") + 1, window.rfind(" "))
        if cut <= limit // 2:  # no good boundary: cut hard rather than emit tiny pieces
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _mrkdwn_sections(text: str) -> list[Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}} for piece in split_text(text)]


def _lines_sections(lines: list[str]) -> list[Block]:
    """Lines grouped into as few sections as the 3000-character limit allows."""
    sections: list[str] = []
    for line in lines:
        line = line[:MAX_SECTION_CHARS]
        if sections and len(sections[-1]) + 1 + len(line) <= MAX_SECTION_CHARS:
            sections[-1] += "\n" + line
        else:
            sections.append(line)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections]


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


# ---- messages ---------------------------------------------------------------------------------------
def placeholder() -> SlackMessage:
    """The first reply, posted within a second and later replaced by the answer."""
    return SlackMessage(
        PLACEHOLDER_TEXT, [{"type": "context", "elements": [{"type": "mrkdwn", "text": f":mag: {PLACEHOLDER_TEXT}"}]}]
    )


def progress(text_so_far: str) -> SlackMessage:
    """The answer while it streams in (an LLM answerer); the final render replaces it."""
    body = escape(text_so_far.strip())[: MAX_SECTION_CHARS - 2] + " …"
    section = {"type": "section", "text": {"type": "mrkdwn", "text": body}}
    return SlackMessage(fallback_text(text_so_far), [section])


def notice(text: str) -> SlackMessage:
    """A one-sentence message (help, error) as plain mrkdwn (escaped in the fallback ``text`` too)."""
    return SlackMessage(fallback_text(text), [{"type": "section", "text": {"type": "mrkdwn", "text": escape(text)}}])


def _closest_sources(passages: list[Passage], now: datetime) -> list[str]:
    seen: set[str] = set()
    lines = []
    for p in passages:
        if p.article_id in seen:
            continue
        seen.add(p.article_id)
        lines.append("• " + source_line(p.title, p.url, p.source, p.published, now))
        if len(lines) == MAX_CLOSEST:
            break
    return lines


def _actions(answer_id: str, has_quotes: bool, shareable: bool) -> Block:
    elements = []
    if shareable:
        elements.append(_button("Share in channel", ACTION_SHARE, answer_id, "primary"))
    if has_quotes:
        elements.append(_button("Show quotes", ACTION_QUOTES, answer_id))
    elements += [
        _button(":thumbsup: Helpful", ACTION_HELPFUL, answer_id),
        _button(":thumbsdown: Not helpful", ACTION_NOT_HELPFUL, answer_id),
    ]
    return {"type": "actions", "block_id": f"newsqa_actions_{answer_id}", "elements": elements}


def answer_blocks(answer: Answer, passages: list[Passage], now: datetime | None = None) -> list[Block]:
    """The answer's content blocks (no buttons): the linked answer and the sources, or the abstention and
    the closest sources found."""
    now = now or datetime.now(UTC)
    if answer.abstained or not answer.citations:
        blocks = _mrkdwn_sections(f"{ABSTAIN_LINE}")
        closest = _closest_sources(passages, now)
        if closest:
            blocks += _lines_sections(["*Closest sources I found:*", *closest])
        return blocks
    blocks = _mrkdwn_sections(link_citations(answer.answer, answer.citations))
    summary = sources_summary(answer.citations)  # "3 articles, 1 independent source" when quotes relay
    lines = [f"*Sources* ({summary})" if summary else "*Sources*"] + [  # one line per article
        f"{g.markers} "
        + source_line(g.first.title, g.first.url, outlet_label(g.quotes, unknown=""), g.first.published, now)
        for g in group_by_article(answer.citations)
    ]
    return [*blocks, {"type": "divider"}, *_lines_sections(lines)]


def render_answer(
    answer: Answer,
    passages: list[Passage],
    answer_id: str,
    *,
    shareable: bool = False,
    now: datetime | None = None,
    header: str | None = None,
) -> list[SlackMessage]:
    """The answer as one or more Slack messages (more than one only when it exceeds 50 blocks); the
    buttons (quotes, feedback, share) go at the end of the last one."""
    content = answer_blocks(answer, passages, now)
    if header:
        content.insert(0, {"type": "context", "elements": [{"type": "mrkdwn", "text": header}]})
    content.append(_actions(answer_id, has_quotes=bool(answer.citations) and not answer.abstained, shareable=shareable))
    fallback = ABSTAIN_LINE if answer.abstained or not answer.citations else answer.answer
    messages = []
    for start in range(0, len(content), MAX_BLOCKS):
        chunk = content[start : start + MAX_BLOCKS]
        # The fallback is mrkdwn too (notifications): escaped like the blocks, so no <!channel> or disguised link.
        text = fallback_text(fallback) if start == 0 else "(continued)"
        messages.append(SlackMessage(text, chunk))
    return messages


def quotes_view(answer: Answer, now: datetime | None = None) -> dict[str, Any]:
    """A modal with each cited article once, and under it every quote cited from it."""
    now = now or datetime.now(UTC)
    blocks: list[Block] = []
    for group in group_by_article(answer.citations):
        c = group.first
        outlet = outlet_label(group.quotes, unknown="")  # "Tom's Hardware, citing UDN.com"
        head = f"{group.markers} " + source_line(c.title, c.url, outlet, c.published, now)
        labelled = len(group.quotes) > 1
        quotes = [
            "> " + (f"[{q.n}] " if labelled else "") + escape(q.quote).replace("\n", "\n> ") for q in group.quotes
        ]
        blocks += _mrkdwn_sections("\n".join([head, *quotes]))
    blocks = blocks[:100] or _mrkdwn_sections("This answer has no quotes.")
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Quotes"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def note_view(answer_id: str) -> dict[str, Any]:
    """A modal asking what was wrong with an answer (optional note attached to a "Not helpful" vote)."""
    return {
        "type": "modal",
        "callback_id": NOTE_VIEW,
        "private_metadata": answer_id,
        "title": {"type": "plain_text", "text": "Thanks for the feedback"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "What was wrong or missing? (optional)"},
                "element": {"type": "plain_text_input", "action_id": "note", "multiline": True, "max_length": 2000},
            }
        ],
    }
