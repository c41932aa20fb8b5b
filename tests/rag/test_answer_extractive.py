"""Unit tests of the extractive answerer's pieces (the deterministic hash embedder: no model needed here)."""

from __future__ import annotations

from rag.answer.cues import cue_match, entities, new_entities, question_cue
from rag.answer.extractive import ExtractiveAnswerer, candidate_sentences, quotable_title
from rag.settings import Settings
from tests.builders import FLAGSHIP, passage
from tests.fakes.hash_embedder import hash_embedder


def test_question_cues():
    assert question_cue(FLAGSHIP) == "entity"
    assert question_cue("Which automaker recalled 2.9 million vehicles this week?") == "entity"
    assert question_cue("How much did the bidder pay?") == "number"
    assert question_cue("What was the magnitude of the quake?") == "number"
    assert question_cue("When is the delisting deadline?") == "date"
    assert question_cue("Why did the stock fall?") == "none"


def test_entities_and_new_entities():
    sentence = "Dell, already among the largest makers of servers, benefits, just like Inventec and Wistron."
    assert entities(sentence) == ["Dell", "Inventec", "Wistron"]
    assert new_entities("Supermicro lost the order to Dell.", FLAGSHIP) == ["Dell"]
    assert cue_match("date", "The deadline is November 18.", "When?") == 1.0
    assert cue_match("number", "Shares fell 35% in one day.", "How much?") == 1.0
    assert cue_match("number", "Shares fell sharply.", "How much?") == 0.0


def test_overlapping_chunks_yield_each_sentence_once():
    s1, s2, s3 = "First sentence is right here now.", "Second sentence comes right after.", "Third one closes it off."
    text = f"{s1} {s2} {s3}"
    a = passage(text[: len(s1) + 1 + len(s2)], start=0, index=0)
    b = passage(text[len(s1) + 1 :], start=len(s1) + 1, index=1)
    cands = candidate_sentences([a, b])
    assert [c.text for c in cands] == [s1, s2, s3]
    assert all(text[c.start : c.end] == c.text for c in cands)


def test_answer_cites_verbatim_sentences_and_abstains_on_weak_evidence():
    answerer = ExtractiveAnswerer(hash_embedder(), Settings(abstain_threshold=0.3))
    council = passage(
        "The council approved the ferry terminal plan on Monday. Weather was mild in the region all week."
    )
    answer = answerer.answer("When did the council approve the ferry terminal plan?", [council])
    assert not answer.abstained
    assert answer.answer == "The council approved the ferry terminal plan on Monday. [1]"
    [citation] = answer.citations
    assert council.text[citation.start : citation.end] == citation.quote
    weak = answerer.answer("What is the population of Mars colonies?", [council])
    assert weak.abstained and weak.citations == [] and "do not answer" in weak.answer
    assert answerer.answer("Anything?", []).abstained


def test_redundant_sentences_are_not_repeated():
    answerer = ExtractiveAnswerer(hash_embedder(), Settings(abstain_threshold=0.0))
    p1 = passage("Acme recalled 2.1 million vehicles over a steering defect.", article="a1")
    p2 = passage("Acme recalled 2.1 million vehicles over a steering defect, the company said.", article="a2")
    answer = answerer.answer("How many vehicles did Acme recall?", [p1, p2])
    assert len(answer.citations) == 1


def test_stream_yields_deltas_that_add_up_to_the_answer():
    answerer = ExtractiveAnswerer(hash_embedder(), Settings(abstain_threshold=0.0))
    passages = [passage("Dell benefits from the shift. Wistron builds the motherboards for Dell servers.")]
    events = list(answerer.stream("Who benefits from the shift and who builds motherboards?", passages))
    assert events[-1].kind == "done"
    assert "".join(e.text for e in events[:-1]) == events[-1].answer.answer


def test_an_if_clause_sets_the_scene_and_the_main_clause_picks_the_sentence():
    from rag.answer.extractive import condition_only_terms

    assert condition_only_terms(FLAGSHIP) == {"supermicro", "lose", "xai"}
    assert condition_only_terms("Which company did xAI shift its orders to?") == set()
    scene = (
        "Musk appeared publicly with Supermicro's CEO, who revealed that xAI bought Supermicro's servers. "
        "Dell, already a large maker of servers, reportedly benefits from this decision, just like Inventec."
    )
    elsewhere = "Parents could lose up to 15,000 dollars in government benefits and welfare rebates this year."
    rare = {"supermicro": 8.0, "xai": 8.0, "benefit": 3.7, "lose": 1.8}  # names rare in a large corpus
    answerer = ExtractiveAnswerer(hash_embedder(), Settings(), idf=lambda t: rare.get(t, 2.0))
    passages = [passage(scene, article="scene"), passage(elsewhere, article="other", index=0)]
    ranked = answerer.score(FLAGSHIP, passages)
    assert ranked[0].text.startswith("Dell, already a large maker of servers, reportedly benefits")
    answer = answerer.answer(FLAGSHIP, passages)
    assert "Dell" in answer.answer and "Parents" not in answer.answer  # the other passage lacks the scene


def test_a_title_that_holds_the_asked_figure_is_quoted_when_no_sentence_says_it():
    answerer = ExtractiveAnswerer(hash_embedder(), Settings(abstain_threshold=0.0))
    title = "xAI reportedly shifts $6 billion AI server order from Supermicro to Dell"
    report = passage(
        "xAI has shifted all its AI server orders from Supermicro to Dell. Dell benefits from it.", title=title
    )
    answer = answerer.answer("How much is the AI server order that xAI shifted?", [report])
    assert answer.answer.startswith(f"{title}. [1]")
    headline = answer.citations[0]
    assert (headline.part, headline.quote, headline.start, headline.end) == ("title", title, 0, len(title))
    assert all(c.part == "text" for c in answer.citations[1:])


def test_a_title_is_not_quoted_when_it_lacks_what_is_asked_or_the_text_says_it_too():
    answerer = ExtractiveAnswerer(hash_embedder(), Settings(abstain_threshold=0.0))
    question = "How much is the AI server order that xAI shifted?"
    for title in (
        "xAI reportedly shifts its AI server order from Supermicro to Dell",  # no amount
        "xAI reportedly shifts $6 billion AI server order from Supermicro to Dell",  # the text has it in full
    ):
        report = passage("xAI has shifted all its AI server orders, worth $6 billion, to Dell.", title=title)
        answer = answerer.answer(question, [report])
        assert [c.part for c in answer.citations] == ["text"] and "$6 billion" in answer.answer


def test_titles_cut_short_or_of_a_few_words_are_not_quotable():
    assert quotable_title("xAI reportedly shifts $6 billion AI server order")
    assert not quotable_title("Baby rockers have led to more than a dozen infant deaths ...")
    assert not quotable_title("Baby rockers have led to more than a dozen infant deaths …")
    assert not quotable_title("Markets: live updates")


def test_each_articles_title_is_one_candidate_however_many_of_its_chunks_are_retrieved():
    title = "Acme recalls 2.1 million vehicles over a steering defect"
    a = passage("The recall covers sedans built since 2019 in two plants.", index=0, title=title)
    b = passage("Owners will be notified by mail starting next month.", start=60, index=1, title=title)
    titles = [c for c in candidate_sentences([a, b]) if c.in_title]
    assert [(c.text, c.passage.chunk_id) for c in titles] == [(title, "a1:0")]


def test_a_sentence_that_asks_the_question_again_is_not_quoted_as_its_answer():
    answerer = ExtractiveAnswerer(hash_embedder(), Settings(abstain_threshold=0.0))
    quiz = passage(
        "Which retailer is being accused of turning off the air conditioning in its stores to save money? "
        "Shoppers at Northwind Stores said the air conditioning was switched off in its stores to save money.",
        article="quiz",
    )
    question = "Which retailer is being accused of turning off the air conditioning in its stores?"
    ranked = answerer.score(question, [quiz])
    assert [c.text for c in ranked] == [
        "Shoppers at Northwind Stores said the air conditioning was switched off in its stores to save money."
    ]
