"""Choose the near-duplicate threshold (ingest/neardup.py) on pairs built from real news articles.

Negatives: every pair of distinct articles of the RealTime QA corpus (real CNN/USA Today articles, many
on the same topics, including template newsletters and follow-up stories that reuse paragraphs).
Pairs of the same page captured twice (same URL up to ``index.html``/query/slash) are real positives.
Synthetic positives: a syndicated copy of each of 300 corpus articles, edited the way sites edit wire
copy, at three strengths:
  light   dateline prefix, copyright/"originally published" trailer, ~2% style edits (US/U.S., %/percent...)
  medium  light + one paragraph dropped + a "RELATED:" line inserted + the last 15% cut
  heavy   medium + cut to 60% of the paragraphs + ~5% word edits
For each threshold: recall per kind, false positives among the negatives, with and without the
publication-date window the ingest uses (copies of one story appear within ``DATE_WINDOW_DAYS``).

Run: .venv/bin/python -m benchmarks.neardup [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import datetime

import numpy as np

from benchmarks._common import rtqa_dir
from ingest.neardup import DATE_WINDOW_DAYS, signature

THRESHOLDS = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9]
STYLE = {
    "percent": "%",
    "U.S.": "US",
    "said": "says",
    "Mr.": "",
    "Ms.": "",
    "about": "around",
    "but": "yet",
    "also": "as well",
    "people": "persons",
    "million": "mln",
    "billion": "bln",
    "however": "though",
}
DATELINES = ["WASHINGTON (AP) — ", "NEW YORK (Reuters) - ", "LONDON — ", "(CNN) — ", "SAN FRANCISCO, Calif. — "]
TRAILERS = [
    "Copyright 2022 The Associated Press. All rights reserved. This material may not be published, broadcast, "
    "rewritten or redistributed.",
    "This story was originally published by Reuters. Reporting by staff; editing by the desk.",
    "Sign up for our daily newsletter to get the top stories delivered to your inbox every morning.",
]


def page_key(url: str) -> str:
    url = re.sub(r"[?#].*$", "", url.strip().lower())
    return re.sub(r"(/index\.html?|/)$", "", url)


def edit_words(text: str, rate: float, rng: random.Random) -> str:
    words = text.split(" ")
    for i, w in enumerate(words):
        if rng.random() < rate:
            words[i] = STYLE.get(w, rng.choice(words))
    return " ".join(words)


def syndicate(text: str, level: str, rng: random.Random) -> str:
    paras = [p for p in text.split("\n") if p.strip()]
    if level in {"medium", "heavy"} and len(paras) > 4:
        del paras[rng.randrange(1, len(paras) - 1)]
        paras.insert(rng.randrange(1, len(paras)), "RELATED: More coverage of this story from our partners")
        paras = paras[: max(3, round(len(paras) * 0.85))]
    if level == "heavy":
        paras = paras[: max(3, round(len(paras) * 0.6))]
    paras[0] = rng.choice(DATELINES) + paras[0]
    paras.append(rng.choice(TRAILERS))
    rate = {"light": 0.02, "medium": 0.02, "heavy": 0.05}[level]
    return "\n\n".join(edit_words(p, rate, rng) for p in paras)


def day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value.strip(), "%Y/%m/%d")
    except (ValueError, AttributeError):
        return None


def within_window(a: datetime | None, b: datetime | None) -> bool:
    return a is None or b is None or abs((a - b).days) <= DATE_WINDOW_DAYS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    records = json.loads((rtqa_dir() / "corpus.json").read_text())
    corpus = [r for r in records if len(r["text"]) >= 500]  # drops 'ad' placeholders
    sigs, rows = [], []
    for r in corpus:
        if (s := signature(r["text"])) is not None:
            sigs.append(s)
            rows.append(r)
    sig = np.stack(sigs)
    dates = [day(r.get("publish_date", "")) for r in rows]
    # corpus pairs: real positives (same page twice) and negatives (everything else)
    neg_sims, neg_window, real_pos = [], [], []
    for a in range(len(rows)):
        sims = (sig[a + 1 :] == sig[a]).mean(axis=1)
        for off, s in enumerate(sims):
            b = a + 1 + off
            if rows[a]["text"] == rows[b]["text"]:
                continue  # exact duplicates are skipped before near-duplicate matching
            if page_key(rows[a]["url"]) == page_key(rows[b]["url"]):
                real_pos.append(float(s))
            else:
                neg_sims.append(float(s))
                neg_window.append(within_window(dates[a], dates[b]))
    neg = np.array(neg_sims)
    negw = np.array(neg_window)
    # synthetic syndicated copies
    rng = random.Random(8)
    sample = rng.sample([i for i, r in enumerate(rows) if len(r["text"]) >= 2000], 300)
    pos: dict[str, list[float]] = {"light": [], "medium": [], "heavy": []}
    for i in sample:
        for level in pos:
            copy = signature(syndicate(rows[i]["text"], level, rng))
            pos[level].append(float((copy == sig[i]).mean()) if copy is not None else 0.0)
    table = []
    for t in THRESHOLDS:
        table.append(
            {
                "threshold": t,
                **{f"recall_{k}": round(float(np.mean(np.array(v) >= t)), 3) for k, v in pos.items()},
                "recall_real_same_page": round(float(np.mean(np.array(real_pos) >= t)), 3) if real_pos else None,
                "false_pos": int((neg >= t).sum()),
                "false_pos_with_date_window": int(((neg >= t) & negw).sum()),
            }
        )
    result = {
        "articles": len(rows),
        "negative_pairs": len(neg_sims),
        "real_same_page_pairs": len(real_pos),
        "synthetic_pairs_per_level": len(sample),
        "date_window_days": DATE_WINDOW_DAYS,
        "mean_similarity": {k: round(float(np.mean(v)), 3) for k, v in pos.items()},
        "max_negative_similarity": round(float(neg.max()), 3),
        "max_negative_similarity_in_window": round(float(neg[negw].max()), 3) if negw.any() else None,
        "table": table,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            if key != "table":
                print(f"{key}: {value}")
        cols = list(table[0])
        print(" ".join(f"{c:>14}" for c in cols))
        for row in table:
            print(" ".join(f"{row[c]!s:>14}" for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
