from datetime import UTC, datetime
from itertools import pairwise

from ingest.chunk import chunk_article
from rag.text.sentences import sentence_spans
from rag.types import Article


def _article(text):
    return Article(id="a1", text=text, ingested_at=datetime.now(UTC))


def _count(texts):
    return [len(t.split()) for t in texts]


def test_sentence_spans_respect_abbreviations_and_lines():
    text = "The U.S. Department of Justice probed it. Mr. Liang spoke.\nNew paragraph here."
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["The U.S. Department of Justice probed it.", "Mr. Liang spoke.", "New paragraph here."]


def test_chunks_are_verbatim_sentence_aligned_with_overlap():
    sentences = [f"Sentence number {i} talks about topic {i} in some detail here." for i in range(40)]
    text = " ".join(sentences[:20]) + "\n\n" + " ".join(sentences[20:])
    chunks = chunk_article(_article(text), _count, chunk_tokens=50, overlap_tokens=12)
    assert len(chunks) > 3
    for i, c in enumerate(chunks):
        assert c.text == text[c.start : c.end]
        assert c.id == f"a1:{i}" and c.index == i
        assert c.text.startswith("Sentence number") and c.text.endswith("detail here.")
        assert sum(_count([s])[0] for s in [c.text]) <= 50
    assert all(later.start < earlier.end for earlier, later in pairwise(chunks))  # overlap
    assert chunks[-1].end == len(text)


def test_overlong_sentence_is_split_at_words():
    text = " ".join(f"w{i}" for i in range(130)) + "."
    chunks = chunk_article(_article(text), _count, chunk_tokens=50, overlap_tokens=0)
    assert len(chunks) == 3
    assert all(c.text == text[c.start : c.end] and len(c.text.split()) <= 50 for c in chunks)


def test_empty_text_gives_no_chunks():
    assert chunk_article(_article("   "), _count, 50, 10) == []
