"""The chat page's script (api/web/index.html) run in node with a minimal DOM: which markers and URLs become links.

Probe M5/M6: every ``[n]`` in the answer became a citation link (article text ``[3][12]`` linked to sources that
do not exist) and a source's ``javascript:`` url became its ``href``. The browser test (tests/e2e) checks the
page end to end; this one checks the two rules directly and needs only node.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib.resources import files

import pytest

NODE = shutil.which("node")

DOM = """
function mk(tag) {
  return { tag, className: "", textContent: "", value: "", children: [], attrs: {},
    append(...c) { this.children.push(...c); }, replaceChildren(...c) { this.children = [...c]; },
    addEventListener() {}, set href(v) { this.attrs.href = v; }, get href() { return this.attrs.href; } };
}
const ids = {};
globalThis.document = { createElement: mk, createTextNode: (t) => ({ tag: "#text", textContent: t }),
  getElementById: (id) => (ids[id] ||= mk("div")) };
globalThis.localStorage = { getItem: () => null, setItem() {} };
"""

CHECK = """
const box = mk("div");
renderAnswer(box, "Designed in Oslo [3][12]. Dell benefits [1]. Wistron too [2].", 1, new Set([1, 2]));
const streaming = mk("div");
renderAnswer(streaming, "Dell benefits [1].", 1, null);
const list = mk("ol");
renderSources(list, [
  { n: 1, article_id: "a", title: "Evil", url: "javascript:alert(1)", quote: "q" },
  { n: 2, article_id: "b", title: "Good", url: "https://news.example/b", quote: "q" },
], 1);
const grouped = mk("ol");
renderSources(grouped, [
  { n: 3, article_id: "a", title: "A", quote: "third" },
  { n: 1, article_id: "a", title: "A", quote: "first" },
  { n: 2, article_id: "b", title: "B", quote: "second" },
], 1);
console.log(JSON.stringify({
  links: box.children.filter((c) => c.tag === "a").map((c) => [c.textContent, c.href]),
  text: box.children.map((c) => c.textContent).join(""),
  streamingLinks: streaming.children.filter((c) => c.tag === "a").length,
  titles: list.children.map((li) => [li.children[1].tag, li.children[1].href || null]),
  grouped: grouped.children.map((li) => li.children.map((c) => [c.tag, c.id || null, c.textContent])),
}));
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_only_engine_markers_and_http_urls_become_links() -> None:
    html = files("api.web").joinpath("index.html").read_text(encoding="utf-8")
    script = re.search(r"<script>(.*)</script>", html, re.DOTALL)
    assert script is not None
    out = subprocess.run(
        [str(NODE), "-e", DOM + script.group(1) + CHECK], capture_output=True, text=True, timeout=30, check=True
    )
    result = json.loads(out.stdout)
    assert result["links"] == [["[1]", "#src-1-1"], ["[2]", "#src-1-2"]]  # [3] and [12] are not this answer's
    assert result["text"] == "Designed in Oslo [3][12]. Dell benefits [1]. Wistron too [2]."
    assert result["streamingLinks"] == 0  # while streaming the citations are not known: no links yet
    assert result["titles"] == [["span", None], ["a", "https://news.example/b"]]
    # One entry per article, each quote anchored for its own marker.
    assert result["grouped"] == [
        [
            ["span", None, "[1][3] "],
            ["span", None, "A"],
            ["blockquote", "src-1-1", "[1] first"],
            ["blockquote", "src-1-3", "[3] third"],
        ],
        [["span", None, "[2] "], ["span", None, "B"], ["blockquote", "src-1-2", "second"]],
    ]
