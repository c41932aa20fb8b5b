"""Eval sets: the project's own data, the JSONL format and the loaders of the shared data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.sets import (
    DATA,
    EvalItem,
    load_jsonl,
    multihop_set,
    realtimeqa_items,
    resolve_set,
    sample_set,
)
from rag.errors import InputError
from rag.text.ids import article_id
from tests.conftest import SEED, SHARED_DATA

needs_shared = pytest.mark.skipif(not (SHARED_DATA / "realtimeqa").exists(), reason="shared eval data not present")


def test_sample_set_is_grounded_in_the_article():
    s = sample_set()
    text = SEED.read_text(encoding="utf-8").casefold()
    unanswerable = [i for i in s.items if i.unanswerable]
    assert len(s.items) >= 24 and len(unanswerable) >= 6
    assert s.corpus_paths == [SEED] or s.corpus_paths[0].name == SEED.name
    for item in s.items:
        if item.unanswerable:
            continue
        assert item.all_of or item.any_of, item.id
        for needle in item.all_of:
            assert needle.casefold() in text, (item.id, needle)
        for group in item.any_of:
            assert any(alt.casefold() in text for alt in group), (item.id, group)


def test_jsonl_errors_name_file_line_and_field(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Q?"}\n{"id": "b"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: question: Field required"):
        load_jsonl(bad)
    bad.write_text('{"id": "a", "question": "Q?"}\n{"id": "a", "question": "R?"}\n')
    with pytest.raises(InputError, match="duplicate id 'a'"):
        load_jsonl(bad)
    bad.write_text('{"id": "a", "question": "Q?", "choices": ["x", "y"], "answer_index": 5}\n')
    with pytest.raises(InputError, match="answer_index must index into choices"):
        load_jsonl(bad)
    bad.write_text('{"id": "a", "question": "Q?", "unanswerable": true, "all_of": ["x"]}\n')
    with pytest.raises(InputError, match="unanswerable question has no all_of"):
        load_jsonl(bad)
    with pytest.raises(InputError, match="eval set not found"):
        load_jsonl(tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="unknown eval set 'nope'"):
        resolve_set("nope", tmp_path)


def test_jsonl_set_needs_existing_corpus(tmp_path: Path):
    good = tmp_path / "mine.jsonl"
    good.write_text(
        '{"id": "a", "question": "Who?", "all_of": ["Dell"], "gold_urls": ["https://x.com/a?utm_source=z"]}\n'
    )
    s = resolve_set(str(good), tmp_path, [SEED])
    assert s.name == "mine" and s.corpus_paths == [SEED]
    assert s.items[0].gold_ids() == {article_id("https://x.com/a", None, None, "")}  # canonical URL
    with pytest.raises(InputError, match="corpus path not found"):
        resolve_set(str(good), tmp_path, [tmp_path / "nothing"])


def test_limit_keeps_every_type():
    s = sample_set().limit(6)
    assert len(s.items) == 6
    assert "unanswerable" in {i.type for i in s.items}
    assert sample_set().limit(None).items == sample_set().items


def test_corpus_key_changes_with_content_and_settings(tmp_path: Path):
    f = tmp_path / "a.txt"
    f.write_text("one " * 50)
    s = resolve_set(str(DATA / "sample.jsonl"), tmp_path, [f])
    k1 = s.corpus_key("model", 200)
    assert s.corpus_key("model", 200) == k1
    assert s.corpus_key("model", 100) != k1
    f.write_text("two " * 50)
    assert s.corpus_key("model", 200) != k1


@needs_shared
def test_realtimeqa_unanswerable_file_matches_the_questions():
    questions = {q["question_id"]: q for q in json.loads((SHARED_DATA / "realtimeqa" / "questions.json").read_text())}
    items = load_jsonl(DATA / "realtimeqa_unanswerable.jsonl")
    assert len(items) >= 60
    for item in items:
        assert item.unanswerable and item.type.startswith("unanswerable")
        related = questions[item.model_extra["related_id"]]
        assert item.as_of == related["question_date"].replace("/", "-")


@needs_shared
def test_realtimeqa_loader_maps_gold_to_ingest_ids():
    items = realtimeqa_items(SHARED_DATA)
    corpus = json.loads((SHARED_DATA / "realtimeqa" / "corpus.json").read_text())
    url_of = {d["doc_id"]: d["url"] for d in corpus}
    raw = json.loads((SHARED_DATA / "realtimeqa" / "questions.json").read_text())
    assert len(items) == len(raw) == 206
    for item, q in zip(items, raw, strict=True):
        assert item.choices == q["choices"] and item.answer_index == int(q["answer"][0])
        assert item.as_of == q["question_date"].replace("/", "-")
        expected = {article_id(url_of[d], None, None, "") for d in q["gold_doc_ids"]}
        assert expected <= item.gold_ids()


@needs_shared
def test_multihop_loader_builds_fact_mini_articles():
    s = multihop_set(SHARED_DATA)
    assert len(s.items) == 500
    null = [i for i in s.items if i.type == "null_query"]
    assert null and all(i.unanswerable and not i.all_of for i in null)
    answered = [i for i in s.items if not i.unanswerable]
    assert all(i.all_of and i.gold_facts and i.context for i in answered)
    docs = s.corpus_docs() if s.corpus_docs else []
    urls = {u for i in s.items for u in i.gold_urls}
    assert {d.url for d in docs} == urls
    # every gold fact is verbatim in its mini-article, so the official hit rule can match it
    by_url = {d.url: d.text for d in docs}
    for i in answered[:50]:
        for ctx in i.context:
            assert ctx["text"] in by_url[ctx["url"]]


def test_eval_item_keeps_unknown_keys():
    item = EvalItem.model_validate({"id": "x", "question": "Q?", "related_id": "r1"})
    assert item.model_extra == {"related_id": "r1"}


@pytest.mark.slow  # embeds and checks every RealTime QA unanswerable question (~55 s)
@needs_shared
def test_realtimeqa_unanswerable_checks_still_hold():
    """Each unanswerable question records the keyword search that showed the corpus lacks its answer: a
    pattern searched in the articles matching a topic, with the number of matches a reviewer read and found
    not to answer it (0 for most). The corpus must still give exactly those matches."""
    import re

    corpus = json.loads((SHARED_DATA / "realtimeqa" / "corpus.json").read_text())
    docs = [f"{d.get('title') or ''}\n{d.get('text') or ''}" for d in corpus]
    for item in load_jsonl(DATA / "realtimeqa_unanswerable.jsonl"):
        check = item.model_extra["check"]
        found = sum(len(re.findall(check["pattern"], t, re.I)) for t in docs if re.search(check["topic"], t, re.I))
        assert found == check["reviewed_hits"], item.id
