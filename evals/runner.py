"""Run an eval set through the same Engine the product uses and collect per-question records.

The set's corpus is ingested into a throwaway store under ``settings.data_dir/evals/<set>-<content hash>``
(the hash covers the corpus bytes and the ingest settings), so a second run reuses the vectors instead of
re-embedding. ``--data-dir`` evaluates against an existing store instead (no ingest).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals import metrics as m
from evals.judge import Judge, LexicalEmbeddingJudge
from evals.records import Gold, QuestionRecord
from evals.sets import EvalItem, EvalSet
from ingest.engine import Engine
from ingest.readers import Failure, RawDocument
from rag.embedders import Embedder
from rag.errors import NotFound
from rag.settings import Settings
from rag.text.dates import parse_date
from rag.text.ids import article_id, canonical_url
from rag.types import Answer, Article, Citation, Filters, Passage

log = logging.getLogger(__name__)
RETRIEVAL_K = 10
INGEST_KEYS = ("embed_model", "chunk_tokens", "chunk_overlap_tokens", "min_article_chars", "max_article_chars")
MARKER_FILE = "eval-ingest.json"


def store_dir(settings: Settings, evalset: EvalSet) -> Path:
    """The cache directory of ``evalset``'s corpus for these ingest settings."""
    merged = settings.model_copy(update=evalset.settings_overrides)
    key = evalset.corpus_key(*(getattr(merged, k) for k in INGEST_KEYS))
    return settings.data_dir / "evals" / f"{evalset.name}-{key}"


def prepare_engine(
    settings: Settings,
    evalset: EvalSet,
    embedder: Embedder | None = None,
    existing_store: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Engine:
    """An Engine over the set's corpus: the cached throwaway store (ingested on first use) or ``existing_store``."""
    if existing_store is not None:
        return Engine(settings.model_copy(update={"data_dir": existing_store}), embedder=embedder)
    target = store_dir(settings, evalset)
    engine = Engine(settings.model_copy(update={**evalset.settings_overrides, "data_dir": target}), embedder=embedder)
    marker = target / MARKER_FILE
    if marker.exists():
        return engine
    target.mkdir(parents=True, exist_ok=True)
    docs: list[RawDocument | Failure] = (
        list(evalset.corpus_docs()) if evalset.corpus_docs else engine.ingestor.read(evalset.corpus_paths)
    )
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("ingest", done, len(docs))

    report = engine.ingest_documents(docs, progress=tick)
    if report.failed:
        log.warning("eval corpus: %d document(s) rejected, e.g. %s", len(report.failed), report.failed[0].reason)
    # Written last: a killed ingest leaves no marker and the next run resumes (ingest skips committed articles).
    marker.write_text(
        json.dumps(
            {**report.as_dict(), "article_ids": len(report.article_ids), "finished": datetime.now(UTC).isoformat()}
        )
    )
    return engine


def context_passages(item: EvalItem) -> tuple[list[Passage], dict[str, Article]]:
    """The item's fixed context as passages, one per entry, with offsets into per-URL articles (entries of one
    URL are joined with blank lines, like the MultiHop-RAG mini-articles)."""
    texts: dict[str, list[dict[str, Any]]] = {}
    for i, ctx in enumerate(item.context):
        texts.setdefault(ctx.get("url") or f"context:{item.id}:{i}", []).append(ctx)
    passages: list[Passage] = []
    articles: dict[str, Article] = {}
    for url, entries in texts.items():
        aid = article_id(url, None, None, "")
        body, offset = [], 0
        for j, ctx in enumerate(entries):
            text = ctx["text"]
            published = parse_date(ctx.get("published")) if ctx.get("published") else None
            passages.append(
                Passage(
                    chunk_id=f"{aid}:ctx{j}",
                    article_id=aid,
                    index=j,
                    text=text,
                    start=offset,
                    end=offset + len(text),
                    title=ctx.get("title"),
                    source=ctx.get("source"),
                    published=published,
                    url=url,
                    score=1.0,
                )
            )
            body.append(text)
            offset += len(text) + 2
        articles[aid] = Article(
            id=aid, title=entries[0].get("title"), url=url, text="\n\n".join(body), ingested_at=datetime.now(UTC)
        )
    return passages, articles


def title_key(title: str) -> str:
    """Titles compare case-insensitively, with typographic quotes folded and whitespace collapsed."""
    return " ".join(
        title.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"').split()
    ).casefold()


@dataclass
class RunOptions:
    gold_context: bool = False  # answer from the item's fixed context instead of retrieval
    llm_judges: bool = False  # add llama-index evaluators (needs an LLM configured)
    progress: Callable[[str, int, int], None] | None = None


@dataclass
class RunResult:
    set_name: str
    questions: list[QuestionRecord]
    judge: str
    store: str
    started: str
    seconds: float
    options: dict[str, Any] = field(default_factory=dict)
    notes: str = ""


class Runner:
    """Asks every question of a set through ``engine`` and scores it."""

    def __init__(self, engine: Engine, judge: Judge | None = None, options: RunOptions | None = None) -> None:
        self.engine = engine
        self.judge = judge or LexicalEmbeddingJudge(engine.embedder)
        self.options = options or RunOptions()
        self._articles: dict[str, Article | None] = {}
        self._llm_judges = None
        self._titles: dict[str, set[str]] | None = None
        self._urls: dict[str, set[str]] | None = None
        if self.options.llm_judges:
            from evals.llm_judges import LlamaIndexJudges

            self._llm_judges = LlamaIndexJudges.from_settings(engine.settings)

    def article(self, aid: str) -> Article | None:
        if aid not in self._articles:
            try:
                self._articles[aid] = self.engine.store.get_article(aid)
            except NotFound:
                self._articles[aid] = None
        return self._articles[aid]

    def gold_ids(self, item: EvalItem) -> set[str]:
        """Gold article ids: given ids, ids of gold URLs, and the stored articles whose URL (canonicalised) is a
        gold URL or whose title is a gold title. Matching stored URLs keeps an existing store built by an older
        id scheme (``--data-dir``) comparable."""
        ids = item.gold_ids()
        if self.options.gold_context or not (item.gold_titles or item.gold_urls):
            return ids
        if self._titles is None or self._urls is None:
            self._titles, self._urls = {}, {}
            for article, _ in self.engine.store.list_articles():
                self._titles.setdefault(title_key(article.title or ""), set()).add(article.id)
                if article.url:
                    self._urls.setdefault(canonical_url(article.url), set()).add(article.id)
        for title in item.gold_titles:
            ids |= self._titles.get(title_key(title), set())
        for url in item.gold_urls:
            ids |= self._urls.get(canonical_url(url), set())
        return ids

    def run(self, evalset: EvalSet) -> RunResult:
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        if not self.options.gold_context:
            self.engine.warm_up()
        out = []
        for i, item in enumerate(evalset.items):
            out.append(self.ask(item))
            if self.options.progress:
                self.options.progress("ask", i + 1, len(evalset.items))
        return RunResult(
            set_name=evalset.name,
            questions=out,
            judge=self.judge.name,
            store=str(self.engine.settings.data_dir),
            started=started.isoformat(),
            seconds=round(time.perf_counter() - t0, 2),
            options={
                "gold_context": self.options.gold_context,
                "llm_judges": self.options.llm_judges,
                "answerer": self.engine.settings.llm,
                "top_k": self.engine.settings.top_k,
            },
            notes=evalset.notes,
        )

    def ask(self, item: EvalItem) -> QuestionRecord:
        """Ask one question (timed), retrieve for the retrieval metrics, and score everything."""
        filters = Filters(as_of=parse_date(item.as_of, end_of_day=True)) if item.as_of else Filters()
        ctx_articles: dict[str, Article] = {}
        t0 = time.perf_counter()
        if self.options.gold_context:
            sources, ctx_articles = context_passages(item)
            answer = self.engine.answerer.answer(item.question, sources)
        else:
            answered = self.engine.answer(item.question, filters)
            sources, answer = answered.passages, answered.answer
        latency = (time.perf_counter() - t0) * 1000
        if self.options.gold_context:
            ranked_articles: list[str] = []
            ranked_chunks: list[Passage] = []
        else:
            ranked_articles = [
                p.article_id
                for p in self.engine.search(item.question, k=RETRIEVAL_K, filters=filters, group_by_article=True)
            ]
            ranked_chunks = self.engine.search(item.question, k=RETRIEVAL_K, filters=filters)
        get_article = (lambda aid: ctx_articles.get(aid)) if self.options.gold_context else self.article
        gold = self.gold_ids(item)
        scores = self.score(item, gold, answer, sources, ranked_articles, ranked_chunks, get_article)
        if self._llm_judges is not None and not answer.abstained:
            scores.update(self._llm_judges.evaluate(item, answer, sources))
        return QuestionRecord(
            id=item.id,
            type=item.type,
            question=item.question,
            as_of=item.as_of,
            unanswerable=item.unanswerable,
            answer=answer.answer,
            abstained=answer.abstained,
            citations=answer.citations,
            retrieved_article_ids=ranked_articles,
            retrieved_chunk_ids=[p.chunk_id for p in ranked_chunks],
            gold=Gold(
                article_ids=sorted(gold),
                titles=item.gold_titles,
                all_of=item.all_of,
                any_of=item.any_of,
                choices=item.choices,
                answer_index=item.answer_index,
            ),
            latency_ms=round(latency, 2),
            metrics=scores,
        )

    def score(
        self,
        item: EvalItem,
        gold: set[str],
        answer: Answer,
        sources: list[Passage],
        ranked_articles: list[str],
        ranked_chunks: list[Passage],
        get_article: Callable[[str], Article | None],
    ) -> dict[str, float | None]:
        by_chunk = {p.chunk_id: p.text for p in sources}

        def passage_of(citation: Citation) -> str | None:
            if citation.part != "text":  # a headline or byline: the quote with the article's own metadata
                return "\n".join(dict.fromkeys(x for x in (citation.title, citation.quote, citation.source) if x))
            if citation.chunk_id in by_chunk:
                return by_chunk[citation.chunk_id]
            got = self.engine.store.get_chunks([citation.chunk_id]) if not self.options.gold_context else []
            return got[0].text if got else None

        alce = m.alce_citation_scores(answer, passage_of, self.judge)
        out: dict[str, float | None] = {
            "correct": m.item_correct(answer, item),
            "abstained": float(answer.abstained),
            "citations_resolve": m.markers_resolve(answer),
            "quotes_verbatim": m.quotes_verbatim(answer, get_article),
            "citation_recall": alce.recall if alce else None,
            "citation_precision": alce.precision if alce else None,
        }
        if not self.options.gold_context:
            for k in (1, 5, 10):
                out[f"hits@{k}"] = m.hits_at_k(ranked_articles, gold, k)
            out["mrr@10"] = m.mrr_at_k(ranked_articles, gold, 10)
            out["recall@5"] = m.recall_at_k(ranked_articles, gold, 5)
            out["recall@10"] = m.recall_at_k(ranked_articles, gold, 10)
            if item.gold_facts:
                texts = [p.text for p in ranked_chunks]
                out["mhrag_official_hits@4"] = m.multihop_official_hit(texts, item.gold_facts, 4)
                out["mhrag_official_hits@10"] = m.multihop_official_hit(texts, item.gold_facts, 10)
        return out
