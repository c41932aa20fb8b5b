"""Cleaning: normalise text, and strip aggregator boilerplate from plain-text page captures.

A captured page is a header (navigation, sign-up prompts, outlet, section, byline, title, image caption),
the article body, and a trailer (sign-up walls, "Related Stories" and other link lists). The body is the
longest run of prose paragraphs; header and trailer lines are dropped after the metadata they carry
(title, outlet, author, date) has been read off them. Inside the body, short call-to-action lines are
dropped too. Nothing here is specific to one site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.text.normalize import is_call_to_action, normalize_text, words

# Lines after which nothing belongs to the article any more.
_TRAILER = re.compile(
    r"^(related (stories|articles|coverage|content)|more from\b|read more\b|recommended( for you)?|"
    r"top stories\b|most (read|popular)|you (may|might) also like|sign up to read|trending\b|see also\b)",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(by|written by|author:?)\s+(?P<names>.+)$", re.IGNORECASE)
_FIELD = re.compile(
    r"^(?P<key>title|headline|source|outlet|publisher|author|authors|by|date|published|url|link)\s*:\s*(?P<value>.+)$",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[A-Z][a-zA-Z'’.-]+( [A-Z][a-zA-Z'’.-]+){1,3}$")
_DATE_LINE = re.compile(
    r"^((mon|tue|wed|thu|fri|sat|sun)\w*,? )?"
    r"(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2} \w+ \d{4}|\w+ \d{1,2},? \d{4})([ T,]+\d{1,2}:\d{2}.*)?$",
    re.IGNORECASE,
)


def is_prose(line: str) -> bool:
    """A body paragraph: a full sentence of some length, ending like one."""
    return words(line) >= 12 and line.rstrip()[-1:] in '.!?"”’)…:'


@dataclass
class CleanPage:
    text: str
    title: str | None = None
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    url: str | None = None


def _header_metadata(header: list[str], page: CleanPage) -> None:
    """Read title, outlet, byline and date off the lines above the body."""
    counts: dict[str, int] = {}
    for line in header:
        counts[line] = counts.get(line, 0) + 1
    candidates = [ln for ln in dict.fromkeys(header) if ln and not is_call_to_action(ln)]
    for line in candidates:
        if m := _FIELD.match(line):
            key, value = m["key"].lower(), m["value"].strip()
            if key in {"title", "headline"}:
                page.title = page.title or value
            elif key in {"source", "outlet", "publisher"}:
                page.source = page.source or value
            elif key in {"author", "authors", "by"}:
                page.authors = page.authors or split_authors(value)
            elif key in {"date", "published"}:
                page.published = page.published or value
            else:
                page.url = page.url or value
        elif m := _BYLINE.match(line):
            page.authors = page.authors or split_authors(m["names"])
        elif _DATE_LINE.match(line):
            page.published = page.published or line
    if page.title is None:
        # The headline: the longest header line that is not a sentence (captions and prompts end with '.').
        headlines = [ln for ln in candidates if words(ln) >= 4 and ln[-1] not in ".:" and not _FIELD.match(ln)]
        if headlines:
            page.title = max(headlines, key=words).lstrip("# ").strip()
    short = [ln for ln in candidates if _NAME.match(ln) and ln != page.title]
    if page.source is None:
        # Aggregators repeat the outlet (logo text + name); otherwise take the first short name-like line.
        repeated = [ln for ln in short if counts[ln] > 1]
        page.source = repeated[0] if repeated else None
    if not page.authors:
        names = [ln for ln in short if ln != page.source and counts[ln] == 1 and len(ln.split()) in (2, 3)]
        if names:
            page.authors = [names[-1]]  # the byline sits closest to the headline
    if page.source is None:
        others = [ln for ln in short if ln not in page.authors]
        page.source = others[0] if others else None


def split_authors(value: str) -> list[str]:
    parts = re.split(r",| and | & |;", value)
    return [p.strip() for p in parts if p.strip()]


def clean_page(text: str) -> CleanPage:
    """Split a captured page into article text and the metadata its header carries."""
    lines = normalize_text(text).split("\n")
    prose = [i for i, ln in enumerate(lines) if is_prose(ln)]
    if not prose:
        return CleanPage(text="\n".join(ln for ln in lines if not is_call_to_action(ln)).strip())
    first = prose[0]
    last = first
    for i in prose:
        if any(_TRAILER.match(ln) for ln in lines[last + 1 : i] if ln):
            break  # prose after a trailer marker is a teaser of another story
        last = i
    page = CleanPage(text="")
    _header_metadata(lines[:first], page)
    body = [ln for ln in lines[first : last + 1] if not (ln and not is_prose(ln) and is_call_to_action(ln))]
    if page.title:
        body = [ln for ln in body if ln != page.title]
    page.text = re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip()
    return page
