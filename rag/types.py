"""Core types every stage and every way in speaks. JSON schemas are generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from rag.markup import neutralise, web_url

WebURL = Annotated[str | None, BeforeValidator(web_url)]
"""An article URL as stored and shown: http(s) only, no credentials; anything else (``javascript:``) is None."""


class OutletCopy(BaseModel):
    """Another outlet that ran the same (syndicated) story; its text is not indexed separately."""

    article_id: str
    source: str | None = None
    url: WebURL = None
    title: str | None = None
    published: datetime | None = None


class Article(BaseModel):
    id: str
    title: str | None = None
    source: str | None = Field(None, description="The outlet, e.g. 'Tom's Hardware'.")
    authors: list[str] = Field(default_factory=list)
    published: datetime | None = Field(None, description="Timezone-aware publication time.")
    url: WebURL = None
    text: str
    ingested_at: datetime
    content_hash: str = Field("", description="Hash of the text and metadata; a change means re-index.")
    partial: bool = Field(False, description="Only a feed entry's summary/content was indexed (the page failed).")
    provenance: dict[str, str] = Field(
        default_factory=dict, description="Where each field came from, e.g. {'published': 'json-ld:datePublished'}."
    )
    story_id: str | None = Field(None, description="Set on a syndicated copy: the article whose chunks are searched.")
    also_in: list[OutletCopy] = Field(default_factory=list, description="Other outlets that ran this story.")


class Chunk(BaseModel):
    id: str
    article_id: str
    index: int
    text: str
    start: int = Field(description="Offset of the chunk in Article.text (inclusive).")
    end: int = Field(description="Offset of the chunk in Article.text (exclusive).")


class Passage(BaseModel):
    """A retrieved chunk with its article's metadata and its scores."""

    chunk_id: str
    article_id: str
    index: int
    text: str
    start: int
    end: int
    title: str | None = None
    source: str | None = None
    authors: list[str] = Field(default_factory=list)
    published: datetime | None = None
    url: WebURL = None
    also_in: list[OutletCopy] = Field(default_factory=list, description="Other outlets that ran this story.")
    dense: float | None = Field(None, description="Cosine similarity to the query (None: not a dense hit).")
    bm25: float | None = Field(None, description="BM25 score (None: not a BM25 hit).")
    fused: float = Field(0.0, description="Reciprocal-rank-fusion score.")
    score: float = Field(0.0, description="Final score after the recency prior.")


class Citation(BaseModel):
    n: int
    article_id: str
    chunk_id: str
    title: str | None = None
    source: str | None = None
    published: datetime | None = None
    url: WebURL = None
    quote: str = Field(
        description="The article's text[start:end] as sent: verbatim except that marker-like `[n]` reads `(n)` "
        "and `](` reads `] (` (rag.markup.neutralise), so article text cannot pose as a citation or a link."
    )
    start: int | None = Field(None, description="Offset of the quote in the article text.")
    end: int | None = Field(None, description="End offset (exclusive) of the quote in the article text.")
    support: float | None = Field(None, description="Support score of the cited sentence, when verified.")
    part: Literal["text", "title", "byline"] = Field(
        "text",
        description="Where the quote is: the article's text or its title (offsets in it), or its byline (the "
        "authors joined by ', ', no offsets).",
    )
    also_in: list[OutletCopy] = Field(default_factory=list, description="Other outlets that ran this story.")
    reported_by: str | None = Field(
        None, description="The original source the quote credits ('UDN.com' in '..., reports UDN.com'), if any."
    )

    @classmethod
    def _of(cls, passage: Passage, n: int, quote: str, **where: Any) -> Citation:
        """Citation ``[n]`` of ``passage``'s article quoting ``quote`` (neutralised, see ``rag.markup``)."""
        return cls(
            n=n,
            article_id=passage.article_id,
            chunk_id=passage.chunk_id,
            title=passage.title,
            source=passage.source,
            published=passage.published,
            url=passage.url,
            quote=neutralise(quote),
            **where,
        )

    @classmethod
    def quoting(cls, passage: Passage, n: int, start: int, end: int, support: float | None = None) -> Citation:
        """Citation ``[n]`` quoting ``article.text[start:end]``, a span inside ``passage`` (article offsets);
        the offsets are verbatim, the quote is neutralised (see ``rag.markup``)."""
        quote = passage.text[start - passage.start : end - passage.start]
        return cls._of(passage, n, quote, start=start, end=end, support=support)

    @classmethod
    def quoting_title(cls, passage: Passage, n: int, support: float | None = None) -> Citation:
        """Citation ``[n]`` quoting the whole title of ``passage``'s article (a headline often holds the
        figure a question asks for: "... shifts $6 billion AI server order ...")."""
        title = passage.title or ""
        return cls._of(passage, n, title, start=0, end=len(title), support=support, part="title")

    @classmethod
    def quoting_byline(cls, passage: Passage, n: int) -> Citation:
        """Citation ``[n]`` quoting the byline of ``passage``'s article (its authors joined by ", ")."""
        return cls._of(passage, n, ", ".join(passage.authors), part="byline")


class Answer(BaseModel):
    id: str | None = Field(None, description="Echo of the request id (batch mode).")
    question: str
    answer: str = Field(description="Answer text with [n] markers resolving to citations.")
    citations: list[Citation] = Field(default_factory=list)
    independent_sources: int | None = Field(
        None, description="Independent original sources behind the citations (relays of one report count once)."
    )
    abstained: bool = False
    mode: Literal["extractive", "llm", "extractive_fallback"] = "extractive"
    as_of: datetime | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="Milliseconds per stage.")
    unsupported: list[str] = Field(
        default_factory=list,
        description="LLM sentences kept in the answer (NEWSQA_UNSUPPORTED=flag) that their sources do not support.",
    )
    notice: str | None = Field(
        None, description="Why the answer is not the LLM's, e.g. 'the language model timed out' (extractive_fallback)."
    )


class Filters(BaseModel):
    """Filters shared by search, ask and chat. ``as_of`` replays a past day: later articles are excluded."""

    since: datetime | None = Field(None, description="Only articles published at or after this time.")
    until: datetime | None = Field(None, description="Only articles published at or before this time.")
    as_of: datetime | None = Field(None, description="Answer as of this time (default: now).")
    sources: list[str] = Field(default_factory=list, description="Only these outlets (case-insensitive).")


class ChatMessage(BaseModel):
    """One turn of a conversation: what the ways in receive (``/v1/chat``, the OpenAI-style route, Slack
    threads) and what the LLM client sends, so a history passes from one to the other unconverted."""

    role: Literal["system", "user", "assistant"]
    content: str
