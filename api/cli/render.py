"""The CLI's human-readable terminal output (rich): ingest reports, passages, answers with sources, articles."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape

from ingest.pipeline import IngestReport
from rag.answer.attribution import outlet_label, sources_summary
from rag.answer.sources import group_by_article
from rag.types import Answer, Article, Passage

console = Console(highlight=False, soft_wrap=True)


def _date(dt: datetime | None) -> str:
    return dt.date().isoformat() if dt else "undated"


def print_ingest_report(report: IngestReport) -> None:
    console.print(
        f"ingested {report.ingested}, updated {report.updated}, skipped as duplicate {report.skipped}, "
        f"grouped with a syndicated story {report.grouped}, "
        f"failed {len(report.failed)} ({report.chunks} chunks in {report.seconds:.1f} s)"
    )
    for failure in report.failed:
        console.print(f"  [red]failed[/red] {escape(failure.origin)}: {escape(failure.reason)}")


def print_passages(passages: list[Passage]) -> None:
    if not passages:
        console.print("no matching passages")
    for rank, p in enumerate(passages, start=1):
        console.print(
            f"[bold]{rank}. {escape(p.title or '(untitled)')}[/bold] — {escape(p.source or 'unknown outlet')}, "
            f"{_date(p.published)}  score {p.score:.4f}\n"
            f"   {escape(p.url or '')}  [dim]{p.article_id} {p.chunk_id}[/dim]"
        )
        console.print(f"   {escape(p.text[:400])}{'…' if len(p.text) > 400 else ''}\n")


def print_answer(answer: Answer) -> None:
    console.print(escape(answer.answer) + "\n")
    if answer.citations:
        summary = sources_summary(answer.citations)  # "3 articles, 1 independent source" when quotes relay
        console.print("[bold]Sources[/bold]" + (f" ({summary})" if summary else ""))
    for group in group_by_article(answer.citations):  # an article cited three times is listed once
        c = group.first
        console.print(
            f"{group.markers} {escape(c.title or '(untitled)')} — {escape(outlet_label(group.quotes))}, "
            f"{_date(c.published)}"
        )
        if c.url:
            console.print(f"    {escape(c.url)}")
        if c.also_in:
            console.print(f"    also ran in: {escape(', '.join(o.source or o.url or '?' for o in c.also_in))}")
        for quote in group.quotes:
            marker = f"[{quote.n}] " if len(group.quotes) > 1 else ""
            console.print(f"    {escape(marker)}[italic]“{escape(quote.quote)}”[/italic]")


def print_articles(rows: list[tuple[Article, int]]) -> None:
    if not rows:
        console.print("no articles indexed yet: newsqa ingest PATH")
    for article, chunks in rows:
        console.print(
            f"{article.id}  {_date(article.published)}  {escape(article.source or '-'):20.20}  "
            f"{escape(article.title or '(untitled)')}  [dim]{chunks} chunks; {', '.join(article.authors)}[/dim]"
        )
