"""The flagship question and cited answers, end to end over a real store."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from ingest.engine import Engine
from rag.types import Answer, Filters
from tests.builders import FLAGSHIP
from tests.conftest import FIXTURES


def _check_citations(engine: Engine, answer: Answer) -> None:
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations}  # every [n] resolves, every citation is used
    for c in answer.citations:
        article = engine.store.get_article(c.article_id)
        if c.part == "byline":
            assert c.quote == ", ".join(article.authors) and c.start is None
            continue
        if c.part == "title":
            assert (article.title, c.start, c.end) == (c.quote, 0, len(c.quote))  # the whole headline
            continue
        assert article.text[c.start : c.end] == c.quote  # verbatim slice of the article
        first = c.quote.split()[0]
        assert (first[0].isupper() or not first.islower()) and c.quote.rstrip()[-1] in '.!?”"'  # whole sentences
        # ("xAI, Elon Musk's AI startup, has ..." is a whole sentence too)


def test_flagship_question_names_dell_wistron_inventec_with_citations(seeded_engine: Engine):
    answer = seeded_engine.ask(FLAGSHIP)
    assert not answer.abstained and answer.mode == "extractive"
    for name in ("Dell", "Wistron", "Inventec"):
        assert name in answer.answer
        assert any(name in c.quote for c in answer.citations), name
    _check_citations(seeded_engine, answer)
    assert all(c.title.startswith("Elon Musk's xAI") and c.source for c in answer.citations)
    assert 1 <= len(answer.citations) <= 4
    assert len({c.quote for c in answer.citations}) == len(answer.citations)  # no repeated sentences
    assert answer.timings["total_ms"] > 0 and answer.as_of is not None


def test_a_figure_only_the_headline_gives_is_answered_by_quoting_the_headline(seeded_engine: Engine):
    answer = seeded_engine.ask("How much is the AI server order that xAI reportedly shifted away from Supermicro?")
    assert not answer.abstained and "$6 billion" in answer.answer
    [headline] = [c for c in answer.citations if c.part == "title"]
    assert headline.quote.startswith("Elon Musk's xAI reportedly shifts $6 billion")
    assert f"{headline.quote}. [{headline.n}]" in answer.answer
    _check_citations(seeded_engine, answer)


def test_who_wrote_an_article_is_answered_from_its_byline(seeded_engine: Engine):
    answer = seeded_engine.ask("Who wrote the Tom's Hardware article about xAI shifting its server order?")
    assert answer.answer.startswith("Anton Shilov wrote “Elon Musk's xAI reportedly shifts $6 billion")
    assert [(c.part, c.quote, c.source) for c in answer.citations] == [("byline", "Anton Shilov", "Tom’s Hardware")]
    _check_citations(seeded_engine, answer)


def test_a_how_many_question_is_answered_by_the_sentence_that_counts_it_or_not_at_all(seeded_engine: Engine):
    answer = seeded_engine.ask("How many facilities does Wistron have in Hsinchu?")
    assert not answer.abstained and "three Hsinchu facilities" in answer.answer
    _check_citations(seeded_engine, answer)
    # The article speaks of GPUs and of the order, but never counts the GPUs in it.
    refused = seeded_engine.ask("How many GPUs are in the server order that xAI shifted to Dell?")
    assert refused.abstained and refused.citations == []
    assert refused.answer.endswith("but not this: How many GPUs are in the server order that xAI shifted to Dell?")


def test_unanswerable_question_gets_the_plain_sentence_and_what_the_articles_cover(seeded_engine: Engine):
    for question in UNANSWERABLE:
        answer = seeded_engine.ask(question)
        assert answer.abstained and answer.citations == []
        assert answer.answer.startswith("The indexed articles do not answer this question. The closest articles ")
        assert answer.answer.endswith(f"but not this: {question}")


def _with_scorer(seeded_engine: Engine, scorer: str) -> Engine:
    return Engine(seeded_engine.settings.model_copy(update={"answer_scorer": scorer}), embedder=seeded_engine.embedder)


def test_the_hand_scorer_abstains_with_the_plain_sentence(seeded_engine: Engine):
    engine = _with_scorer(seeded_engine, "hand")
    for question in UNANSWERABLE:
        answer = engine.ask(question)
        assert answer.abstained and answer.citations == []
        assert answer.answer == "The indexed articles do not answer this question."


def test_the_learned_scorer_says_what_the_articles_cover_when_it_abstains(seeded_engine: Engine):
    engine = _with_scorer(seeded_engine, "learned")
    for question in UNANSWERABLE:
        answer = engine.ask(question)
        assert answer.abstained and answer.citations == []
        assert answer.answer.startswith("The indexed articles do not answer this question. The closest articles ")
        assert "“Elon Musk's xAI reportedly shifts $6 billion" in answer.answer  # the closest source, by title
        assert answer.answer.endswith(f"but not this: {question}")


UNANSWERABLE = (
    "What did Apple announce about the iPhone 16 camera?",
    "How many episodes will Squid Game season 3 have?",
)


def test_date_and_source_filters_change_the_answer(engine: Engine):
    engine.ingest_paths([FIXTURES / "mini_corpus.jsonl"])
    question = "How many vehicles did Acme Motors recall?"
    early = engine.ask(question, filters=Filters(until=datetime(2024, 2, 1, tzinfo=UTC)))
    ap = engine.ask(question, filters=Filters(sources=["AP"]))
    assert "120,000" in early.answer and "2.1 million" not in early.answer
    assert "2.1 million" in ap.answer and "120,000" not in ap.answer
    assert {c.source for c in ap.citations} == {"AP"}
    _check_citations(engine, early)
    _check_citations(engine, ap)
    replay = engine.ask(question, filters=Filters(as_of=datetime(2024, 3, 1, tzinfo=UTC)))
    assert "2.1 million" not in replay.answer  # published after the as-of date


def test_answer_json_schema_is_stable():
    schema = Answer.model_json_schema()
    assert {"question", "answer", "citations", "abstained", "mode", "timings"} <= set(schema["properties"])
    citation = schema["$defs"]["Citation"]["properties"]
    assert {"n", "article_id", "chunk_id", "title", "source", "published", "url", "quote"} <= set(citation)


def _quotes(engine: Engine, tmp_path, title: str, text: str, question: str) -> list[str]:
    """The quotes of the answer to ``question`` over one dated article (ingested from a JSONL file), after checking
    the answer is not a refusal and every citation is a verbatim slice."""
    record = {"title": title, "source": "Example News", "published": "2024/03/04", "url": "https://example.com/a"}
    path = tmp_path / "article.jsonl"
    path.write_text(json.dumps({**record, "text": text}) + "\n", encoding="utf-8")
    engine.ingest_paths([path])
    answer = engine.ask(question)
    assert not answer.abstained
    _check_citations(engine, answer)
    return [c.quote for c in answer.citations]


def test_a_sentence_that_only_describes_the_answer_is_quoted_with_the_sentence_that_names_it(
    engine: Engine, tmp_path
) -> None:
    text = (
        "“Night Harbor” is officially coming back. "
        "The streaming service announced Sunday that the wildly popular Danish show is green lit for a third "
        "season. Filming starts in the autumn in Copenhagen, the producers said. "
        "The cast has not been announced yet, and the release date is still open."
    )
    quotes = _quotes(
        engine,
        tmp_path,
        "Streaming renewals this spring",
        text,
        "Which wildly popular show was green lit for a new season?",
    )
    # The describing sentence answers the question's words; the one before it names the show.
    assert quotes[:2] == [
        "“Night Harbor” is officially coming back.",
        "The streaming service announced Sunday that the wildly popular Danish show is green lit for a third season.",
    ]


def test_a_person_named_by_surname_only_is_quoted_with_the_sentence_giving_the_full_name(
    engine: Engine, tmp_path
) -> None:
    text = (
        "Only a month ago few expected much of Maria Lindqvist. "
        "The vote by the harbour authority's board took place behind closed doors on Monday. "
        "Speaking after the vote, Lindqvist said she was honoured to become the new chair of the harbour authority. "
        "The previous chair stepped down in January after a dispute over port fees."
    )
    question = "Who became the new chair of the harbour authority?"
    quotes = _quotes(engine, tmp_path, "Harbour authority picks its leader", text, question)
    # The best sentence names her by surname; the article's earlier sentence gives her full name, quoted first.
    assert quotes[0] == "Only a month ago few expected much of Maria Lindqvist."
    assert (
        "Speaking after the vote, Lindqvist said she was honoured to become the new chair of the harbour authority."
        in quotes
    )


def test_a_country_named_only_by_its_demonym_is_quoted_with_the_sentence_naming_it(engine: Engine, tmp_path) -> None:
    text = (
        "Iranian lawmakers have urged the country’s judiciary to “show no leniency” to protesters in a letter, as "
        "thousands of people continue to rally on the streets. "
        "The letter was read out in parliament on Sunday. "
        "In the letter, signed by 227 of Iran’s 290 members of parliament, the lawmakers call for a harsh lesson."
    )
    question = "Which country’s lawmakers have urged officials to “show no leniency” to protesters?"
    quotes = _quotes(engine, tmp_path, "Lawmakers urge harsh sentences for protesters", text, question)
    # The best sentence says "Iranian"; the article's sentence that names Iran leads the answer.
    assert quotes[0].startswith("In the letter, signed by 227 of Iran’s 290 members")
    assert quotes[1].startswith("Iranian lawmakers have urged")


def test_a_sentence_that_refers_back_is_quoted_with_the_sentence_it_refers_to(engine: Engine, tmp_path) -> None:
    text = (
        "France is the largest consumer of mustard in the world. "
        "Its relationship with the condiment stretches back to the Middle Ages. "
        "Nowadays, most French mustard is produced by large brands and sold in supermarkets. "
        "But those supermarket shelves are now empty, sparking outrage across the country."
    )
    question = "Supermarkets in France are struggling to stock which condiment, sparking outrage across the country?"
    quotes = _quotes(engine, tmp_path, "A shortage in France", text, question)
    # "those supermarket shelves" answers the question's words; the sentence before it says what they held.
    assert quotes[:2] == [
        "Nowadays, most French mustard is produced by large brands and sold in supermarkets.",
        "But those supermarket shelves are now empty, sparking outrage across the country.",
    ]


def test_a_which_state_question_is_answered_by_the_sentence_naming_a_state(engine: Engine, tmp_path) -> None:
    text = (
        "Assemblyman Phil Ting of the Freedom Caucus announced the bill legalizing jaywalking. "
        "The state of Oregon is legalizing jaywalking. "
        "The governor signed the bill on Friday."
    )
    quotes = _quotes(engine, tmp_path, "Freedom to walk", text, "Which state announced it is legalizing jaywalking?")
    # Both sentences hold the question's words; the generic cue favours two new names ("Phil Ting", "Freedom
    # Caucus"), the place cue the sentence that names a state.
    assert "Oregon" in quotes[0]


def test_a_sentence_that_refers_back_to_a_figure_is_quoted_with_the_figure(engine: Engine, tmp_path) -> None:
    text = (
        "Here is what else happened this week in the art world and beyond.\n\n"
        "TODAY’S NUMBER\n\n"
        "$2.4 million\n\n"
        "That’s how much a painting by a little-known Dutch master sold for at auction on Sunday, according to the "
        "auction house.\n\n"
        "Bidding opened at a fraction of that and lasted for twenty minutes."
    )
    record = {"title": "Five things", "source": "Example News", "published": "2024/03/04", "url": "https://e.com/n"}
    path = tmp_path / "newsletter.jsonl"
    path.write_text(json.dumps({**record, "text": text}) + "\n", encoding="utf-8")
    engine.ingest_paths([path])
    answer = engine.ask("How much did a painting by a little-known Dutch master sell for at auction?")
    assert not answer.abstained
    # "That’s how much ..." says no figure; the figure it refers to is quoted before it, verbatim.
    assert [c.quote for c in answer.citations[:2]] == [
        "$2.4 million",
        "That’s how much a painting by a little-known Dutch master sold for at auction on Sunday, according to the "
        "auction house.",
    ]
    assert answer.answer.startswith("$2.4 million [1] That’s how much")
    article = engine.store.get_article(answer.citations[0].article_id)
    assert all(article.text[c.start : c.end] == c.quote for c in answer.citations)
