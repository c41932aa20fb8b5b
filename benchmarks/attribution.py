"""Precision and recall of the attribution detector (``rag/answer/attribution.py``) on hand-labelled sentences.

``evals/data/attribution.jsonl``: 100 sentences of the RealTime QA corpus and the sample article, each with
the original source it credits (or null), labelled by reading them (the rule is in the detector's docstring).
The sentences were drawn with a fixed seed: 62 that hold a cue word (according to, told, report, citing,
per...), 33 more with a reporting verb (reports, says, interview with...) and 5 without any; 44 credit a source.
``evals/data/attribution_heldout.jsonl``: 40 more sentences (28 with a cue word, 12 without; 11 credit a
source), drawn with another seed and labelled after the detector was written, never used to change it: the
honest figure for new text (one error of the first set led to a fix, see the detector's docstring).
A detection is correct when its source matches the label after case folding and dropping a leading "the",
or one contains the other ("New York Times and Siena College" for "New York Times").

Run: .venv/bin/python -m benchmarks.attribution [--json] [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.answer.attribution import reported_by
from rag.text.ids import source_key

DATA = Path(__file__).resolve().parent.parent / "evals" / "data"
SETS = {"labelled": DATA / "attribution.jsonl", "held-out": DATA / "attribution_heldout.jsonl"}


def _key(name: str) -> str:
    return source_key(name).removeprefix("the ").removeprefix("a ").strip(" .")


def matches(found: str, expected: str) -> bool:
    a, b = _key(found), _key(expected)
    return a == b or (bool(a) and bool(b) and (a in b or b in a))


def evaluate(rows: list[dict[str, str | None]]) -> dict[str, object]:
    tp = fp = fn = 0
    errors: list[dict[str, str | None]] = []
    for row in rows:
        sentence, expected = str(row["sentence"]), row["source"]
        found = reported_by(sentence)
        if found and expected and matches(found, expected):
            tp += 1
            continue
        if found:
            fp += 1
        if expected:
            fn += 1
        if found or expected:
            errors.append({"sentence": sentence, "expected": expected, "found": found})
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "sentences": len(rows),
        "attributions": sum(1 for r in rows if r["source"]),
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--errors", action="store_true", help="list the sentences the detector gets wrong")
    args = ap.parse_args(argv)
    reports = {}
    for name, path in SETS.items():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        reports[name] = evaluate(rows)
        if not args.errors:
            reports[name].pop("errors")
    if args.json:
        print(json.dumps(reports, ensure_ascii=False, indent=2))
        return 0
    for name, report in reports.items():
        print(
            f"{name}: {report['sentences']} sentences, {report['attributions']} attributions: "
            f"precision {report['precision']:.3f}, recall {report['recall']:.3f} "
            f"(TP {report['true_positives']}, FP {report['false_positives']}, FN {report['false_negatives']})"
        )
        for e in report.get("errors", []):  # type: ignore[attr-defined]
            print(f"  expected {e['expected']!r}, found {e['found']!r}: {e['sentence']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
