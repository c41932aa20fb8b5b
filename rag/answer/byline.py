"""Questions about who wrote an article ("Who wrote the Tom's Hardware article about xAI's server order?").

The answer is in the article's byline, which ingest reads off the page header into ``Article.authors``; no
sentence of the text says it, so the sentence answerers could only quote something else or abstain. The article
is the best-ranked one holding the question's topic (the caller's ranking) that has a byline, restricted to
the outlet the question names, if any. The citation quotes the byline (``Citation.part == "byline"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.types import Answer, Citation, Passage

_ASKS_AUTHOR = re.compile(
    r"\bwho\s+(?:wrote|writes|authored|penned)\b|\b(?:author|authors|byline|writer|reporter)\s+of\b|"
    r"\bwho\s+(?:is|was|are|were)\s+the\s+(?:author|writer|reporter)s?\b|\bwritten\s+by\s+whom\b",
    re.IGNORECASE,
)


def asks_for_author(question: str) -> bool:
    """Whether ``question`` asks who wrote an article."""
    return bool(_ASKS_AUTHOR.search(question))


def _folded(text: str) -> str:
    return " ".join(re.sub(r"[’'`]", "'", text).casefold().split())


def _names(authors: list[str]) -> str:
    return authors[0] if len(authors) == 1 else ", ".join(authors[:-1]) + " and " + authors[-1]


def byline_answer(question: str, ranked: Iterable[Passage]) -> Answer | None:
    """The byline of the best-ranked article with one (of the outlet the question names, if any), as a cited
    answer; None when no ranked article has a byline."""
    ranked = list(ranked)
    asked = _folded(question)
    named = {p.source for p in ranked if p.source and _folded(p.source) in asked}
    for p in ranked:
        if p.authors and (not named or p.source in named):
            where = ", ".join(x for x in (p.source, p.published.date().isoformat() if p.published else None) if x)
            what = f"“{p.title}”" if p.title else "the article"
            text = f"{_names(p.authors)} wrote {what}{f' ({where})' if where else ''}. [1]"
            return Answer(question=question, answer=text, citations=[Citation.quoting_byline(p, 1)], mode="extractive")
    return None
