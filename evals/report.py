"""Eval reports (report.json, report.md, report.html), baseline diffs and the regression gate.

Slightly over our usual ~300 lines: the three formats render the same records, and the gate reads the same
summary, so they stay together.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from evals import metrics as m
from evals.records import QuestionRecord
from evals.runner import RunResult
from rag.errors import InputError

LOWER_IS_BETTER = {"false_abstention_rate", "latency_p50_ms", "latency_p95_ms"}
DEFAULT_TOLERANCE = 0.05  # absolute, for rates in [0, 1]; latency is not gated unless a tolerance is given
PER_TYPE_COLUMNS = (
    "n",
    "correct",
    "abstained",
    "hits@10",
    "mrr@10",
    "citation_precision",
    "citation_recall",
    "latency_p50_ms",
)


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def summarize(questions: list[QuestionRecord]) -> dict[str, Any]:
    """Set-level metrics: the mean of each per-question metric where it applies, the abstention metrics
    (precision, recall, false-abstention rate), ``correct_answerable`` (mean correctness on answerable
    questions) and latency p50/p95 in ms."""
    keys = list(dict.fromkeys(k for q in questions for k in q.metrics))
    out: dict[str, Any] = {"n": len(questions)}
    for k in keys:
        out[k] = _round(m.mean([q.metric(k) for q in questions]))
    counts = m.AbstentionCounts()
    for q in questions:
        counts.add(q.unanswerable, q.abstained)
    out["n_answerable"], out["n_unanswerable"] = counts.answerable, counts.unanswerable
    out["correct_answerable"] = _round(m.mean([q.metric("correct") for q in questions if not q.unanswerable]))
    out["abstention_precision"] = _round(m.abstention_precision(counts))
    out["abstention_recall"] = _round(m.abstention_recall(counts))
    out["false_abstention_rate"] = _round(m.false_abstention_rate(counts))
    latencies = [q.latency_ms for q in questions]
    out["latency_p50_ms"] = _round(m.percentile(latencies, 50))
    out["latency_p95_ms"] = _round(m.percentile(latencies, 95))
    return out


def per_type(questions: list[QuestionRecord]) -> dict[str, dict[str, Any]]:
    """The summary restricted to each question type."""
    groups: dict[str, list[QuestionRecord]] = defaultdict(list)
    for q in questions:
        groups[q.type].append(q)
    return {t: summarize(qs) for t, qs in sorted(groups.items())}


def worst(questions: list[QuestionRecord], n: int = 10) -> list[QuestionRecord]:
    """The ``n`` worst questions: incorrect first, then by lowest MRR@10 and citation recall."""

    def key(q: QuestionRecord) -> tuple[float, ...]:
        return tuple(1.0 if (v := q.metric(k)) is None else v for k in ("correct", "mrr@10", "citation_recall"))

    return sorted(questions, key=key)[:n]


def records(report: dict[str, Any]) -> list[QuestionRecord]:
    """A report's questions as typed records (report.json holds them in JSON form)."""
    return [QuestionRecord.model_validate(q) for q in report["questions"]]


def build_report(result: RunResult) -> dict[str, Any]:
    """The whole report as one JSON-able dict (what report.json holds; each of its ``questions`` is a
    :class:`QuestionRecord` in JSON form)."""
    return {
        "set": result.set_name,
        "started": result.started,
        "seconds": result.seconds,
        "store": result.store,
        "judge": result.judge,
        "options": result.options,
        "notes": result.notes,
        "summary": summarize(result.questions),
        "per_type": per_type(result.questions),
        "questions": [q.model_dump(mode="json") for q in result.questions],
    }


# ---- baseline and gate ----------------------------------------------------------------------------
@dataclass
class Diff:
    metric: str
    baseline: float | None
    current: float | None
    delta: float | None
    tolerance: float | None
    regressed: bool


def load_baseline(path: Path) -> dict[str, Any]:
    """A baseline: a report.json, or a file ``{"summary": {...}, "questions": {id: correct}, "tolerances": {...}}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"baseline not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"baseline {path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict) or not isinstance(data.get("summary"), dict):
        raise InputError(f"baseline {path} has no 'summary' object (use a report.json or a baseline file)")
    return data


def compare(summary: dict[str, Any], baseline: dict[str, Any]) -> list[Diff]:
    """Every numeric metric of either summary, with its delta; a metric regresses when it moved in the bad
    direction by more than its tolerance (``baseline["tolerances"]``, default 0.05 absolute; latencies and the
    abstention rate only when the baseline gives a tolerance for them)."""
    base = baseline["summary"]
    tolerances = baseline.get("tolerances", {})
    diffs = []
    for k in dict.fromkeys([*base, *summary]):
        b, c = base.get(k), summary.get(k)
        if k.startswith("n") and k in ("n", "n_answerable", "n_unanswerable"):
            continue
        if not isinstance(b, int | float) and not isinstance(c, int | float):
            continue
        informational = k.startswith("latency") or k == "abstained"  # not better or worse by themselves
        tol = tolerances.get(k, None if informational else DEFAULT_TOLERANCE)
        delta = None if b is None or c is None else round(c - b, 4)
        worse = delta is not None and (delta > 0 if k in LOWER_IS_BETTER else delta < 0)
        regressed = bool(tol is not None and worse and delta is not None and abs(delta) > tol)
        if tol is not None and b is not None and c is None:
            regressed = True  # a metric that disappeared cannot be trusted to be as good
        diffs.append(Diff(k, b, c, delta, tol, regressed))
    return diffs


def flipped(questions: list[QuestionRecord], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Questions whose correctness changed since the baseline: ``{id, question, was, now}``."""
    before = baseline.get("questions") or {}
    if isinstance(before, list):  # a full report.json
        before = {q["id"]: q["metrics"].get("correct") for q in before}
    out = []
    for q in questions:
        was, now = before.get(q.id), q.metric("correct")
        if was is not None and now is not None and was != now:
            out.append({"id": q.id, "question": q.question, "was": was, "now": now})
    return out


def parse_thresholds(specs: list[str]) -> dict[str, float]:
    """``["correct=0.8", "hits@10=0.9"]`` -> ``{"correct": 0.8, ...}``; bad specs raise InputError."""
    out = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise InputError(f"--fail-under expects METRIC=VALUE (e.g. correct=0.8), got {spec!r}")
    return out


def missed_thresholds(summary: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """One message per missed ``--fail-under`` threshold (lower-is-better metrics must not exceed it)."""
    missed = []
    for name, limit in thresholds.items():
        if name not in summary:
            raise InputError(f"unknown metric {name!r} for --fail-under; known: {', '.join(sorted(summary))}")
        value = summary[name]
        bad = value is None or (value > limit if name in LOWER_IS_BETTER else value < limit)
        if bad:
            word = "above" if name in LOWER_IS_BETTER else "under"
            missed.append(f"{name} = {value} is {word} {limit}")
    return missed


def baseline_from(report: dict[str, Any], tolerances: dict[str, float], note: str = "") -> dict[str, Any]:
    """A compact baseline file from a report: its summary, per-question correctness, the tolerances."""
    return {
        "set": report["set"],
        "created": report["started"],
        "judge": report["judge"],
        "options": report["options"],
        "summary": report["summary"],
        "tolerances": tolerances,
        "note": note,
        "questions": {q["id"]: q["metrics"].get("correct") for q in report["questions"]},
    }


# ---- writers --------------------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


def _md_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c).replace("|", "\\|").replace("\n", " ") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def to_markdown(
    report: dict[str, Any], diffs: list[Diff] | None = None, flips: list[dict[str, Any]] | None = None
) -> str:
    s = report["summary"]
    parts = [
        f"# Eval report: {report['set']}",
        f"Run {report['started']} ({report['seconds']} s), answerer `{report['options'].get('answerer')}`, "
        f"gold context: {report['options'].get('gold_context')}.",
        f"Citation support judge: {report['judge']}.",
    ]
    if report.get("notes"):
        parts.append("Notes: " + " ".join(report["notes"].split()))
    parts += ["## Summary", _md_table(["metric", "value"], [[k, v] for k, v in s.items()])]
    cols = [c for c in PER_TYPE_COLUMNS if any(c in t for t in report["per_type"].values())]
    parts += [
        "## By question type",
        _md_table(["type", *cols], [[t, *(v.get(c) for c in cols)] for t, v in report["per_type"].items()]),
    ]
    if diffs is not None:
        parts += [
            "## Against the baseline",
            _md_table(
                ["metric", "baseline", "now", "delta", "tolerance", "regressed"],
                [
                    [d.metric, d.baseline, d.current, d.delta, d.tolerance, "REGRESSED" if d.regressed else ""]
                    for d in diffs
                ],
            ),
        ]
        flip_rows = [[f["id"], f["question"], f["was"], f["now"]] for f in flips or []]
        parts += ["### Flipped questions", _md_table(["id", "question", "was", "now"], flip_rows) if flips else "None."]
    parts.append("## Worst 10 questions")
    for q in worst(records(report)):
        parts.append(
            f"- **{q.id}** ({q.type}) {q.question}\n  - gold: {q.gold.expected(q.unanswerable)}\n"
            f"  - answer: {q.answer[:500]}\n  - metrics: " + ", ".join(f"{k}={_fmt(v)}" for k, v in q.metrics.items())
        )
    return "\n\n".join(parts) + "\n"


def _svg_bars(values: dict[str, float | None], title: str, width: int = 520) -> str:
    """A horizontal bar chart of values in [0, 1] as inline SVG (no scripts: readable offline)."""
    rows = [(k, v or 0.0) for k, v in values.items()]
    h = 24 * len(rows) + 30
    out = [
        f'<svg width="{width}" height="{h}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="14" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (k, v) in enumerate(rows):
        y = 24 + 24 * i
        out.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(k)}</text>'
            f'<rect x="170" y="{y}" width="{300 * max(0.0, min(v, 1.0)):.1f}" height="16" fill="#4a7bd0"/>'
            f'<text x="{175 + 300 * max(0.0, min(v, 1.0)):.1f}" y="{y + 13}" font-size="12">{v:.2f}</text>'
        )
    return "\n".join([*out, "</svg>"])


def _svg_histogram(values: list[float], title: str, bins: int = 20, width: int = 520) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    step = (hi - lo) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / step), bins - 1)] += 1
    top = max(counts)
    bar_w = (width - 40) / bins
    out = [
        f'<svg width="{width}" height="200" role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="14" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, c in enumerate(counts):
        bh = 140 * c / top
        out.append(
            f'<rect x="{20 + i * bar_w:.1f}" y="{170 - bh:.1f}" width="{bar_w - 2:.1f}" height="{bh:.1f}" '
            f'fill="#d0864a"><title>{lo + i * step:.0f}-{lo + (i + 1) * step:.0f} ms: {c}</title></rect>'
        )
    out.append(
        f'<text x="20" y="190" font-size="12">{lo:.0f} ms</text>'
        f'<text x="{width - 80}" y="190" font-size="12">{hi:.0f} ms</text>'
    )
    return "\n".join([*out, "</svg>"])


# CommonMark plus tables; raw HTML in the Markdown (an answer quoting a page) is escaped, never rendered.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:auto}"
    "table{border-collapse:collapse;margin:0.5em 0}th,td{border:1px solid #ccc;padding:2px 8px}"
    "td{text-align:right}td:first-child{text-align:left}"
)


def to_html(report: dict[str, Any], markdown: str) -> str:
    """The Markdown report rendered to HTML (real tables), after a per-type correctness chart and a latency
    histogram drawn as inline SVG (no scripts: readable offline)."""
    per_type_correct = {t: v.get("correct") for t, v in report["per_type"].items()}
    charts = _svg_bars(per_type_correct, "correct by question type") + _svg_histogram(
        [q.latency_ms for q in records(report)], "latency per question"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Eval report: {html.escape(report['set'])}"
        f"</title><style>{_STYLE}</style></head><body>{charts}\n{_MARKDOWN.render(markdown)}</body></html>"
    )


def write_reports(
    report: dict[str, Any], out_dir: Path, diffs: list[Diff] | None = None, flips: list[dict[str, Any]] | None = None
) -> list[Path]:
    """report.json, report.md and report.html in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    body = {**report}
    if diffs is not None:
        body["baseline_diff"] = [asdict(d) for d in diffs]
        body["flipped"] = flips or []
    markdown = to_markdown(report, diffs, flips)
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "report.html"]
    paths[0].write_text(json.dumps(body, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    paths[1].write_text(markdown, encoding="utf-8")
    paths[2].write_text(to_html(report, markdown), encoding="utf-8")
    return paths
