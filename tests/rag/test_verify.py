"""Citation verification with the real embedding model: markers, support, repair, flag/drop, streaming buffer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rag.answer.llm import SentenceBuffer
from rag.answer.markers import is_abstention, split_markers, split_sentences
from rag.answer.support import LexicalEmbeddingSupport, load_support_test
from rag.answer.verify import CitationVerifier
from rag.embedders import Embedder
from rag.errors import ConfigError
from rag.settings import Settings
from rag.types import Passage

DELL = (
    "xAI, Elon Musk's AI startup, has shifted all AI server orders from troubled Supermicro to Dell, reports UDN.com. "
    "Dell, already among the largest makers of servers, reportedly benefits from this decision, just like its "
    "suppliers, Inventec and Wistron. The order is worth about $6 billion."
)
DELIST = (
    "Supermicro needed to submit a plan by November 16 explaining the delay. If Supermicro is delisted, it could "
    "face the immediate repayment of $1.725 billion in convertible notes."
)
WEATHER = "Heavy rain is expected across the north of England on Tuesday, with flood warnings for Yorkshire."


def passage(i: int, text: str, start: int = 100) -> Passage:
    return Passage(
        chunk_id=f"a{i}:0",
        article_id=f"a{i}",
        index=0,
        text=text,
        start=start,
        end=start + len(text),
        title=f"Article {i}",
        source="Test Wire",
        published=datetime(2024, 11, 14, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    return [passage(1, DELL), passage(2, DELIST), passage(3, WEATHER)]


@pytest.fixture(scope="module")
def support(embedder: Embedder) -> LexicalEmbeddingSupport:
    return LexicalEmbeddingSupport(embedder, threshold=Settings().support_threshold)


def verifier(passages: list[Passage], support: LexicalEmbeddingSupport, mode: str = "flag") -> CitationVerifier:
    return CitationVerifier(passages, support, Settings().support_threshold, mode)


def test_split_sentences_keeps_markers_written_after_the_full_stop() -> None:
    text = "Dell wins the orders. [1] Wistron and Inventec benefit too.[1][2] Supermicro loses. [2]"
    assert split_sentences(text) == [
        "Dell wins the orders. [1]",
        "Wistron and Inventec benefit too. [1][2]",
        "Supermicro loses. [2]",
    ]
    claim, markers = split_markers("Wistron and Inventec benefit [1, 3] too [1].")
    assert (claim, markers) == ("Wistron and Inventec benefit too.", [1, 3])


def test_supported_sentence_keeps_its_citation_with_verbatim_quote_and_score(passages, support) -> None:
    v = verifier(passages, support)
    checked = v.check("Dell benefits from xAI's decision, as do its suppliers Inventec and Wistron. [1]")
    assert checked.supported and checked.text.endswith("[1]")
    [citation] = v.citations()
    assert citation.article_id == "a1" and citation.quote in DELL and "Wistron" in citation.quote
    assert DELL[citation.start - 100 : citation.end - 100] == citation.quote  # offsets are article offsets
    assert citation.support is not None and citation.support >= Settings().support_threshold


def test_marker_pointing_at_no_passage_is_removed_and_the_supporting_one_added(passages, support) -> None:
    v = verifier(passages, support)
    checked = v.check("Supermicro could have to repay $1.725 billion in convertible notes if delisted. [7]")
    assert checked.supported and "[7]" not in checked.text and checked.text.endswith("[1]")
    assert v.removed_markers == 1 and v.repaired == 1
    assert v.citations()[0].article_id == "a2"  # renumbered: the first citation used is [1]


def test_sentence_without_marker_gets_the_marker_of_its_supporting_passage(passages, support) -> None:
    v = verifier(passages, support)
    v.check("xAI moved its AI server orders from Supermicro to Dell. [1]")
    checked = v.check("Supermicro had to submit a plan by November 16.")
    assert checked.supported and checked.text == "Supermicro had to submit a plan by November 16. [2]"
    assert [c.article_id for c in v.citations()] == ["a1", "a2"]


@pytest.mark.parametrize(
    "corrupted",
    [
        "The order is worth about $9 billion. [1]",  # swapped number
        "xAI has shifted all AI server orders from troubled Supermicro to Lenovo. [1]",  # swapped name
        "Heavy rain and flood warnings are expected in Yorkshire on Tuesday. [1]",  # wrong source
        "Dell, already among the largest makers of servers, does not benefit from this decision. [1]",  # negation
    ],
)
def test_unsupported_sentence_is_flagged_without_citation(passages, support, corrupted: str) -> None:
    v = verifier(passages, support)
    checked = v.check(corrupted)
    assert not checked.supported
    assert checked.text is not None and "[" not in checked.text  # flagged sentences never carry a citation
    assert v.unsupported == [checked.claim] and v.citations() == []


def test_drop_mode_removes_unsupported_sentences(passages, support) -> None:
    v = verifier(passages, support, mode="drop")
    assert v.check("The order is worth about $9 billion. [1]").text is None
    assert v.check("The order is worth about $6 billion. [1]").text == "The order is worth about $6 billion. [1]"


def test_abstention_is_recognised_and_not_flagged(passages, support) -> None:
    assert is_abstention("The indexed articles do not answer this question.")
    assert is_abstention("The provided passages don't contain information about the CEO's salary.")
    assert not is_abstention("Dell does not make motherboards; Wistron does.")
    checked = verifier(passages, support).check("The passages do not mention the price.")
    assert checked.abstention and checked.text == "The passages do not mention the price."


def test_unknown_support_test_is_a_config_error(embedder: Embedder) -> None:
    with pytest.raises(ConfigError, match="NEWSQA_SUPPORT_TEST"):
        load_support_test(Settings(support_test="nli-magic"), embedder)


def test_sentence_buffer_hands_out_complete_sentences_only() -> None:
    buffer = SentenceBuffer()
    text = "Dell wins the orders. [1] Wistron benefits. [2] Supermicro loses"
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    out = [s for piece in pieces for s in buffer.feed(piece)]
    assert out == ["Dell wins the orders. [1]", "Wistron benefits. [2]"]
    assert buffer.flush() == ["Supermicro loses"]
