"""An answer's sources grouped by article: one entry per article, with every quote cited from it.

An answer whose three quotes come from one article should show that article once (title, outlet, date,
link) with its quotes under it, not three times; the ``citations`` list in JSON keeps one entry per ``[n]``
so every marker still resolves. Every display (CLI, web page, Slack, the OpenAI-compatible ``Sources:``
text) groups through this one function.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.types import Citation


@dataclass
class ArticleSources:
    """One cited article: its first citation carries the metadata; ``quotes`` are all of its citations."""

    quotes: list[Citation] = field(default_factory=list)

    @property
    def first(self) -> Citation:
        return self.quotes[0]

    @property
    def numbers(self) -> list[int]:
        return [c.n for c in self.quotes]

    @property
    def markers(self) -> str:
        return "".join(f"[{n}]" for n in self.numbers)


def group_by_article(citations: list[Citation]) -> list[ArticleSources]:
    """Articles in order of their first citation; each with its citations in marker order."""
    groups: dict[str, ArticleSources] = {}
    for citation in sorted(citations, key=lambda c: c.n):
        groups.setdefault(citation.article_id, ArticleSources()).quotes.append(citation)
    return list(groups.values())
