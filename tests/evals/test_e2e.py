"""The eval runner end to end: real engine, real Chroma, the real model; the CLI, the cache and the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main
from evals.report import build_report
from evals.runner import MARKER_FILE, Runner, RunOptions, prepare_engine, store_dir
from evals.sets import EvalItem, EvalSet, jsonl_set, sample_set
from rag.settings import Settings
from tests.conftest import SEED

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "evals" / "baselines" / "sample.json"


@pytest.fixture(scope="module")
def patched_model(embedder):
    """The CLI runs in-process with the session's model instead of loading its own."""
    mp = pytest.MonkeyPatch()
    mp.setattr("rag.engine.load_embedder", lambda *a, **k: embedder)
    yield embedder
    mp.undo()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, patched_model):
    """The whole sample set through `newsqa eval`, gated on the committed baseline (the `make test` gate)."""
    data = tmp_path_factory.mktemp("evals") / "data"
    out = data.parent / "report"
    rc = main(
        [
            "--data-dir",
            str(data),
            "eval",
            "sample",
            "--report",
            str(out),
            "--baseline",
            str(BASELINE),
            "--gate",
            "--json",
        ]
    )
    return data, out, rc


@pytest.mark.slow  # the sample gate: 32 questions through the real engine (~60 s)
def test_sample_set_meets_the_committed_baseline(sample_run):
    _, out, rc = sample_run
    assert rc == 0, (out / "report.md").read_text()[:3000]
    report = json.loads((out / "report.json").read_text())
    s = report["summary"]
    assert s["n"] == len(sample_set().items) and s["n_unanswerable"] >= 6
    assert s["quotes_verbatim"] == 1.0 and s["citations_resolve"] == 1.0
    assert s["hits@1"] == 1.0  # one article: gold titles resolve to it
    assert s["latency_p95_ms"] >= s["latency_p50_ms"] > 0
    assert "lexical+embedding" in report["judge"]
    q = report["questions"][0]
    assert q["retrieved_article_ids"] and q["citations"] and "correct" in q["metrics"]
    assert {d["metric"] for d in report["baseline_diff"]} >= {"correct", "abstention_recall", "citation_precision"}
    assert (out / "report.md").exists() and "<svg" in (out / "report.html").read_text()


@pytest.mark.slow  # a second sample-gate run
def test_second_run_reuses_the_store_and_the_gate_fails_on_a_worse_baseline(sample_run, tmp_path, capsys):
    data, _, _ = sample_run
    settings = Settings(data_dir=data)
    cache = store_dir(settings, sample_set())
    marker = (cache / MARKER_FILE).read_text()
    from ingest.engine import Engine

    generation = Engine(settings.model_copy(update={"data_dir": cache})).store.generation()

    mine = tmp_path / "base.json"
    rc = main(
        [
            "--data-dir",
            str(data),
            "eval",
            "sample",
            "--limit",
            "4",
            "--report",
            str(tmp_path / "r1"),
            "--write-baseline",
            str(mine),
            "--fail-under",
            "quotes_verbatim=1.0",
        ]
    )
    assert rc == 0
    assert (cache / MARKER_FILE).read_text() == marker  # not re-ingested
    assert Engine(settings.model_copy(update={"data_dir": cache})).store.generation() == generation
    assert sorted(p.name for p in (data / "evals").iterdir()) == [cache.name]

    # the same run against its own baseline passes; against a better one it fails
    rc = main(
        [
            "--data-dir",
            str(data),
            "eval",
            "sample",
            "--limit",
            "4",
            "--report",
            str(tmp_path / "r2"),
            "--baseline",
            str(mine),
            "--gate",
        ]
    )
    assert rc == 0
    better = json.loads(mine.read_text())
    better["summary"] = {
        k: (v + 0.2 if isinstance(v, float) and not k.startswith("latency") else v)
        for k, v in better["summary"].items()
    }
    better["tolerances"] = {"correct": 0.05}
    worse_path = tmp_path / "better-baseline.json"
    worse_path.write_text(json.dumps(better))
    capsys.readouterr()
    rc = main(
        [
            "--data-dir",
            str(data),
            "eval",
            "sample",
            "--limit",
            "4",
            "--report",
            str(tmp_path / "r3"),
            "--baseline",
            str(worse_path),
            "--gate",
            "--fail-under",
            "correct=1.01",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert "error: correct regressed" in err and "error: correct = " in err and "under 1.01" in err
    diff = json.loads((tmp_path / "r3" / "report.json").read_text())["baseline_diff"]
    assert any(d["metric"] == "correct" and d["regressed"] for d in diff)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["eval", "nope"], "unknown eval set 'nope'"),
        (["eval", "sample", "--gate"], "--gate needs --baseline"),
        (["eval", "sample", "--limit", "0"], "--limit must be at least 1"),
        (["eval", "sample", "--fail-under", "correct"], "METRIC=VALUE"),
        (["eval", "sample", "--baseline", "/nonexistent.json"], "baseline not found"),
        (["eval", "sample", "--gold-context"], "has no context"),
        (["eval", str(ROOT / "evals" / "data" / "sample.jsonl")], "give the articles to ask over with --corpus"),
    ],
)
def test_cli_rejects_bad_input_with_one_line(argv, message, tmp_path, capsys):
    rc = main(["--data-dir", str(tmp_path / "d"), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1 and message in err[0] and err[0].startswith("error: ")


def test_jsonl_set_with_its_corpus_as_of_and_gold_urls(tmp_path, embedder, monkeypatch):
    corpus = tmp_path / "corpus.jsonl"
    filler = " The deal was announced in a statement to investors and reported by several outlets."
    corpus.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "url": "https://news.example/acme-buys",
                    "title": "Acme buys Widget Co",
                    "published": "2024-01-10",
                    "text": "Acme agreed to buy Widget Co for $5 million in cash." + filler,
                },
                {
                    "url": "https://news.example/acme-sells",
                    "title": "Acme sells Widget Co",
                    "published": "2024-06-10",
                    "text": "Acme agreed to sell Widget Co to Gadget Inc for $9 million." + filler,
                },
            ]
        )
        + "\n"
    )
    questions = tmp_path / "qs.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "q1",
                "question": "How much did Acme pay for Widget Co?",
                "type": "numeric",
                "as_of": "2024-02-01",
                "all_of": ["$5 million"],
                "gold_urls": ["https://news.example/acme-buys?utm_source=feed"],
            }
        )
        + "\n"
    )
    evalset = jsonl_set(questions, [corpus])
    engine = prepare_engine(Settings(data_dir=tmp_path / "data"), evalset, embedder=embedder)
    result = Runner(engine).run(evalset)
    q = result.questions[0]
    assert q.metrics["hits@1"] == 1.0 and q.metrics["mrr@10"] == 1.0
    assert len(q.retrieved_article_ids) == 1  # the later article is invisible as of 2024-02-01
    assert q.metrics["correct"] == 1.0 and q.metrics["quotes_verbatim"] == 1.0
    # a store built under another id scheme: gold URLs still match the stored articles' URLs
    monkeypatch.setattr("evals.sets.article_id", lambda *a: "id-from-another-scheme")
    again = Runner(engine).run(evalset).questions[0]
    assert again.metrics["hits@1"] == 1.0 and "id-from-another-scheme" in again.gold.article_ids


def test_gold_context_answers_from_the_given_evidence(engine):
    sentence = next(line for line in SEED.read_text(encoding="utf-8").splitlines() if "convertible notes" in line)
    item = EvalItem(
        id="g1",
        question="How much in convertible notes would Supermicro have to repay?",
        all_of=["$1.725 billion"],
        context=[
            {"title": "Supermicro", "url": "https://example.com/smci", "text": sentence},
            {
                "title": "Supermicro",
                "url": "https://example.com/smci",
                "text": "Supermicro needed to submit a plan by November 16 explaining the delay.",
            },
        ],
    )
    result = Runner(engine, options=RunOptions(gold_context=True)).run(EvalSet("ctx", [item]))
    q = result.questions[0]
    assert q.metrics["correct"] == 1.0, q.answer
    assert q.metrics["quotes_verbatim"] == 1.0 and q.metrics["citations_resolve"] == 1.0
    assert "hits@1" not in q.metrics and q.retrieved_article_ids == []
    assert build_report(result)["options"]["gold_context"] is True


def test_existing_store_is_used_as_is(seeded_engine, embedder):
    evalset = sample_set().limit(2)
    engine = prepare_engine(
        seeded_engine.settings, evalset, embedder=embedder, existing_store=seeded_engine.settings.data_dir
    )
    assert engine.settings.data_dir == seeded_engine.settings.data_dir
    result = Runner(engine).run(evalset)
    assert not (seeded_engine.settings.data_dir / "evals").exists()
    answerable = [q for q in result.questions if not q.unanswerable]
    assert answerable and all(q.metrics["hits@1"] == 1.0 for q in answerable)
