from rag.answer.sources import group_by_article
from tests.builders import citation as _cite


def test_quotes_from_one_article_are_shown_under_that_article_once() -> None:
    groups = group_by_article([_cite(1, "a", "q1"), _cite(2, "b", "q2"), _cite(3, "a", "q3")])
    assert [(g.first.article_id, g.numbers, [c.quote for c in g.quotes]) for g in groups] == [
        ("a", [1, 3], ["q1", "q3"]),
        ("b", [2], ["q2"]),
    ]
    assert groups[0].markers == "[1][3]"


def test_articles_come_in_the_order_of_their_first_marker() -> None:
    groups = group_by_article([_cite(2, "b", "q2"), _cite(1, "a", "q1")])
    assert [g.first.article_id for g in groups] == ["a", "b"]
    assert group_by_article([]) == []
