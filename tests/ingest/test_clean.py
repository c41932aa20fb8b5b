from ingest.clean import clean_page
from rag.text.normalize import is_call_to_action, normalize_text
from tests.conftest import FIXTURES, SEED

BOILERPLATE = [
    "Get all your news in one place",
    "Sign up to read this article",
    "Related Stories",
    "Download the app",
    "Start reading",
    "Our Picks",
    "Already a member",
]


def test_seed_article_comes_out_as_the_article_alone():
    page = clean_page(SEED.read_text(encoding="utf-8"))
    assert (
        page.title
        == "Elon Musk's xAI reportedly shifts $6 billion AI server order from troubled Supermicro to its rivals"
    )
    assert page.source.replace("’", "'") == "Tom's Hardware"
    assert page.authors == ["Anton Shilov"]
    assert page.text.startswith("xAI, Elon Musk’s AI startup")
    assert page.text.endswith("could severely harm the company.")
    for line in [*BOILERPLATE, "Supermicro headquarters seen in daylight.", "Technology"]:
        assert line not in page.text


def test_second_aggregator_page_with_different_boilerplate():
    page = clean_page((FIXTURES / "aggregator_page.txt").read_text(encoding="utf-8"))
    assert page.title == "Harbor City approves $40 million plan to rebuild its aging ferry terminal"
    assert page.source == "The Coastal Ledger"
    assert page.authors == ["Maria Okafor"]
    assert page.published == "March 3, 2025"
    assert page.text.startswith("Harbor City's council voted 7-2")
    assert page.text.endswith("approved by voters last November.")
    for junk in [
        "Skip to main content",
        "Subscribe now",
        "Advertisement",
        "Share this article",
        "More from",
        "Port authority names",
        "Fishing fleet",
        "Download our app",
        "All rights reserved",
        "Photo:",
    ]:
        assert junk not in page.text


def test_front_matter_fields_are_read():
    page = clean_page(
        "Title: Rates held steady\nSource: Example Wire\nBy Ana Lima\nDate: 2024-05-01\n\n"
        "The central bank kept its benchmark rate unchanged on Wednesday, citing cooling inflation data."
    )
    assert (page.title, page.source, page.authors, page.published) == (
        "Rates held steady",
        "Example Wire",
        ["Ana Lima"],
        "2024-05-01",
    )


def test_plain_article_without_boilerplate_is_kept_whole():
    text = (
        "The council met on Tuesday to discuss the new budget for the coming fiscal year.\n\n"
        "Members agreed to postpone the final vote until next month, after a public hearing."
    )
    assert clean_page(text).text == text


def test_normalize_text_and_call_to_action():
    assert normalize_text("a\u00a0 b\r\n\r\n\r\n\x07c &amp; d") == "a b\n\nc & d"
    assert is_call_to_action("Sign up for our newsletter")
    assert not is_call_to_action("The company said it would sign up more suppliers next year, according to filings.")
