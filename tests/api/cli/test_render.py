import pytest

from api.cli.render import print_answer
from rag.types import Answer, Citation
from tests.builders import citation


def _cite(n: int, article: str, quote: str) -> Citation:
    return citation(n, article, quote, title=f"Title {article}", source="Outlet", url=f"https://news.example/{article}")


def test_an_article_cited_twice_is_listed_once_with_both_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    answer = Answer(
        question="q",
        answer="First. [1] Second. [2] Third. [3]",
        citations=[_cite(1, "a", "First."), _cite(2, "b", "Second."), _cite(3, "a", "Third.")],
    )
    print_answer(answer)
    out = capsys.readouterr().out
    assert out.count("Title a") == 1 and out.count("https://news.example/a") == 1
    assert "[1][3] Title a — Outlet, undated" in out
    assert "[1] “First.”" in out and "[3] “Third.”" in out
    assert "[2] Title b — Outlet, undated" in out and "“Second.”" in out
