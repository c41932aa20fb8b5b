"""Eval sets: one JSONL question format, the loaders that produce it, and the corpus each set needs.

Format of one line (see docs/evals.md)::

    {id, question, type, as_of?, all_of?, any_of?, gold_urls?, gold_titles?, gold_article_ids?,
     unanswerable?, choices?, answer_index?}

Loaders read ``../shared/data`` (``Settings.eval_data_dir``) in place; nothing of it is copied into the repo.
A set carries its corpus either as paths (files/folders the normal ingest reads) or as a loader of raw
documents (MultiHop-RAG, whose article bodies are not distributed; see :func:`multihop_set`).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingest.readers import RawDocument
from rag.errors import InputError
from rag.settings import Settings
from rag.text.ids import article_id

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SAMPLE_CORPUS = ROOT / "samples" / "supermicro_xai_dell.txt"
BUILTIN = ("sample", "realtimeqa", "multihop")


def default_data_dir(settings: Settings) -> Path:
    """Where the shared evaluation data lives, for evals, benchmarks and tests alike: ``NEWSQA_EVAL_DATA_DIR``,
    or ``../shared/data`` beside the checkout."""
    if settings.eval_data_dir is not None:
        return settings.eval_data_dir
    return ROOT.parent / "shared" / "data"


class EvalItem(BaseModel):
    """One question of an eval set. Unknown keys are kept (e.g. ``related_id``) but ignored by metrics."""

    model_config = ConfigDict(extra="allow")

    id: str
    question: str = Field(min_length=1)
    type: str = "default"
    as_of: str | None = Field(None, description="Ask as of this date (ISO); later articles are invisible.")
    all_of: list[str] = Field(default_factory=list, description="Every string must appear in the answer.")
    any_of: list[list[str]] = Field(default_factory=list, description="One alternative of each group must appear.")
    gold_urls: list[str] = Field(default_factory=list)
    gold_titles: list[str] = Field(default_factory=list)
    gold_article_ids: list[str] = Field(default_factory=list)
    unanswerable: bool = False
    choices: list[str] | None = None
    answer_index: int | None = None
    gold_facts: list[str] = Field(default_factory=list, description="MultiHop-RAG evidence sentences.")
    context: list[dict[str, Any]] = Field(
        default_factory=list, description="Fixed context passages ({title, source, url, text}) for gold-context runs."
    )

    @model_validator(mode="after")
    def _check(self) -> EvalItem:
        if self.choices is not None and (self.answer_index is None or not 0 <= self.answer_index < len(self.choices)):
            raise ValueError("answer_index must index into choices")
        if self.unanswerable and (self.all_of or self.any_of or self.choices):
            raise ValueError("an unanswerable question has no all_of/any_of/choices")
        return self

    @property
    def answerable(self) -> bool:
        return not self.unanswerable

    def gold_ids(self) -> set[str]:
        """Article ids (as our ingest assigns them) of the gold articles: given ids plus ids of gold URLs."""
        return set(self.gold_article_ids) | {article_id(u, None, None, "") for u in self.gold_urls}


DocsLoader = Callable[[], list[RawDocument]]


@dataclass
class EvalSet:
    """Questions plus the corpus they are asked over.

    ``corpus_paths`` are ingested like ``newsqa ingest``; ``corpus_docs`` builds raw documents in memory.
    ``settings_overrides`` are applied to the throwaway store's settings (e.g. shorter minimum length).
    """

    name: str
    items: list[EvalItem]
    corpus_paths: list[Path] = field(default_factory=list)
    corpus_docs: DocsLoader | None = None
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    def limit(self, n: int | None) -> EvalSet:
        """The first ``n`` items, keeping every type represented when possible (round-robin by type)."""
        if not n or n >= len(self.items):
            return self
        by_type: OrderedDict[str, list[EvalItem]] = OrderedDict()
        for item in self.items:
            by_type.setdefault(item.type, []).append(item)
        picked: list[EvalItem] = []
        while len(picked) < n:
            for group in by_type.values():
                if group and len(picked) < n:
                    picked.append(group.pop(0))
        order = {item.id: i for i, item in enumerate(self.items)}
        picked.sort(key=lambda it: order[it.id])
        return EvalSet(self.name, picked, self.corpus_paths, self.corpus_docs, self.settings_overrides, self.notes)

    def corpus_key(self, *settings_parts: object) -> str:
        """Content hash of the corpus (file bytes or loaded documents) plus the ingest settings given."""
        h = hashlib.sha256()
        for part in settings_parts:
            h.update(repr(part).encode())
        for path in self.corpus_paths:
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            for f in files:
                h.update(f.name.encode())
                h.update(f.read_bytes())
        if self.corpus_docs is not None:
            for doc in self.corpus_docs():
                h.update(json.dumps([doc.url, doc.title, doc.source, str(doc.published), doc.text]).encode())
        h.update(repr(sorted(self.settings_overrides.items())).encode())
        return h.hexdigest()[:16]


# ---- JSONL --------------------------------------------------------------------------------------
def load_jsonl(path: Path) -> list[EvalItem]:
    """Items of a JSONL eval file; a bad line raises InputError naming the file, line and field."""
    if not path.is_file():
        raise InputError(f"eval set not found: {path} (give a JSONL file or one of {', '.join(BUILTIN)})")
    items: list[EvalItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate_json(line)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(map(str, err["loc"])) or "line"
            raise InputError(f"{path}:{lineno}: {where}: {err['msg']}") from None
        if item.id in seen:
            raise InputError(f"{path}:{lineno}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise InputError(f"{path}: no questions")
    return items


def jsonl_set(path: Path, corpus: list[Path]) -> EvalSet:
    """A user's JSONL set with the files/folders to ingest (``--corpus``)."""
    for c in corpus:
        if not c.exists():
            raise InputError(f"corpus path not found: {c}")
    return EvalSet(path.stem, load_jsonl(path), corpus_paths=list(corpus))


# ---- built-in sets ------------------------------------------------------------------------------
def sample_set() -> EvalSet:
    """The project's own questions over the bundled sample article (answerable and unanswerable)."""
    return EvalSet("sample", load_jsonl(DATA / "sample.jsonl"), corpus_paths=[SAMPLE_CORPUS])


def _require(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"eval data not found: {path} (set NEWSQA_EVAL_DATA_DIR to the shared data folder)")
    return path


def realtimeqa_items(data_dir: Path) -> list[EvalItem]:
    """RealTime QA quiz questions: the correct choice is the answer, gold articles by ``gold_urls``.

    ``gold_doc_ids`` name corpus records; our ingest ids articles by canonical URL, so the gold ids are
    derived from the URLs of those records (and ``gold_urls``), exactly as ``rag.text.ids.article_id`` does.
    """
    root = _require(data_dir / "realtimeqa")
    corpus = json.loads((root / "corpus.json").read_text(encoding="utf-8"))
    url_of = {d["doc_id"]: d["url"] for d in corpus if d.get("url")}
    items = []
    for q in json.loads((root / "questions.json").read_text(encoding="utf-8")):
        index = int(q["answer"][0])
        by_doc = [url_of[d] for d in q.get("gold_doc_ids", []) if d in url_of]
        urls = list(dict.fromkeys([*q.get("gold_urls", []), *by_doc]))
        items.append(
            EvalItem(
                id=q["question_id"],
                question=q["question_sentence"],
                type="multiple_choice",
                as_of=q["question_date"].replace("/", "-"),
                gold_urls=urls,
                choices=q["choices"],
                answer_index=index,
                all_of=[q["choices"][index]],
            )
        )
    return items


def realtimeqa_set(data_dir: Path, unanswerable: bool = True) -> EvalSet:
    """RealTime QA (206 questions) plus the project's 62 unanswerable questions on the same stories."""
    items = realtimeqa_items(data_dir)
    if unanswerable:
        items += load_jsonl(DATA / "realtimeqa_unanswerable.jsonl")
    return EvalSet("realtimeqa", items, corpus_paths=[data_dir / "realtimeqa" / "corpus.json"])


def _fact_documents(ground_truth: dict[str, Any]) -> list[RawDocument]:
    """One mini-article per evidence URL: its title and metadata, and the gold facts quoted from it."""
    by_url: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for entry in ground_truth.values():
        for ev in entry.get("evidence_list", []):
            doc = by_url.setdefault(ev["url"], {**ev, "facts": []})
            if ev["fact"] not in doc["facts"]:
                doc["facts"].append(ev["fact"])
    return [
        RawDocument(
            text="\n\n".join(d["facts"]),
            origin=f"multihop:{url}",
            title=d.get("title"),
            source=d.get("source"),
            authors=[d["author"]] if d.get("author") else [],
            published=d.get("published_at"),
            url=url,
        )
        for url, d in by_url.items()
    ]


def multihop_set(data_dir: Path) -> EvalSet:
    """MultiHop-RAG (500-query sample): ``null_query`` questions are unanswerable, answers are short.

    The article bodies are not distributed with this sample, so the only honest corpus is the gold
    evidence itself: every ``fact`` sentence, grouped by its article URL into a mini-article (title,
    source, date as given). Retrieval over it is far easier than the paper's (no non-gold text at all), so
    its retrieval numbers are not comparable to the paper's; answer correctness with the gold facts as the
    only context (``context``) is the comparable number (GPT-4: 0.89 in the paper).
    """
    root = _require(data_dir / "multihop")
    queries = json.loads((root / "queries.json").read_text(encoding="utf-8"))["queries"]
    truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
    items = []
    for q in queries:
        gt = truth[q["id"]]
        null = q["question_type"] == "null_query"
        evidence = gt.get("evidence_list", [])
        items.append(
            EvalItem(
                id=f"mh{q['id']}",
                question=q["question"],
                type=q["question_type"],
                unanswerable=null,
                all_of=[] if null else [gt["answer"].strip().rstrip(".")],
                gold_urls=list(dict.fromkeys(e["url"] for e in evidence)),
                gold_titles=list(dict.fromkeys(e["title"] for e in evidence)),
                gold_facts=[e["fact"] for e in evidence],
                context=[
                    {
                        "title": e["title"],
                        "source": e["source"],
                        "url": e["url"],
                        "text": e["fact"],
                        "published": e.get("published_at"),
                    }
                    for e in evidence
                ],
            )
        )
    return EvalSet(
        "multihop",
        items,
        corpus_docs=lambda: _fact_documents(truth),
        settings_overrides={"min_article_chars": 20},
        notes=multihop_set.__doc__ or "",
    )


def resolve_set(name: str, data_dir: Path, corpus: list[Path] | None = None) -> EvalSet:
    """A built-in set by name, or a JSONL file (whose corpus comes from ``corpus``)."""
    if name == "sample":
        return sample_set()
    if name == "realtimeqa":
        return realtimeqa_set(data_dir)
    if name == "multihop":
        return multihop_set(data_dir)
    path = Path(name)
    if path.suffix.lower() not in {".jsonl", ".ndjson"} and not path.is_file():
        raise InputError(f"unknown eval set {name!r}: use {', '.join(BUILTIN)} or a JSONL file")
    return jsonl_set(path, corpus or [])
