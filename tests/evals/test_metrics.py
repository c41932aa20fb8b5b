"""Each metric on hand-made cases whose right value is known, edge cases included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evals import metrics as m
from rag.answer.markers import with_markers
from rag.types import Answer, Article, Citation

TEXT = "Dell benefits from the decision. Wistron makes motherboards for Dell. The stock fell 35% in one day."


def cite(n: int, start: int, end: int, article_id: str = "a1", chunk_id: str = "c1") -> Citation:
    return Citation(n=n, article_id=article_id, chunk_id=chunk_id, quote=TEXT[start:end], start=start, end=end)


def article(text: str = TEXT, aid: str = "a1") -> Article:
    return Article(id=aid, text=text, ingested_at=datetime.now(UTC))


def ans(text: str, citations: list[Citation] | None = None, abstained: bool = False) -> Answer:
    return Answer(question="q", answer=text, citations=citations or [], abstained=abstained)


# ---- retrieval ------------------------------------------------------------------------------------
def test_hits_mrr_recall_count_distinct_articles():
    retrieved = ["a", "b", "a", "c", "d"]
    assert m.hits_at_k(retrieved, {"c"}, 1) == 0.0
    assert m.hits_at_k(retrieved, {"c"}, 3) == 1.0  # distinct ids: a, b, c
    assert m.mrr_at_k(retrieved, {"c"}, 10) == pytest.approx(1 / 3)
    assert m.mrr_at_k(retrieved, {"c"}, 2) == 0.0
    assert m.mrr_at_k(retrieved, {"a", "c"}, 10) == 1.0
    assert m.recall_at_k(retrieved, {"a", "d", "z"}, 4) == pytest.approx(2 / 3)
    assert m.recall_at_k(retrieved, {"a", "d", "z"}, 1) == pytest.approx(1 / 3)


def test_retrieval_metrics_without_gold_do_not_apply():
    assert m.hits_at_k(["a"], set(), 5) is None
    assert m.mrr_at_k(["a"], set()) is None
    assert m.recall_at_k(["a"], set(), 5) is None
    assert m.hits_at_k([], {"a"}, 10) == 0.0


def test_multihop_official_hit_is_fact_inside_a_top_k_chunk():
    chunks = ["Nothing here.", "Intro.  The   Justice Department is focused on the deals Google makes. More."]
    fact = "The Justice Department is focused on the deals Google makes."
    assert m.multihop_official_hit(chunks, [fact], 2) == 1.0  # whitespace-normalised
    assert m.multihop_official_hit(chunks, [fact], 1) == 0.0  # outside the cutoff
    assert m.multihop_official_hit(chunks, ["the justice department is focused"], 2) == 1.0  # case-folded
    assert m.multihop_official_hit(chunks, ["A fact that is nowhere."], 2) == 0.0
    assert m.multihop_official_hit(chunks, [], 2) is None


# ---- answers -------------------------------------------------------------------------------------
def test_contains_matches_whole_phrases_only():
    assert m.contains("$5", "The average price is $5 a gallon [1].")
    assert not m.contains("$5", "The record high was $5.02 a gallon.")
    assert not m.contains("Ford", "Fordham University said")
    assert m.contains("Dell", "Dell’s suppliers")
    assert m.contains("New Jersey & Oregon", "only in New Jersey and Oregon [2]")
    assert m.contains("“Squid Game”", 'Netflix renewed "Squid Game" [1]')
    assert m.contains("35%", "fell 35% in one day")


def test_multiple_choice_rule():
    choices = ["Eggs", "Milk", "Eggs and bacon", "Flour"]
    assert m.choice_correct(choices, 0, "Eggs rose most [1].")
    assert not m.choice_correct(choices, 0, "Eggs and milk rose [1].")  # another choice also named
    assert not m.choice_correct(choices, 1, "Flour rose [1].")  # the correct one is missing
    assert m.choice_correct(choices, 2, "Eggs and bacon rose [1].")  # 'Eggs' only inside the correct choice
    assert not m.choice_correct(choices, 0, "")


def test_correct_rules_and_abstention_edge_cases():
    assert m.correct(ans("", abstained=True), unanswerable=True) == 1.0
    assert m.correct(ans("Dell [1]"), unanswerable=True) == 0.0
    assert m.correct(ans("The articles do not say.", abstained=True), all_of=["Dell"]) == 0.0  # false abstention
    assert m.correct(ans("Dell and Wistron [1]"), all_of=["dell", "wistron"]) == 1.0
    assert m.correct(ans("Dell [1]"), all_of=["Dell", "Wistron"]) == 0.0
    assert m.correct(ans("Q1 2025 [1]"), any_of=[["first quarter of 2025", "Q1 2025"]]) == 1.0
    assert m.correct(ans("Q1 2025 [1]"), any_of=[["first quarter of 2025"], ["Inventec"]]) == 0.0
    assert m.correct(ans(""), all_of=["Dell"]) == 0.0  # empty answer
    assert m.correct(ans("Dell"), choices=["Dell", "HP"], answer_index=0) == 1.0
    assert m.correct(ans("anything")) is None  # answerable without gold


def test_abstention_precision_recall_false_rate():
    c = m.AbstentionCounts()
    for unanswerable, abstained in [
        (True, True),
        (True, False),
        (True, True),
        (False, True),
        (False, False),
        (False, False),
        (False, False),
    ]:
        c.add(unanswerable, abstained)
    assert m.abstention_precision(c) == pytest.approx(2 / 3)
    assert m.abstention_recall(c) == pytest.approx(2 / 3)
    assert m.false_abstention_rate(c) == pytest.approx(1 / 4)
    empty = m.AbstentionCounts()
    assert m.abstention_precision(empty) is None and m.abstention_recall(empty) is None
    assert m.false_abstention_rate(empty) is None


# ---- citations -----------------------------------------------------------------------------------
def test_markers_resolve():
    assert m.markers_resolve(ans("Dell [1]", [cite(1, 0, 32)])) == 1.0
    assert m.markers_resolve(ans("Dell [1] and Wistron [3]", [cite(1, 0, 32)])) == 0.0  # [3] has no source
    assert m.markers_resolve(ans("Dell benefits.", [])) == 0.0  # nothing cited
    assert m.markers_resolve(ans("", abstained=True)) is None


def test_quotes_verbatim_uses_offsets_and_the_article():
    good = cite(1, 0, 32)
    assert m.quote_verbatim(good, article())
    shifted = good.model_copy(update={"start": 1, "end": 33})
    assert not m.quote_verbatim(shifted, article())
    edited = good.model_copy(update={"quote": "Dell benefits from the choice."})
    assert not m.quote_verbatim(edited, article())
    no_offsets = good.model_copy(update={"start": None, "end": None})
    assert m.quote_verbatim(no_offsets, article())
    assert not m.quote_verbatim(good, None)  # the article is gone
    answer = ans("x [1] y [2]", [good, edited])
    assert m.quotes_verbatim(answer, lambda aid: article()) == 0.5
    assert m.quotes_verbatim(ans("no citations"), lambda aid: article()) is None


def test_a_quote_of_the_title_is_checked_against_the_title():
    headline = "xAI shifts $6 billion AI server order"
    quoted = Citation(n=1, article_id="a1", chunk_id="c1", quote=headline, start=0, end=len(headline), part="title")
    titled = article().model_copy(update={"title": headline})
    assert m.quote_verbatim(quoted, titled)
    assert not m.quote_verbatim(quoted, article())  # an article with no such title
    assert not m.quote_verbatim(quoted.model_copy(update={"part": "text"}), titled)  # not in the text


def test_statements_attach_trailing_markers():
    got = m.statements("Dell benefits from the decision. [1] Wistron makes motherboards. [2][3] Unsupported claim.")
    assert got == [
        ("Dell benefits from the decision.", [1]),
        ("Wistron makes motherboards.", [2, 3]),
        ("Unsupported claim.", []),
    ]


def test_statements_read_markers_the_way_the_product_writes_and_parses_them():
    written = " ".join(
        with_markers(claim, numbers) for claim, numbers in [("Dell gains.", [1, 2]), ("Wistron too.", [3])]
    )
    assert m.statements(written) == [("Dell gains.", [1, 2]), ("Wistron too.", [3])]
    # an LLM's own spellings, as the citation verifier reads them: a list marker and a marker before the stop
    assert m.statements("Dell gains [1, 2]. Wistron too [3].") == [("Dell gains.", [1, 2]), ("Wistron too.", [3])]


def substring_judge(passage: str, statement: str) -> bool:
    return statement.rstrip(".") in passage


def test_alce_recall_and_precision_by_definition():
    passages = {
        "c1": "Dell benefits from the decision.",
        "c2": "Wistron makes motherboards for Dell.",
        "c3": "Unrelated text about the weather.",
    }
    cites = [Citation(n=i, article_id="a", chunk_id=f"c{i}", quote=passages[f"c{i}"]) for i in (1, 2, 3)]
    text = "Dell benefits from the decision [1][3]. Wistron makes motherboards for Dell [2]. It rained [9]. Hi."
    scores = m.alce_citation_scores(ans(text, cites), lambda c: passages[c.chunk_id], substring_judge)
    assert scores is not None
    # 4 sentences, 2 supported ([9] has no source; the last cites nothing)
    assert scores.recall == pytest.approx(2 / 4)
    # citations: [1] precise, [3] irrelevant (alone no, rest still yes), [2] precise, [9] not precise -> 2/4
    assert scores.precision == pytest.approx(2 / 4)
    assert scores.citations == 4


def test_alce_needed_joint_citations_are_both_precise():
    passages = {"c1": "Dell benefits", "c2": "from the decision"}
    cites = [Citation(n=i, article_id="a", chunk_id=f"c{i}", quote=passages[f"c{i}"]) for i in (1, 2)]
    scores = m.alce_citation_scores(
        ans("Dell benefits from the decision [1][2].", cites),
        lambda c: passages[c.chunk_id],
        lambda p, s: s.rstrip(".").replace("\n", " ") in p.replace("\n", " "),
    )
    assert scores is not None and scores.recall == 1.0 and scores.precision == 1.0


def test_alce_edge_cases():
    assert m.alce_citation_scores(ans("", abstained=True), lambda c: "", substring_judge) is None
    assert m.alce_citation_scores(ans("   "), lambda c: "", substring_judge) is None
    no_cites = m.alce_citation_scores(ans("Dell benefits."), lambda c: "", substring_judge)
    assert no_cites is not None and no_cites.recall == 0.0 and no_cites.precision is None


def test_percentile_and_mean():
    values = [float(v) for v in range(1, 101)]
    assert m.percentile(values, 50) == pytest.approx(50.5)
    assert m.percentile(values, 95) == pytest.approx(95.05)
    assert m.percentile([7.0], 95) == 7.0
    assert m.percentile([], 50) is None
    assert m.mean([1.0, None, 0.0]) == 0.5
    assert m.mean([None]) is None
