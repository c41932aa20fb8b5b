"""Answer quality on the realistic store (the bundled sample + the whole RealTime QA corpus).

One run reports, with ONE correctness rule (``evals.metrics.correct``; multiple choice via
``evals.metrics.choice_correct``):

- RealTime QA (206 questions, asked as of their question date, choices not shown): correct, false abstention;
- the 62 same-topic unanswerable questions (``evals/data/realtimeqa_unanswerable.jsonl``): abstention;
- the sample set (32 questions): answerable correct, abstention on its unanswerables;
- two-part questions (``evals/data/two_part.jsonl``, when present): both parts right, each part right;
- the flagship question "Who benefits if Supermicro loses xAI?": Dell, Wistron and Inventec each in a cited
  verbatim quote;
- oracle: share of answerable questions where some candidate sentence alone would be judged correct (the
  ceiling for sentence choice given retrieval);
- ``ask`` latency warm (p50 / p95 over the RealTime QA questions).

Usage: ``python -m benchmarks.answer_quality [--store DIR] [--json out.json] [--label x]``.
The store is built with ``--build`` (sample + RealTime QA corpus) when it is empty.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from evals.metrics import contains, item_correct, percentile
from evals.sets import DATA, EvalItem, load_jsonl, realtimeqa_items
from ingest.engine import Engine
from rag.settings import Settings
from rag.text.dates import parse_date
from rag.types import Answer, Filters

ROOT = Path(__file__).resolve().parent.parent

SHARED = ROOT.parent / "shared" / "data"
DEFAULT_STORE = ROOT / ".newsqa-bench" / "realtimeqa"  # benchmarks._common builds it
FLAGSHIP = "Who benefits if Supermicro loses xAI?"
FLAGSHIP_NAMES = ("Dell", "Wistron", "Inventec")


def open_engine(store: Path, build: bool = False, scorer: str = "hybrid") -> Engine:
    engine = Engine(Settings(data_dir=store, answer_scorer=scorer))  # type: ignore[arg-type]
    if engine.store.counts()["articles"] == 0:
        if not build:
            sys.exit(f"empty store at {store}: pass --build to ingest the sample and the RealTime QA corpus")
        engine.ingest_paths([ROOT / "samples", SHARED / "realtimeqa" / "corpus.json"])
    engine.warm_up()
    sentences = getattr(engine, "sentences", None)
    if sentences is not None:  # a store ingested before the sentence index existed: embed its sentences once
        missing = [a.id for a, _ in engine.store.list_articles() if sentences.get_cached(a.id) is None]
        if missing:
            t = time.perf_counter()
            sentences.add(engine.store.get_article(i) for i in missing)
            print(
                f"embedded the sentences of {len(missing)} articles in {time.perf_counter() - t:.0f} s", file=sys.stderr
            )
    return engine


def item_filters(item: EvalItem) -> Filters:
    return Filters(as_of=parse_date(item.as_of, end_of_day=True)) if item.as_of else Filters()


def judge(item: EvalItem, answer: Answer) -> float | None:
    return item_correct(answer, item)


def oracle(engine: Engine, item: EvalItem, passages: list) -> bool:  # type: ignore[type-arg]
    """Some candidate sentence, quoted alone, would be judged correct."""
    rank = getattr(engine.answerer, "rank", None)  # the sentence answerer: every sentence of the articles
    for c in rank(item.question, passages)[0] if rank else engine.answerer.score(item.question, passages):
        if judge(item, Answer(question=item.question, answer=c.text)):
            return True
    return False


def part_right(part: dict[str, Any], answer: Answer) -> bool:
    return all(contains(s, answer.answer) for s in part.get("all_of", [])) and all(
        any(contains(a, answer.answer) for a in group) for group in part.get("any_of", [])
    )


class FoldModels:
    """The scorer fitted without each question's fold (``benchmarks/train_answer_scorer.py --fold-dir``), and
    the evidence checks fitted without it (``benchmarks/train_evidence_check.py``), when that has run."""

    def __init__(self, directory: Path) -> None:
        from rag.answer.evidence import EvidenceCheck
        from rag.answer.scorer import Scorer

        data = json.loads((directory / "assignment.json").read_text())
        self.fold_of: dict[str, int] = data["fold_of"]
        k = int(data["k"])
        self.models = {f: Scorer.from_json(json.loads((directory / f"fold{f}.json").read_text())) for f in range(k)}
        self.checks = {
            (variant, f): EvidenceCheck.from_json(json.loads(path.read_text()))
            for variant in ("hybrid", "learned")
            for f in range(k)
            if (path := directory / f"evidence-{variant}-fold{f}.json").exists()
        }
        self.shipped = None
        self.shipped_check = None

    def use_for(self, engine: Engine, item: EvalItem) -> None:
        key = str((item.model_extra or {}).get("related_id") or item.id)
        fold = self.fold_of.get(item.id, self.fold_of.get(key))
        if not hasattr(engine.answerer, "scorer"):  # the hand-weighted answerer: nothing fitted to swap
            return
        if self.shipped is None:
            self.shipped = engine.answerer.scorer
        # A question no fold trained on (e.g. the two-part set) is answered by the shipped model.
        engine.answerer.scorer = self.shipped if fold is None else self.models[fold]
        if self.checks and hasattr(engine.answerer, "evidence_check"):
            if self.shipped_check is None:
                self.shipped_check = engine.answerer.evidence_check
            variant = "hybrid" if engine.answerer.pick_by == "hand" else "learned"
            check = self.checks.get((variant, fold)) if fold is not None else None
            engine.answerer.evidence_check = check or self.shipped_check


FOLDS: FoldModels | None = None


def run_items(engine: Engine, items: list[EvalItem], with_oracle: bool = True) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if FOLDS is not None:
            FOLDS.use_for(engine, item)
        filters = item_filters(item)
        t = time.perf_counter()
        answer = engine.ask(item.question, filters=filters)
        ms = (time.perf_counter() - t) * 1000
        rec: dict[str, Any] = {
            "id": item.id,
            "question": item.question,
            "abstained": answer.abstained,
            "correct": judge(item, answer),
            "ms": ms,
            "answer": answer.answer,
            "unanswerable": item.unanswerable,
        }
        if with_oracle and not item.unanswerable:
            passages = engine.search(
                item.question, filters=filters.model_copy(update={"as_of": filters.as_of or answer.as_of})
            )
            rec["oracle"] = oracle(engine, item, passages)
        parts = (item.model_extra or {}).get("parts")
        if parts:
            rec["parts"] = [part_right(p, answer) for p in parts]
        out.append(rec)
    return out


def rate(values: list[Any]) -> float:
    return sum(bool(v) for v in values) / len(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write per-question records here")
    parser.add_argument("--label", default="current")
    parser.add_argument("--no-oracle", action="store_true")
    parser.add_argument(
        "--scorer", choices=["hybrid", "hand", "learned"], default="hybrid", help="NEWSQA_ANSWER_SCORER"
    )
    parser.add_argument(
        "--folds",
        type=Path,
        default=None,
        help="answer each question with the scorer fitted without its fold (held-out figures)",
    )
    args = parser.parse_args()
    global FOLDS
    FOLDS = FoldModels(args.folds) if args.folds else None

    engine = open_engine(args.store, args.build, args.scorer)
    rtqa = realtimeqa_items(SHARED)
    unans = load_jsonl(DATA / "realtimeqa_unanswerable.jsonl")
    sample = load_jsonl(DATA / "sample.jsonl")
    two_part_path = DATA / "two_part.jsonl"
    two_part = load_jsonl(two_part_path) if two_part_path.exists() else []

    oracle_on = not args.no_oracle
    r_rtqa = run_items(engine, rtqa, oracle_on)
    r_unans = run_items(engine, unans, False)
    r_sample = run_items(engine, sample, oracle_on)
    r_two = run_items(engine, two_part, False)

    if FOLDS is not None:  # the flagship is sample question s04's story: use s04's held-out model
        FOLDS.use_for(engine, next(i for i in sample if i.id == "s04"))
    flag = engine.ask(FLAGSHIP)
    quotes = " ".join(c.quote for c in flag.citations)
    flag_ok = not flag.abstained and all(contains(n, quotes) for n in FLAGSHIP_NAMES)

    answerable_sample = [r for r in r_sample if not r["unanswerable"]]
    unanswerable_sample = [r for r in r_sample if r["unanswerable"]]
    ms = [r["ms"] for r in r_rtqa + r_unans]
    figures = {
        "label": args.label,
        "rtqa_correct": rate([r["correct"] for r in r_rtqa]),
        "rtqa_false_abstention": rate([r["abstained"] for r in r_rtqa]),
        "rtqa_oracle": rate([r.get("oracle") for r in r_rtqa]) if oracle_on else None,
        "unanswerable_abstention": rate([r["abstained"] for r in r_unans]),
        "sample_answerable_correct": rate([r["correct"] for r in answerable_sample]),
        "sample_abstention": rate([r["abstained"] for r in unanswerable_sample]),
        "sample_false_abstention": rate([r["abstained"] for r in answerable_sample]),
        "sample_oracle": rate([r.get("oracle") for r in answerable_sample]) if oracle_on else None,
        "two_part_both": rate([all(r["parts"]) for r in r_two]) if r_two else None,
        "two_part_each": rate([p for r in r_two for p in r["parts"]]) if r_two else None,
        "flagship": flag_ok,
        "ask_p50_ms": percentile(ms, 50),
        "ask_p95_ms": percentile(ms, 95),
        "n": {"rtqa": len(r_rtqa), "unanswerable": len(r_unans), "sample": len(r_sample), "two_part": len(r_two)},
    }
    print(f"answer quality ({args.label}) on {args.store}")
    for key, value in figures.items():
        if isinstance(value, float):
            print(f"  {key:28s} {value:.3f}")
        else:
            print(f"  {key:28s} {value}")
    print(f"  flagship answer: {flag.answer[:400]}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "figures": figures,
                    "rtqa": r_rtqa,
                    "unanswerable": r_unans,
                    "sample": r_sample,
                    "two_part": r_two,
                    "flagship": flag.answer,
                },
                indent=1,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
