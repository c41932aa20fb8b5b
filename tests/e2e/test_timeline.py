"""A timeline over a real Chroma store: dated stories oldest first with verbatim citations, the undated one
apart; ``ask`` answers a timeline question that way; the CLI and ``POST /v1/timeline`` (4xx for bad dates)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.cli import main
from api.http.app import create_app
from ingest.engine import Engine
from ingest.readers import RawDocument
from rag.settings import Settings
from rag.text.tokens import tokenize
from tests.fakes.hash_embedder import HASH_MODEL, hash_embedder

STORY = [  # (title, outlet, published, text): given out of date order
    (
        "Itaewon crush: police chief resigns",
        "Reuters",
        "2022-11-08",
        "Seoul's police chief resigned on Tuesday over the Itaewon crowd crush. He said officers had failed to "
        "respond to emergency calls made hours before the crowd crush in the Itaewon district.",
    ),
    (
        "Crowd crush in Seoul's Itaewon kills 154",
        "CNN",
        "2022-10-30",
        "At least 154 people were killed in a crowd crush during Halloween festivities in Itaewon, Seoul. "
        "Crowds had packed a narrow alley in the Itaewon nightlife district, according to Yonhap.",
    ),
    (
        "South Korea mourns Itaewon victims",
        "AP",
        "2022-10-31",
        "South Korea declared a week of national mourning after the Itaewon crowd crush. President Yoon "
        "Suk Yeol visited the alley in Itaewon where the crowd crush happened.",
    ),
]
UNDATED = (
    "Itaewon after the crowd crush",
    "Blog",
    None,
    "Shops in Itaewon reopened slowly after the crowd crush, their owners told the Korea Herald.",
)
UNRELATED = ("Rain in Seattle", "KOMO", "2022-11-01", "Rain fell in Seattle for the whole week, forecasters said.")


def _docs() -> list[RawDocument]:
    return [
        RawDocument(text=text, origin=f"test:{title}", title=title, source=source, published=published)
        for title, source, published, text in [*STORY, UNDATED, UNRELATED]
    ]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("timeline") / "data"
    Engine(Settings(data_dir=data_dir, embed_model=HASH_MODEL), embedder=hash_embedder()).ingest_documents(_docs())
    return data_dir


@pytest.fixture
def engine(data_dir: Path) -> Engine:
    return Engine(Settings(data_dir=data_dir, embed_model=HASH_MODEL), embedder=hash_embedder())


def test_the_timeline_lists_dated_stories_oldest_first_and_the_undated_one_apart(engine: Engine) -> None:
    timeline = engine.timeline("Itaewon crowd crush")
    assert [e.title for e in timeline.entries] == [
        "Crowd crush in Seoul's Itaewon kills 154",
        "South Korea mourns Itaewon victims",
        "Itaewon crush: police chief resigns",
    ]
    assert [e.title for e in timeline.undated] == ["Itaewon after the crowd crush"]
    for e in [*timeline.entries, *timeline.undated]:
        article = engine.store.get_article(e.citation.article_id)
        assert article.text[e.citation.start : e.citation.end] == e.citation.quote  # verbatim
        assert e.citation.chunk_id.startswith(article.id)
    assert [e.citation.n for e in [*timeline.entries, *timeline.undated]] == [1, 2, 3, 4]
    assert timeline.undated[0].citation.reported_by == "Korea Herald"


def test_a_window_keeps_the_stories_inside_it_and_still_lists_the_undated_one(engine: Engine) -> None:
    from rag.text.dates import parse_date
    from rag.types import Filters

    window = Filters(since=parse_date("2022-10-31"), until=parse_date("2022-11-30", end_of_day=True))
    timeline = engine.timeline("Itaewon crowd crush", window)
    assert [e.source for e in timeline.entries] == ["AP", "Reuters"]
    assert [e.source for e in timeline.undated] == ["Blog"]


def test_ask_answers_a_timeline_question_with_one_cited_line_per_story(engine: Engine) -> None:
    answer = engine.ask("What has happened with the Itaewon crowd crush since October 31, 2022?")
    lines = answer.answer.splitlines()
    assert [line[:10] for line in lines] == ["2022-10-31", "2022-11-08", "Undated:", "undated — "]
    assert lines[0].startswith("2022-10-31 — AP: South Korea declared a week of national mourning")
    assert [c.n for c in answer.citations] == [1, 2, 3]
    assert all(f"[{c.n}]" in answer.answer for c in answer.citations)


def test_the_cli_prints_the_timeline_as_json(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSQA_EMBED_MODEL", HASH_MODEL)
    assert (
        main(["--data-dir", str(data_dir), "timeline", "Itaewon crowd crush", "--since", "2022-11-01", "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [e["source"] for e in out["entries"]] == ["Reuters"]
    assert (
        main(["--data-dir", str(data_dir), "timeline", "Itaewon", "--since", "2022-12-01", "--until", "2022-11-01"])
        == 2
    )


def test_the_http_route_answers_and_refuses_bad_dates(engine: Engine) -> None:
    with TestClient(create_app(engine.settings, engine), raise_server_exceptions=False) as client:
        ok = client.post("/v1/timeline", json={"query": "Itaewon crowd crush", "since": "2022-10-31"})
        assert ok.status_code == 200
        assert [e["source"] for e in ok.json()["entries"]] == ["AP", "Reuters"]
        bad = client.post("/v1/timeline", json={"query": "Itaewon", "since": "last Tuesday"})
        assert bad.status_code == 422
        assert "not a date: 'last Tuesday'" in bad.json()["error"]["message"]
        swapped = client.post("/v1/timeline", json={"query": "Itaewon", "since": "2022-12-01", "until": "2022-11-01"})
        assert swapped.status_code == 422
        assert "since (2022-12-01) is after until (2022-11-01)" in swapped.json()["error"]["message"]
        assert client.post("/v1/timeline", json={"query": ""}).status_code == 422
        assert client.post("/v1/timeline", json={"query": "x", "when": "2022"}).status_code == 422


def test_a_streamed_timeline_question_sends_the_whole_timeline_then_done(engine: Engine) -> None:
    events = list(engine.stream("timeline of the Itaewon crowd crush"))
    assert [e.kind for e in events] == ["sources", "delta", "done"]
    final = events[-1].answer
    assert final is not None and events[1].text == final.answer
    assert final.answer.splitlines()[0].startswith("2022-10-30 — CNN: At least 154 people were killed")


@pytest.mark.slow  # ~20 s: reads the 7.7 MB corpus and indexes 40-odd articles
def test_a_timeline_over_realtime_qa_articles_lists_the_artemis_story_in_date_order(tmp_path: Path) -> None:
    from tests.conftest import SHARED_DATA

    corpus_file = SHARED_DATA / "realtimeqa" / "corpus.json"
    if not corpus_file.exists():
        pytest.skip(f"RealTime QA corpus not found at {corpus_file}")
    docs = json.loads(corpus_file.read_text(encoding="utf-8"))
    story = [d for d in docs if "Artemis" in (d.get("text") or "")]
    others = [d for d in docs if "Artemis" not in (d.get("text") or "")][:20]  # distractors
    subset = tmp_path / "corpus.json"
    subset.write_text(json.dumps(story + others), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", embed_model=HASH_MODEL)
    engine = Engine(settings, embedder=hash_embedder())
    engine.ingest_paths([subset])

    timeline = engine.timeline("Artemis I launch")
    dates = [e.published for e in timeline.entries]
    assert len(dates) >= 10 and dates == sorted(dates)  # type: ignore[type-var]
    urls = [e.url or "" for e in timeline.entries]
    scrubbed = next(i for i, u in enumerate(urls) if "2022/08/29/world/nasa-artemis-1-launch" in u)
    new_date = next(i for i, u in enumerate(urls) if "2022/09/12/world/nasa-artemis-1-next-launch" in u)
    assert scrubbed < new_date
    for e in timeline.entries:
        text = engine.store.get_article(e.citation.article_id).text
        assert text[e.citation.start : e.citation.end] == e.citation.quote
        assert {"artemi", "launch"} & set(tokenize([e.citation.quote])[0])  # the quote holds a query term
