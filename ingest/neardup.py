"""Syndicated copies: near-duplicate detection and story grouping.

Wire stories (AP, Reuters...) run on many sites with small edits: another headline, a dateline, an
added or dropped paragraph, a cut ending. Each article gets a MinHash signature (datasketch, 128
permutations) of its 5-word shingles; two articles whose estimated Jaccard similarity reaches
``NEWSQA_NEARDUP_THRESHOLD`` and that were published within ``DATE_WINDOW_DAYS`` of each other (when both
are dated) are one story. The threshold, 0.55, was chosen with ``benchmarks/neardup.py``: on all 428k
pairs of distinct real articles of the RealTime QA corpus no pair inside the date window reaches it (the
closest reaches 0.50; a follow-up story 10 days later reusing paragraphs reaches 0.56, hence the window),
while it finds 100% of lightly edited and 94% of moderately edited synthetic wire copies (dateline,
trailer, style edits, a dropped and an inserted paragraph, the last 15% cut). Copies cut to about half
their length fall below it and stay separate articles.

Storage keeps Chroma the single source of truth: the signature and its LSH band keys (42 bands of 3
rows) live in the article record's metadata, so candidates are found with one metadata query. The first
copy of a story is indexed as usual; a later copy is stored as an article record *without chunks* whose
``story_id`` points at the first, and the first's record and chunks list it in ``also_in``. Search thus
returns one copy and a citation can name the other outlets.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass

import numpy as np

from ingest.readers import Failure
from rag.settings import Settings
from rag.store import UNDATED_TS, ChromaStore, also_in_from, timestamp
from rag.store.schema import BAND_KEY, MINHASH
from rag.types import Article, OutletCopy

log = logging.getLogger(__name__)

SHINGLE_WORDS = 5
NUM_PERM = 128
BANDS, ROWS = 42, 3  # P(candidate) = 1-(1-s^3)^42: 0.9995 at s=0.55 (the threshold), 0.29 at s=0.2
MIN_SHINGLES = 25  # shorter texts (teasers) get no signature: too few shingles for a reliable estimate
DATE_WINDOW_DAYS = 3  # copies of one story run within days of each other; a follow-up weeks later is a new story
_SEED = 8  # fixed: signatures are stored and compared across processes and runs
_WORD = re.compile(r"\w+")


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[bytes]:
    """The set of k-word shingles of ``text`` (case-folded words; punctuation and layout ignored)."""
    words = _WORD.findall(text.casefold())
    return {" ".join(words[i : i + k]).encode() for i in range(max(0, len(words) - k + 1))}


def signature(text: str, k: int = SHINGLE_WORDS) -> np.ndarray | None:
    """MinHash signature (``NUM_PERM`` uint32 values), or None when the text is too short to judge."""
    from datasketch import MinHash

    grams = shingles(text, k)
    if len(grams) < MIN_SHINGLES:
        return None
    mh = MinHash(num_perm=NUM_PERM, seed=_SEED)
    mh.update_batch(list(grams))
    return mh.hashvalues.astype(np.uint32)  # datasketch keeps values below 2**32


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(np.mean(a == b))


def band_keys(sig: np.ndarray) -> list[str]:
    return [hashlib.blake2b(sig[i * ROWS : (i + 1) * ROWS].tobytes(), digest_size=6).hexdigest() for i in range(BANDS)]


def record_fields(sig: np.ndarray) -> dict[str, str]:
    """Metadata for an article record: the signature and its band keys."""
    fields = {BAND_KEY.format(i): key for i, key in enumerate(band_keys(sig))}
    fields[MINHASH] = base64.b64encode(sig.astype(np.uint32).tobytes()).decode()
    return fields


def same_window(a_ts: int, b_ts: int) -> bool:
    """Published within ``DATE_WINDOW_DAYS`` of each other, or either undated (then the text decides)."""
    if UNDATED_TS in (a_ts, b_ts):
        return True
    return abs(a_ts - b_ts) <= DATE_WINDOW_DAYS * 86400


def _decode(value: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(value), dtype=np.uint32)


@dataclass
class StoryMatch:
    story_id: str
    similarity: float


class StoryIndex:
    """Finds the story an article belongs to and records copies on it. One per ingest run."""

    def __init__(self, store: ChromaStore, settings: Settings) -> None:
        self.store = store
        self.threshold = settings.neardup_threshold
        self._sigs: dict[str, np.ndarray | None] = {}
        self._pending: dict[str, tuple[np.ndarray, int]] = {}  # indexed in this run, maybe not committed yet

    def _signature(self, article: Article) -> np.ndarray | None:
        if article.id not in self._sigs:
            self._sigs[article.id] = signature(article.text)
        return self._sigs[article.id]

    def match(self, article: Article, stored_only: bool = False) -> StoryMatch | None:
        """The story ``article`` is a near-copy of (in this run or in the store; only the store when
        ``stored_only``, the last check under the write lock before the article is written), if any."""
        sig = self._signature(article)
        if sig is None:
            return None
        when = timestamp(article.published)
        pending = {} if stored_only else self._pending
        found: list[StoryMatch] = []
        for other_id, (other, other_when) in pending.items():
            if other_id != article.id and same_window(when, other_when):
                found.append(StoryMatch(other_id, similarity(sig, other)))
        stored: list[StoryMatch] = []
        for other_id, meta in self.store.story_candidates(band_keys(sig)):
            if other_id == article.id or not meta.get(MINHASH):
                continue
            if same_window(when, int(meta.get("published_ts", UNDATED_TS))):
                story = str(meta.get("story_id") or other_id)  # a copy's story is the one to join
                stored.append(StoryMatch(story, similarity(sig, _decode(str(meta[MINHASH])))))
        found += [m for m in stored if m.story_id != article.id]
        found = sorted((m for m in found if m.similarity >= self.threshold), key=lambda m: -m.similarity)
        for m in found:
            # a story deleted since its copies were recorded is no story to join
            if m.story_id in pending or self.store.exists(m.story_id):
                return m
        return None

    def remember(self, article: Article) -> None:
        """``article`` will be indexed in this run: later copies in the same run join its story."""
        if (sig := self._signature(article)) is not None:
            self._pending[article.id] = (sig, timestamp(article.published))

    def fields(self, article: Article) -> dict[str, str]:
        """Extra article-record metadata (signature and band keys) for ``ChromaStore.write_article``."""
        sig = self._signature(article)
        return record_fields(sig) if sig is not None else {}

    def carry_over(self, article: Article) -> Article:
        """An updated article keeps the outlets already listed on its story."""
        meta = self.store.article_meta(article.id)
        return article.model_copy(update={"also_in": also_in_from(meta)}) if meta is not None else article

    def record_copies(self, copies: list[tuple[Article, StoryMatch]]) -> tuple[list[str], list[Failure]]:
        """Store each copy as a chunkless record pointing at its story and list it on the story.

        Runs after the run's own articles are committed (a story may be one of them). Returns the ids of
        the copies recorded, and a Failure for each copy whose story has gone meanwhile.
        """
        recorded: list[str] = []
        failures: list[Failure] = []
        by_story: dict[str, list[Article]] = {}
        for copy, match in copies:
            by_story.setdefault(match.story_id, []).append(copy)
        for story_id, members in by_story.items():
            meta, vector = self.store.article_meta(story_id), self.store.article_vector(story_id)
            if meta is None or vector is None:
                failures += [Failure(c.url or c.id, f"its story {story_id} is no longer in the store") for c in members]
                continue
            also_in = {c.article_id: c for c in also_in_from(meta)}
            for copy in members:
                record = copy.model_copy(update={"story_id": story_id, "also_in": []})
                self.store.write_article(record, [], vector[None, :], extra_metadata=self.fields(copy))
                recorded.append(copy.id)
                also_in[copy.id] = OutletCopy(
                    article_id=copy.id, source=copy.source, url=copy.url, title=copy.title, published=copy.published
                )
            self.store.set_also_in(story_id, list(also_in.values()))
            log.info("story %s: %d other outlet(s)", story_id, len(also_in))
        return recorded, failures
