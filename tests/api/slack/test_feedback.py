"""The feedback store (SQLite) and its export as an eval set."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

from api.slack.feedback import FeedbackStore, evalset_rows, export_evalset
from rag.types import Answer, Citation, Passage


def _answer(question: str, abstained: bool = False) -> Answer:
    cites = (
        []
        if abstained
        else [
            Citation(
                n=1,
                article_id="art1",
                chunk_id="art1:0",
                title="xAI shifts order",
                url="https://e.com/1",
                quote="Dell benefits.",
            ),
            Citation(
                n=2,
                article_id="art1",
                chunk_id="art1:1",
                title="xAI shifts order",
                url="https://e.com/1",
                quote="Wistron too.",
            ),
        ]
    )
    return Answer(question=question, answer="Dell [1] and Wistron [2].", citations=cites, abstained=abstained)


def test_answers_round_trip_with_passages(tmp_path: Path) -> None:
    store = FeedbackStore.for_data_dir(tmp_path)
    passage = Passage(chunk_id="c", article_id="a", index=0, text="t", start=0, end=1, title="T")
    answer_id = store.record_answer(_answer("q1"), "C1", "1.0", "U1", passages=[passage])
    got = store.get_answer(answer_id)
    assert got is not None and got.answer == _answer("q1") and got.channel == "C1" and got.passages == [passage]
    assert store.get_answer("missing") is None
    assert (tmp_path / "slack" / "feedback.sqlite3").exists()


def test_votes_replace_per_user_and_notes_attach(tmp_path: Path) -> None:
    store = FeedbackStore.for_data_dir(tmp_path)
    answer_id = store.record_answer(_answer("q1"), "C1", None, "U1")
    store.record_vote(answer_id, "U1", helpful=True)
    store.record_vote(answer_id, "U1", helpful=False)  # changed their mind
    assert store.add_note(answer_id, "U1", "wrong company")
    assert not store.add_note(answer_id, "U2", "no vote, no note")
    votes = store.votes()
    assert [(v.user, v.helpful, v.note) for v in votes] == [("U1", False, "wrong company")]


def test_claim_event_is_true_once_even_across_threads(tmp_path: Path) -> None:
    store = FeedbackStore.for_data_dir(tmp_path)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(store.claim_event("Ev1"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert FeedbackStore.for_data_dir(tmp_path).claim_event("Ev2") is True  # another process/instance


def test_export_evalset_format(tmp_path: Path) -> None:
    store = FeedbackStore.for_data_dir(tmp_path)
    good = store.record_answer(_answer("Who benefits?"), "C1", None, "U1")
    bad = store.record_answer(_answer("Who loses?", abstained=True), "C1", None, "U1")
    mixed = store.record_answer(_answer("What is Wistron?"), "C1", None, "U1")
    unvoted = store.record_answer(_answer("Not voted"), "C1", None, "U1")
    store.record_vote(good, "U1", True)
    store.record_vote(bad, "U1", False)
    store.add_note(bad, "U1", "the article says Supermicro loses")
    store.record_vote(mixed, "U1", True)
    store.record_vote(mixed, "U2", False)
    out = io.StringIO()
    assert export_evalset(store, out) == 3
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == [f"slack-{bad}", f"slack-{mixed}", f"slack-{good}"]  # not helpful first
    assert f"slack-{unvoted}" not in {r["id"] for r in rows}
    by_id = {r["id"]: r for r in rows}
    helpful = by_id[f"slack-{good}"]
    assert helpful["type"] == "feedback_helpful" and helpful["question"] == "Who benefits?"
    assert helpful["gold_article_ids"] == ["art1"] and helpful["gold_urls"] == ["https://e.com/1"]
    assert helpful["feedback"]["helpful"] == 1 and helpful["feedback"]["citations"][0]["quote"] == "Dell benefits."
    unhelpful = by_id[f"slack-{bad}"]
    assert unhelpful["type"] == "feedback_not_helpful" and "gold_article_ids" not in unhelpful
    assert unhelpful["feedback"]["notes"] == ["the article says Supermicro loses"]
    assert unhelpful["feedback"]["abstained"] is True
    mixed_row = by_id[f"slack-{mixed}"]
    assert mixed_row["type"] == "feedback_not_helpful"  # one "not helpful" is enough to need a look
    assert (mixed_row["feedback"]["helpful"], mixed_row["feedback"]["not_helpful"]) == (1, 1)
    for row in rows:  # the fields issue 4's format knows, plus the feedback context
        assert {"id", "question", "type", "as_of"} <= row.keys()
        assert row.keys() <= {
            "id",
            "question",
            "type",
            "as_of",
            "gold_article_ids",
            "gold_titles",
            "gold_urls",
            "feedback",
        }
    assert evalset_rows([]) == []
