"""Timeline answers: the stories matching a query in date order, one cited verbatim sentence each.

"What has happened with Supermicro since October?", "timeline of the Itaewon crowd crush", ``newsqa timeline``
and ``POST /v1/timeline`` all end here. Retrieval ranks articles (one best passage each); an article is kept
when it holds most of the query's idf weight (``MIN_SHARE``: retrieval always returns *something*, a timeline
must not list unrelated stories); syndicated copies are already one article with ``also_in`` at ingest, and
articles with the same title are grouped here too, so a story is listed once with its outlet count. Each
story is quoted by its lede, or by the sentence best matching the query when that one matches better. Dated
stories are sorted by publication time; undated ones are listed apart, never placed by guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from rag.answer.attribution import attribute_citations
from rag.text.lexicon import MONTHS, QUESTION_STEMS
from rag.text.normalize import is_call_to_action, words
from rag.text.sentences import sentence_spans
from rag.text.tokens import tokenize
from rag.types import Answer, Article, Citation, Filters, Passage

CANDIDATES = 40  # articles retrieved per timeline (the query's best passage each)
MIN_SHARE = 0.6  # idf-weighted share of the query's terms an article must hold to be part of the story
LEDE_SENTENCES = 3  # the lede is the first real sentence among the first few (skips datelines and bylines)
NO_STORIES = "No indexed articles tell this story."

_CUE = re.compile(
    r"^\s*(?:(?:give|show|tell)\s+me\s+|(?:build|make)\s+)?(?:an?\s+|the\s+)?(?:timeline|chronology|history)\s+"
    r"(?:of|for|on)\s+|^\s*what(?:'s|’s|\s+has|\s+have)\s+(?:been\s+)?happen(?:ed|ing)\s+(?:with|to|in|on|at)\s+|"
    r"^\s*what\s+happened\s+(?:with|to|in|on|at)\s+(?=.*\bsince\b)|"
    r"^\s*how\s+(?:has|have|did)\s+(?P<subject>.+?)\s+(?:developed|unfolded|evolved|played out)\b",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(r"(?P<mon>[A-Za-z]{3,9})\.?(?:\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?)?,?(?:\s+(?P<y>\d{4}))?")
_SINCE = re.compile(r"\s+since\s+(?P<when>[\w ,/-]+?)\s*[?.!]*\s*$", re.IGNORECASE)
_TIMELINE_TERMS = frozenset(tokenize(["timeline chronology history happened happening latest developments"])[0])


class TimelineEntry(BaseModel):
    """One story: its article (the copy searched), every outlet that ran it, and one cited sentence."""

    published: datetime | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    outlets: list[str] = Field(default_factory=list, description="Every outlet that ran this story.")
    outlet_count: int = Field(1, description="How many outlets ran it (syndicated copies and same-title articles).")
    citation: Citation


class Timeline(BaseModel):
    query: str
    since: datetime | None = None
    until: datetime | None = None
    entries: list[TimelineEntry] = Field(default_factory=list, description="Dated stories, oldest first.")
    undated: list[TimelineEntry] = Field(default_factory=list, description="Matching stories with no date.")


@dataclass
class TimelineRequest:
    """A question read as a timeline request: what to follow, and from when (``since`` in the question)."""

    query: str
    since: datetime | None = None


def _month_start(name: str, year: str | None, as_of: datetime) -> datetime | None:
    month = next((i for i, m in enumerate(MONTHS, 1) if m.startswith(name.lower()[:3])), None)
    if month is None:
        return None
    if year:
        return datetime(int(year), month, 1, tzinfo=UTC)
    start = datetime(as_of.year, month, 1, tzinfo=UTC)  # "since October": the latest October before as_of
    return start if start <= as_of else start.replace(year=as_of.year - 1)


def since_date(text: str, as_of: datetime) -> datetime | None:
    """``since October`` / ``since October 2022`` / ``since 2022-10-01`` / ``since Oct 5, 2022`` -> a date."""
    text = text.strip().rstrip("?.!")
    if m := re.fullmatch(r"(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)", text):
        return datetime(int(m["y"]), int(m["m"]), int(m["d"]), tzinfo=UTC)
    if m := _MONTH_DAY.fullmatch(text):
        start = _month_start(m["mon"], m["y"], as_of)
        try:
            return start.replace(day=int(m["d"])) if start and m["d"] else start
        except ValueError:  # "since February 30"
            return None
    if m := re.fullmatch(r"(?:19|20)\d\d", text):
        return datetime(int(text), 1, 1, tzinfo=UTC)
    return None


def timeline_request(question: str, as_of: datetime) -> TimelineRequest | None:
    """The question as a timeline request, or None when it asks something else ("Who benefits ...?")."""
    cue = _CUE.search(question)
    if not cue:
        return None
    rest = cue["subject"] if cue["subject"] else question[cue.end() :]
    since = None
    if m := _SINCE.search(rest):
        since = since_date(m["when"], as_of)
        if since is not None:
            rest = rest[: m.start()]
    query = re.sub(r"\s+so far\b|[?.!]+\s*$", "", rest).strip()
    return TimelineRequest(query, since) if query else None


def is_timeline_question(question: str) -> bool:
    return _CUE.search(question) is not None


def query_weights(query: str, idf: Callable[[str], float]) -> dict[str, float]:
    return {t: idf(t) for t in set(tokenize([query])[0]) - QUESTION_STEMS - _TIMELINE_TERMS}


def share(weights: dict[str, float], tokens: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in tokens) / total if total else 0.0


def anchor(weights: dict[str, float]) -> str | None:
    """The query's rarest term ("itaewon" in "Itaewon crowd crush"): what a story must be about."""
    return max(weights, key=lambda t: (weights[t], t)) if weights else None


def _match(weights: dict[str, float], tokens: set[str]) -> float:
    """Share of the query's weight, plus 1 when the anchor term is there (a sentence naming the subject wins)."""
    key = anchor(weights)
    return share(weights, tokens) + (1.0 if key in tokens else 0.0)


def quoted_span(text: str, weights: dict[str, float], used: set[str] | None = None) -> tuple[int, int] | None:
    """The lede (first real sentence) when it names the query's subject (its anchor term), else the sentence
    that best matches the query: a lede summarises the story, so it is the better quote when on topic.
    Sentences in ``used`` (normalised; quoted for another story, e.g. a reused paragraph) are skipped."""
    used = used or set()
    spans = [
        (s, e)
        for s, e in sentence_spans(text)
        if words(text[s:e]) >= 5 and not is_call_to_action(text[s:e]) and _title_key(text[s:e]) not in used
    ]
    if not spans:
        return None
    lede = next((sp for sp in spans[:LEDE_SENTENCES] if not text[sp[0] : sp[1]].isupper()), spans[0])
    scored = [(_match(weights, set(tokenize([text[s:e]])[0])), i) for i, (s, e) in enumerate(spans)]
    best_score, best = max(scored, key=lambda x: (x[0], -x[1]))
    lede_score = _match(weights, set(tokenize([text[lede[0] : lede[1]]])[0]))
    return lede if lede_score >= 1.0 or lede_score >= best_score else spans[best]


def _outlet(source: str | None, url: str | None) -> str | None:
    """The outlet's name, else its web host ("cnn.com"): RealTime QA articles carry a URL but no outlet."""
    return source or ((urlparse(url).hostname or "").removeprefix("www.") if url else None) or None


def _title_key(title: str | None) -> str:
    return re.sub(r"\W+", " ", (title or "").lower()).strip()


def build_timeline(
    query: str,
    filters: Filters,
    search: Callable[[str, int, Filters], list[Passage]],
    get_article: Callable[[str], Article],
    idf: Callable[[str], float],
    locate_chunk: Callable[[str, int, int], tuple[str, int] | None] | None = None,
) -> Timeline:
    """The stories matching ``query`` within ``filters``: ``search(query, k, filters)`` gives each article's
    best passage, ``get_article`` the article; undated ones come from a second search without the dates."""
    hits = search(query, CANDIDATES, filters)
    weights = query_weights(query, idf)  # after a search: the index's statistics are loaded by then
    if filters.since or filters.until:  # the date filters hide undated articles: look for them apart
        undated_filters = filters.model_copy(update={"since": None, "until": None})
        hits += [p for p in search(query, CANDIDATES, undated_filters) if p.published is None]
    stories: dict[str, tuple[Article, Passage, list[str]]] = {}
    seen: set[str] = set()
    for hit in hits:
        if hit.article_id in seen:
            continue
        seen.add(hit.article_id)
        article = get_article(hit.article_id)
        tokens = set(tokenize([f"{article.title or ''}\n{article.text}"])[0])
        if share(weights, tokens) < MIN_SHARE or anchor(weights) not in tokens:
            continue
        outlets = [o for o in [_outlet(article.source, article.url), *(c.source for c in article.also_in)] if o]
        key = _title_key(article.title) or article.id
        if key in stories:  # the same story under another id (not caught as a copy at ingest): one entry
            first, _, known = stories[key]
            known += [o for o in outlets if o not in known]
            if article.published and (first.published is None or article.published < first.published):
                stories[key] = (article, hit, known)  # the earliest copy dates the story
            continue
        stories[key] = (article, hit, list(dict.fromkeys(outlets)))
    entries: list[TimelineEntry] = []
    used: set[str] = set()
    for article, hit, outlets in stories.values():
        span = quoted_span(article.text, weights, used)
        if span is None:
            continue
        used.add(_title_key(article.text[span[0] : span[1]]))
        located = locate_chunk(article.id, *span) if locate_chunk else None
        chunk_id, index = located or (hit.chunk_id, hit.index)
        whole = Passage(
            chunk_id=chunk_id,
            article_id=article.id,
            index=index,
            text=article.text,
            start=0,
            end=len(article.text),
            title=article.title,
            source=article.source,
            published=article.published,
            url=article.url,
        )
        citation = Citation.quoting(whole, 0, *span)
        citation.also_in = list(article.also_in)
        entries.append(
            TimelineEntry(
                published=article.published,
                title=article.title,
                source=article.source,
                url=article.url,
                outlets=outlets,
                outlet_count=max(len(outlets), 1),
                citation=citation,
            )
        )
    dated = sorted((e for e in entries if e.published), key=lambda e: e.published or datetime.min)
    undated = [e for e in entries if e.published is None]
    for n, e in enumerate([*dated, *undated], start=1):
        e.citation.n = n
    attribute_citations(e.citation for e in entries)
    return Timeline(query=query, since=filters.since, until=filters.until, entries=dated, undated=undated)


def _line(e: TimelineEntry) -> str:
    when = e.published.date().isoformat() if e.published else "undated"
    outlet = e.source or (e.outlets[0] if e.outlets else "unknown outlet")
    if e.citation.reported_by:
        outlet += f", citing {e.citation.reported_by}"
    more = f" (in {e.outlet_count} outlets)" if e.outlet_count > 1 else ""
    return f"{when} — {outlet}{more}: {e.citation.quote} [{e.citation.n}]"


def timeline_answer(question: str, timeline: Timeline) -> Answer:
    """The timeline as an ``Answer``: one line per story, oldest first, then the undated ones apart."""
    if not timeline.entries and not timeline.undated:
        return Answer(question=question, answer=NO_STORIES, abstained=True, mode="extractive")
    lines = [_line(e) for e in timeline.entries]
    if timeline.undated:
        lines += ["Undated:", *(_line(e) for e in timeline.undated)]
    citations = [e.citation for e in [*timeline.entries, *timeline.undated]]
    return Answer(question=question, answer="\n".join(lines), citations=citations, mode="extractive")
