"""Block Kit rendering: linked citations, sources with age, abstention, Slack's size limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from api.slack import render
from rag.types import Answer, Citation, Passage

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def citation(n: int, url: str | None = "https://example.com/a?x=1", published: datetime | None = None) -> Citation:
    return Citation(
        n=n,
        article_id=f"a{n}",
        chunk_id=f"a{n}:0",
        title=f"Title <{n}> & co",
        source="Tom’s Hardware",
        published=published,
        url=url,
        quote=f"Quote {n} with <b> & more.",
    )


def passage(i: int) -> Passage:
    return Passage(
        chunk_id=f"p{i}:0",
        article_id=f"p{i}",
        index=0,
        text="t",
        start=0,
        end=1,
        title=f"Close {i}",
        source="Reuters",
        url=f"https://example.com/{i}",
        published=NOW - timedelta(days=i),
    )


def test_citations_are_linked_and_text_escaped() -> None:
    text = render.link_citations("Dell <wins> & Wistron [1]; see [2] and [9].", [citation(1), citation(2, url=None)])
    assert text == "Dell &lt;wins&gt; &amp; Wistron <https://example.com/a?x=1|[1]>; see [2] and [9]."


def test_link_neutralises_characters_that_would_break_slack_links() -> None:
    assert render.link("https://e.com/a|b>c d", "x|y") == "<https://e.com/a%7Cb%3Ec%20d|x¦y>"
    assert render.link(None, "plain") == "*plain*"


def test_age_in_words() -> None:
    assert render.age(NOW - timedelta(seconds=5), NOW) == "just now"
    assert render.age(NOW - timedelta(hours=5), NOW) == "5 hours ago"
    assert render.age(NOW - timedelta(days=1, hours=2), NOW) == "yesterday"
    assert render.age(NOW - timedelta(days=3), NOW) == "3 days ago"
    assert render.age(NOW - timedelta(days=15), NOW) == "2 weeks ago"
    assert render.age(NOW - timedelta(days=800), NOW) == "2 years ago"
    assert render.age(None, NOW) == ""


def test_answer_blocks_have_sources_with_outlet_date_and_age() -> None:
    cited = citation(1, published=NOW - timedelta(days=3))
    answer = Answer(question="q", answer="Dell benefits [1].", citations=[cited])
    messages = render.render_answer(answer, [], "ans1", now=NOW)
    assert len(messages) == 1
    blocks = messages[0].blocks
    assert blocks[0]["text"]["text"] == "Dell benefits <https://example.com/a?x=1|[1]>."
    assert blocks[1] == {"type": "divider"}
    assert blocks[2]["text"]["text"] == (
        "*Sources*\n[1] <https://example.com/a?x=1|Title &lt;1&gt; &amp; co> · Tom’s Hardware · 2026-11-24 (3 days ago)"
    )
    actions = blocks[-1]["elements"]
    assert [a["action_id"] for a in actions] == [render.ACTION_QUOTES, render.ACTION_HELPFUL, render.ACTION_NOT_HELPFUL]
    assert {a["value"] for a in actions} == {"ans1"}
    assert messages[0].text == "Dell benefits [1]."


def test_abstention_says_so_and_shows_closest_distinct_sources() -> None:
    answer = Answer(question="q", answer="The indexed articles do not answer this question.", abstained=True)
    passages = [passage(1), passage(1), passage(2), passage(3), passage(4)]
    blocks = render.render_answer(answer, passages, "ans2", now=NOW)[0].blocks
    assert blocks[0]["text"]["text"] == render.ABSTAIN_LINE
    lines = blocks[1]["text"]["text"].split("\n")
    assert lines[0] == "*Closest sources I found:*"
    assert lines[1:] == [
        f"• <https://example.com/{i}|Close {i}> · Reuters · {(NOW - timedelta(days=i)).date()} "
        f"({'yesterday' if i == 1 else f'{i} days ago'})"
        for i in (1, 2, 3)
    ]
    assert [a["action_id"] for a in blocks[-1]["elements"]] == [render.ACTION_HELPFUL, render.ACTION_NOT_HELPFUL]


def test_shareable_answer_has_a_share_button_first() -> None:
    answer = Answer(question="q", answer="Dell [1].", citations=[citation(1)])
    actions = render.render_answer(answer, [], "a", shareable=True, now=NOW)[0].blocks[-1]["elements"]
    assert actions[0]["action_id"] == render.ACTION_SHARE and actions[0]["style"] == "primary"


def test_long_answers_respect_section_and_block_limits() -> None:
    sentence = "Dell and Wistron gain a very large order of servers from xAI this quarter [1]. "
    answer = Answer(question="q", answer=sentence * 200, citations=[citation(n) for n in range(1, 61)])
    messages = render.render_answer(answer, [], "long", now=NOW)
    for message in messages:
        assert len(message.blocks) <= render.MAX_BLOCKS and len(message.text) <= render.MAX_FALLBACK_CHARS
        for block in message.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= render.MAX_SECTION_CHARS
    every = "".join(b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section")
    assert every.count("|[1]>") == 200  # nothing was lost in the split
    assert all(f"[{n}] <" in every for n in range(1, 61))
    assert messages[-1].blocks[-1]["type"] == "actions"


def test_many_sources_split_into_several_messages() -> None:
    answer = Answer(question="q", answer="x [1].", citations=[citation(n) for n in range(1, 400)])
    answer.citations = [c.model_copy(update={"title": "T" * 2000}) for c in answer.citations]
    messages = render.render_answer(answer, [], "many", now=NOW)
    assert len(messages) > 1 and messages[1].text == "(continued)"
    assert sum(len(m.blocks) for m in messages) > render.MAX_BLOCKS
    assert all(len(m.blocks) <= render.MAX_BLOCKS for m in messages)


def test_split_text_prefers_boundaries() -> None:
    pieces = render.split_text("word " * 1000, limit=100)
    assert all(len(p) <= 100 for p in pieces) and all(not p.endswith(" ") for p in pieces)
    assert " ".join(pieces).split() == ["word"] * 1000
    assert render.split_text("x" * 250, limit=100) == ["x" * 100, "x" * 100, "x" * 50]


def test_quotes_view_shows_verbatim_quotes_escaped() -> None:
    view = render.quotes_view(Answer(question="q", answer="a [1]", citations=[citation(1)]), now=NOW)
    assert view["type"] == "modal" and "> Quote 1 with &lt;b&gt; &amp; more." in json.dumps(view["blocks"])


def test_progress_and_placeholder() -> None:
    assert render.placeholder().text == "Searching the news..."
    assert render.progress("Dell <gains>").blocks[0]["text"]["text"] == "Dell &lt;gains&gt; …"


HOSTILE = "Dell wins <!channel> <@U123ABC> <https://evil.example/phish|Click here> & more [1]."


def test_fallback_text_is_escaped_like_the_blocks() -> None:
    """Probe M7: the top-level text (notifications) carried mentions and disguised links unescaped."""
    answer = Answer(question="q", answer=HOSTILE, citations=[citation(1)])
    escaped = (
        "Dell wins &lt;!channel&gt; &lt;@U123ABC&gt; &lt;https://evil.example/phish|Click here&gt; &amp; more [1]."
    )
    assert render.render_answer(answer, [], "id", now=NOW)[0].text == escaped
    assert render.notice(HOSTILE).text == escaped
    assert render.progress(HOSTILE).text == escaped
    assert "<" not in render.fallback_text("&" * 5000) and not render.fallback_text("&" * 5000).endswith("&amp")


def test_only_http_urls_become_links() -> None:
    """Probe M6: a javascript: url became a Slack link."""
    assert render.link("javascript:alert(1)", "Title") == "*Title*"
    assert render.link("https://news.example/a", "Title") == "<https://news.example/a|Title>"
    hostile = citation(1).model_copy(update={"url": "javascript:alert(1)"})  # as if stored before the check
    assert render.link_citations("Dell [1].", [hostile]) == "Dell [1]."


def test_an_article_cited_twice_is_one_source_line_and_one_quote_block_with_both_quotes() -> None:
    from api.slack.render import answer_blocks, quotes_view
    from rag.types import Answer
    from tests.builders import citation as cite

    answer = Answer(
        question="q",
        answer="A. [1] B. [2] C. [3]",
        citations=[cite(1, "a", "A."), cite(2, "b", "B."), cite(3, "a", "C.")],
    )
    sources = answer_blocks(answer, [])[-1]["text"]["text"]
    assert sources.splitlines()[1:] == ["[1][3] *Ta* · O · undated", "[2] *Tb* · O · undated"]
    modal = [b["text"]["text"] for b in quotes_view(answer)["blocks"]]
    assert modal == ["[1][3] *Ta* · O · undated\n> [1] A.\n> [3] C.", "[2] *Tb* · O · undated\n> B."]
