"""The README's configuration table is generated from the settings class: keep them in step."""

from rag.settings import settings_table
from tests.conftest import ROOT


def test_readme_settings_table_matches_the_settings_class():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- settings-table:start -->")[1].split("<!-- settings-table:end -->")[0].strip()
    assert table == settings_table(), "regenerate it: python -m rag.settings"
