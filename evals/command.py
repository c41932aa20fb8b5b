"""``newsqa eval``: run an eval set, print a summary, write reports, compare with a baseline, gate."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag.errors import InputError

HEADLINE = (
    "correct",
    "correct_answerable",
    "abstention_precision",
    "abstention_recall",
    "false_abstention_rate",
    "hits@1",
    "hits@5",
    "hits@10",
    "mrr@10",
    "recall@10",
    "mhrag_official_hits@4",
    "mhrag_official_hits@10",
    "citations_resolve",
    "quotes_verbatim",
    "citation_precision",
    "citation_recall",
    "latency_p50_ms",
    "latency_p95_ms",
)


def add_eval_parser(sub: Any) -> None:
    """Register the ``eval`` subcommand on the ``newsqa`` parser."""
    p = sub.add_parser("eval", help="evaluate answers against an eval set (sample, realtimeqa, multihop or a JSONL)")
    p.add_argument("set", metavar="SET", help="sample | realtimeqa | multihop | PATH to a JSONL eval set")
    p.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="PATH",
        help="files or folders to ingest for a JSONL set (repeatable)",
    )
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only N questions (every type kept)")
    p.add_argument(
        "--report", metavar="DIR", help="write report.json/.md/.html here (default: DATA_DIR/eval-reports/SET)"
    )
    p.add_argument("--baseline", metavar="FILE", help="compare with this baseline (a report.json or baseline file)")
    p.add_argument("--gate", action="store_true", help="exit 1 when a metric regressed beyond the baseline tolerance")
    p.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 when METRIC (a report.json summary key) misses VALUE (repeatable)",
    )
    p.add_argument(
        "--data-dir",
        dest="eval_store",
        metavar="DIR",
        help="evaluate against this existing store instead of ingesting the set's corpus",
    )
    p.add_argument(
        "--gold-context",
        action="store_true",
        help="answer from each question's gold evidence only (sets with context, e.g. multihop)",
    )
    p.add_argument("--llm-judges", action="store_true", help="add llama-index LLM evaluators (needs NEWSQA_LLM)")
    p.add_argument("--write-baseline", metavar="FILE", help="also write a baseline file from this run")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from evals import report as rp
    from evals.runner import Runner, RunOptions, prepare_engine
    from evals.sets import default_data_dir, resolve_set

    settings = args.settings
    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be at least 1")
    if args.gate and not args.baseline:
        raise InputError("--gate needs --baseline FILE")
    thresholds = rp.parse_thresholds(args.fail_under)
    baseline = rp.load_baseline(Path(args.baseline)) if args.baseline else None
    evalset = resolve_set(args.set, default_data_dir(settings), [Path(c) for c in args.corpus]).limit(args.limit)
    if args.gold_context and not any(item.context for item in evalset.items):
        raise InputError(f"--gold-context: the {evalset.name!r} set has no context for its questions")
    store = Path(args.eval_store) if args.eval_store else None
    if store is not None and not store.is_dir():
        raise InputError(f"--data-dir: no store at {store}")
    if store is None and not evalset.corpus_paths and evalset.corpus_docs is None:
        raise InputError(
            f"{args.set}: give the articles to ask over with --corpus PATH, or an existing store with --data-dir DIR"
        )

    quiet = args.json or not sys.stderr.isatty()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=quiet,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task("ingesting corpus" if stage == "ingest" else "asking", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        # Gold-context runs use the set's store too: the answerer's term weights (idf) come from its corpus.
        engine = prepare_engine(settings, evalset, existing_store=store, progress=progress)
        options = RunOptions(gold_context=args.gold_context, llm_judges=args.llm_judges, progress=progress)
        result = Runner(engine, options=options).run(evalset)

    report = rp.build_report(result)
    diffs = rp.compare(report["summary"], baseline) if baseline else None
    flips = rp.flipped(result.questions, baseline) if baseline else None
    out_dir = Path(args.report) if args.report else settings.data_dir / "eval-reports" / evalset.name
    paths = rp.write_reports(report, out_dir, diffs, flips)
    if args.write_baseline:
        target = Path(args.write_baseline)
        target.parent.mkdir(parents=True, exist_ok=True)
        tolerances = baseline.get("tolerances", {}) if baseline else {}  # refreshing keeps the tolerances
        note = baseline.get("note", "") if baseline else ""
        target.write_text(json.dumps(rp.baseline_from(report, tolerances, note), indent=1, ensure_ascii=False) + "\n")

    if args.json:
        sys.stdout.write(
            json.dumps(
                {"summary": report["summary"], "per_type": report["per_type"], "reports": [str(p) for p in paths]}
            )
            + "\n"
        )
    else:
        print_summary(report, diffs, flips)
        print(f"reports: {', '.join(str(p) for p in paths)}")
    failures = rp.missed_thresholds(report["summary"], thresholds)
    if args.gate and diffs:
        failures += [
            f"{d.metric} regressed: {d.baseline} -> {d.current} (tolerance {d.tolerance})" for d in diffs if d.regressed
        ]
    for line in failures:
        print(f"error: {line}", file=sys.stderr)
    return 1 if failures else 0


def print_summary(report: dict[str, Any], diffs: list[Any] | None, flips: list[dict[str, Any]] | None) -> None:
    """The headline metrics and the per-type table in the terminal."""
    from rich.console import Console
    from rich.table import Table

    from evals.report import PER_TYPE_COLUMNS, _fmt

    console = Console()
    s = report["summary"]
    by_metric = {d.metric: d for d in diffs or []}
    table = Table(
        title=f"{report['set']}: {s['n']} questions ({s['n_answerable']} answerable, "
        f"{s['n_unanswerable']} unanswerable)"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    if diffs is not None:
        table.add_column("baseline", justify="right")
        table.add_column("delta", justify="right")
    for k in HEADLINE:
        if k in s and s[k] is not None:
            row = [k, _fmt(s[k])]
            if diffs is not None:
                d = by_metric.get(k)
                row += [
                    _fmt(d.baseline) if d else "–",
                    (("[red]" if d.regressed else "") + _fmt(d.delta)) if d and d.delta is not None else "–",
                ]
            table.add_row(*row)
    console.print(table)
    per_type = Table(title="by question type")
    cols = [c for c in PER_TYPE_COLUMNS if any(c in t for t in report["per_type"].values())]
    for c in ["type", *cols]:
        per_type.add_column(c, justify="left" if c == "type" else "right")
    for t, v in report["per_type"].items():
        per_type.add_row(t, *(_fmt(v.get(c)) for c in cols))
    console.print(per_type)
    console.print(f"citation support judge: {report['judge']}")
    if flips:
        console.print(
            f"{len(flips)} question(s) flipped since the baseline: "
            + ", ".join(f"{f['id']} {f['was']}->{f['now']}" for f in flips[:20])
        )
