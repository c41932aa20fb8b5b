"""Every display names who a relayed quote credits ("Tom's Hardware, citing UDN.com") and how many
independent sources the answer rests on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.cli.render import print_answer
from api.http.routes.openai import source_list
from api.slack import render as slack
from rag.answer.attribution import attribute
from rag.types import Answer
from tests.builders import citation

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def _answer() -> Answer:
    answer = Answer(
        question="q",
        answer="xAI moved its orders to Dell. [1] Dell gains. [2]",
        citations=[
            citation(1, "a", "xAI moved its orders to Dell, reports UDN.com.", source="Tom's Hardware", url=None),
            citation(2, "b", "Dell gains, UDN.com reported.", source="DigiTimes", url=None),
        ],
    )
    return attribute(answer)


def test_the_cli_names_the_credited_source_and_counts_one_original(capsys: pytest.CaptureFixture[str]) -> None:
    print_answer(_answer())
    out = capsys.readouterr().out
    assert "Sources (2 articles, 1 independent source)" in out
    assert "[1] Ta — Tom's Hardware, citing UDN.com, undated" in out
    assert "[2] Tb — DigiTimes, citing UDN.com, undated" in out


def test_the_openai_sources_text_names_the_credited_source() -> None:
    lines = source_list(_answer().citations).splitlines()
    assert lines[2:] == [
        "Sources (2 articles, 1 independent source):",
        "[1] Ta (Tom's Hardware, citing UDN.com)",
        '    "xAI moved its orders to Dell, reports UDN.com."',
        "[2] Tb (DigiTimes, citing UDN.com)",
        '    "Dell gains, UDN.com reported."',
    ]


def test_slack_sources_name_the_credited_source() -> None:
    blocks = slack.answer_blocks(_answer(), [], NOW)
    sources = blocks[-1]["text"]["text"]
    assert sources.splitlines() == [
        "*Sources* (2 articles, 1 independent source)",
        "[1] *Ta* · Tom's Hardware, citing UDN.com · undated",
        "[2] *Tb* · DigiTimes, citing UDN.com · undated",
    ]
