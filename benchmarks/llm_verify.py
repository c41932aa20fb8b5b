"""Precision and recall of the citation support test on a labelled set built from the RealTime QA articles.

    .venv/bin/python -m benchmarks.llm_verify [--articles 80] [--seed 7]

For each sampled article, a passage of six consecutive sentences is cut from it and one sentence of that
passage (with a number or a name in it) becomes the claim. From it the set gets:

- supported:   the sentence as written; a shortened rewrite (clause after the first comma dropped, "said"
               -> "stated", "According to <outlet>," in front), as an LLM would restate it;
- unsupported: a swapped number (one figure changed), a swapped name (one name replaced by a name from
               another article), the wrong source (the sentence checked against a passage of another
               article that shares a name with it, i.e. on a related story), and a negation ("is" -> "is
               not"), which a lexical + embedding test is not expected to catch: it is there to show it.

"Positive" = unsupported (what the checker must catch). Reported: precision and recall of the flag at
the configured threshold, recall per corruption, and the threshold sweep used to calibrate
NEWSQA_SUPPORT_THRESHOLD.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from dataclasses import dataclass

from benchmarks._common import rtqa_dir
from rag.answer.support import LexicalEmbeddingSupport, _entities
from rag.embedders import load_embedder
from rag.settings import Settings
from rag.text.sentences import sentence_spans
from rag.types import Passage

WINDOW = 6


@dataclass
class Case:
    claim: str
    passage: Passage
    kind: str  # verbatim | rewrite | number | name | source
    unsupported: bool


def _outlet(doc: dict) -> str:
    host = doc["url"].split("/")[2] if doc.get("url", "").count("/") >= 2 else "the report"
    return re.sub(r"^www\.|\..*$", "", host).upper()


def _passages(doc: dict) -> list[Passage]:
    text = doc["text"]
    spans = [s for s in sentence_spans(text) if len(text[s[0] : s[1]].split()) >= 6]
    out = []
    for i in range(0, max(len(spans) - WINDOW + 1, 1), WINDOW):
        group = spans[i : i + WINDOW]
        if len(group) < 3:
            continue
        start, end = group[0][0], group[-1][1]
        out.append(
            Passage(
                chunk_id=f"{doc['doc_id']}:{i}",
                article_id=doc["doc_id"],
                index=i,
                text=text[start:end],
                start=start,
                end=end,
                title=None if doc["title"] == "None" else doc["title"],
                source=_outlet(doc),
            )
        )
    return out


def _rewrite(sentence: str, source: str) -> str:
    head = sentence.split(", ")[0] if sentence.count(", ") >= 2 else sentence
    head = head.rstrip(".") + "."
    head = re.sub(r"\bsaid\b", "stated", head)
    return f"According to {source}, {head[0].lower() + head[1:] if head[:2].istitle() else head}"


def build(docs: list[dict], n: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    rng.shuffle(docs)
    names_by_doc = {d["doc_id"]: _entities(d["text"][:4000]) for d in docs}
    all_names = sorted({name for names in names_by_doc.values() for name in names if len(name) > 3})
    cases: list[Case] = []
    used = 0
    for doc in docs:
        if used == n:
            break
        passages = _passages(doc)
        if not passages:
            continue
        p = passages[rng.randrange(len(passages))]
        sentences = [p.text[s:e] for s, e in sentence_spans(p.text)]
        claims = [s for s in sentences if 8 <= len(s.split()) <= 45 and re.search(r"\d", s) and _entities(s)]
        if not claims:
            continue
        claim = rng.choice(claims)
        used += 1
        cases.append(Case(claim, p, "verbatim", False))
        cases.append(Case(_rewrite(claim, _outlet(doc)), p, "rewrite", False))
        numbers = re.findall(r"\d+(?:[.,]\d+)*", claim)
        old = rng.choice(numbers)
        new = str(int(re.sub(r"\D", "", old)[:6] or 1) + rng.choice([1, 2, 3, 7, 11]))
        cases.append(Case(claim.replace(old, new, 1), p, "number", True))
        present = [m.group() for m in re.finditer(r"\b[A-Z][a-z]{3,}\b", claim) if m.start() > 0]
        lower_p = p.text.lower()
        replacements = [x for x in all_names if x not in lower_p and x.isalpha()]
        if present and replacements:
            target = rng.choice(present)
            cases.append(Case(claim.replace(target, rng.choice(replacements).title(), 1), p, "name", True))
        negated = re.sub(r"\b(is|was|are|were|has|have|had|will|would|could|can|did|does)\b", r"\1 not", claim, count=1)
        if negated != claim:
            cases.append(Case(negated, p, "negation", True))
        claim_names = _entities(claim)
        related = [d for d in docs if d["doc_id"] != doc["doc_id"] and claim_names & names_by_doc[d["doc_id"]]]
        other = rng.choice(related or [d for d in docs if d["doc_id"] != doc["doc_id"]])
        other_passages = _passages(other)
        if other_passages:
            cases.append(Case(claim, rng.choice(other_passages), "source", True))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=80)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    docs = [d for d in json.loads((rtqa_dir() / "corpus.json").read_text()) if len(d["text"]) > 1500]
    cases = build(docs, args.articles, args.seed)
    embedder = load_embedder(Settings().embed_model)
    test = LexicalEmbeddingSupport(embedder, threshold=0.0)  # exact scores for every case (no shortcut)
    t0 = time.perf_counter()
    scores = [test.support(c.claim, [c.passage])[0].score for c in cases]
    elapsed = time.perf_counter() - t0
    threshold = Settings().support_threshold

    def metrics(th: float) -> tuple[float, float, float]:
        flagged = [s < th for s in scores]
        tp = sum(f and c.unsupported for f, c in zip(flagged, cases, strict=True))
        fp = sum(f and not c.unsupported for f, c in zip(flagged, cases, strict=True))
        fn = sum((not f) and c.unsupported for f, c in zip(flagged, cases, strict=True))
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r, 2 * p * r / (p + r) if p + r else 0.0

    kinds = sorted({c.kind for c in cases})
    print(
        f"labelled set: {len(cases)} cases from {args.articles} articles "
        + ", ".join(f"{k} {sum(c.kind == k for c in cases)}" for k in kinds)
    )
    print(f"support test: {elapsed / len(cases) * 1000:.1f} ms per sentence (incl. embedding the passage)")
    p, r, f1 = metrics(threshold)
    print(f"threshold {threshold}: unsupported precision {p:.3f} recall {r:.3f} F1 {f1:.3f}")
    for k in kinds:
        ks = [s for s, c in zip(scores, cases, strict=True) if c.kind == k]
        rate = sum(s < threshold for s in ks) / len(ks)
        label = "flagged (recall)" if cases[[c.kind for c in cases].index(k)].unsupported else "flagged (false alarm)"
        print(f"  {k:9s} n={len(ks):3d} {label}: {rate:.3f}  median score {sorted(ks)[len(ks) // 2]:.3f}")
    print("sweep:")
    for th in [x / 100 for x in range(30, 76, 5)]:
        p, r, f1 = metrics(th)
        print(f"  {th:.2f}: precision {p:.3f} recall {r:.3f} F1 {f1:.3f}")


if __name__ == "__main__":
    main()
