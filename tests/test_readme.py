"""The README and docs/ stay true: the configuration table is the settings class's, and every relative link
points at a file that exists."""

import re

import pytest

from rag.settings import settings_table
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_configuration_table_matches_the_settings_class():
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = doc.split("<!-- settings-table:start -->")[1].split("<!-- settings-table:end -->")[0].strip()
    assert table == settings_table(), "regenerate it: python -m rag.settings"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc):
    targets = [t for t in LINK.findall(doc.read_text(encoding="utf-8")) if "://" not in t]
    missing = [t for t in targets if not (doc.parent / t).exists()]
    assert missing == [], f"{doc.name} links to missing files"


def test_the_readme_links_every_doc():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [p.name for p in DOCS[1:] if f"(docs/{p.name})" not in readme] == []
