from api.http.routes.openai import source_list
from rag.types import Citation
from tests.builders import citation


def _cite(n: int, article: str, quote: str) -> Citation:
    return citation(n, article, quote, url=f"https://news.example/{article}")


def test_the_sources_text_lists_an_article_once_with_each_of_its_quotes() -> None:
    text = source_list([_cite(1, "a", "A."), _cite(2, "b", "B."), _cite(3, "a", "C.")])
    assert text.splitlines() == [
        "",
        "",
        "Sources:",
        "[1][3] Ta (O) https://news.example/a",
        '    [1] "A."',
        '    [3] "C."',
        "[2] Tb (O) https://news.example/b",
        '    "B."',
    ]
    assert source_list([]) == ""
