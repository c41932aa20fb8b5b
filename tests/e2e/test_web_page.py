"""The chat page in a real headless browser (Debian's chromium driven by Playwright) against a real server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.http.server import live_server
from tests.builders import FLAGSHIP

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / ".newsqa" / "screenshots"


@pytest.fixture(scope="module")
def base(_seeded_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("web-e2e")
    shutil.copytree(_seeded_dir, root / "data")
    with live_server(root / "data", root / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(base: str) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: run `make browser` (or scripts/install-browser.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(base + "/")
        yield page
        browser.close()


def test_ask_see_streamed_answer_and_sources(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    # The page uses the /v1/chat SSE stream; record it to check the page consumed a real stream.
    with page.expect_response(lambda r: r.url.endswith("/v1/chat")) as chat:
        page.fill("#question", FLAGSHIP)
        page.click("#send")
    assert chat.value.headers["content-type"].startswith("text/event-stream")
    answer = page.locator(".turn").nth(0).locator(".a")
    expect(answer.locator("ol.sources li").first).to_be_visible(timeout=60_000)
    expect(answer.locator(".text")).to_contain_text("Dell")

    # Every [n] marker links to its entry in the source list, which shows title, outlet and the quoted passage.
    cites = answer.locator("a.cite")
    assert cites.count() >= 1
    sources = answer.locator("ol.sources li")
    for i in range(cites.count()):
        target = cites.nth(i).get_attribute("href") or ""
        assert target.startswith("#src-1-")
        item = page.locator(target)
        assert item.count() == 1
    first = sources.filter(has=page.locator(".src-title")).first  # after the "independent sources" note, if any
    assert "xAI" in first.locator(".src-title").inner_text()
    assert "Tom’s Hardware" in first.locator(".src-meta").inner_text()
    quote = first.locator("blockquote").first.inner_text().strip()
    assert quote.split("] ", 1)[-1] in answer.locator(".text").inner_text()  # "[n] " labels a grouped quote
    cites.first.click()
    assert page.evaluate("location.hash") == cites.first.get_attribute("href")

    # A follow-up in the same conversation is answered in context.
    page.fill("#question", "and who loses?")
    page.keyboard.press("Enter")
    second = page.locator(".turn").nth(1).locator(".a")
    expect(second.locator("ol.sources li").first).to_be_visible(timeout=60_000)
    expect(second.locator(".text")).to_contain_text("Supermicro")
    assert (second.locator("a.cite").first.get_attribute("href") or "").startswith("#src-2-")

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "chat.png"), full_page=True)


def test_error_is_shown(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.fill("#question", "x" * 3000)  # over NEWSQA_MAX_QUESTION_CHARS: the server's 422 message is shown
    page.click("#send")
    expect(page.locator(".status.error")).to_contain_text("too long", timeout=30_000)
