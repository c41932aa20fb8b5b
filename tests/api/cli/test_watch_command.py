"""``newsqa watch add|list|remove|deliver`` in-process: what the user sees, and one error line for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), "watch", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSQA_WATCH_WEBHOOK_SECRET", raising=False)
    data = tmp_path / "data"
    code, out, _ = run(capsys, data, "add", "Supermicro", "xAI", "--webhook", "https://hooks.example/n", "--json")
    added = json.loads(out)
    assert code == 0 and added["query"] == "Supermicro xAI" and len(added["secret"]) >= 40  # generated, shown once
    code, out, _ = run(capsys, data, "add", "Dell", "--webhook", "https://hooks.example/d", "--source", "Reuters",
                       "--since", "2024-10-01", "--secret", "s" * 20)  # fmt: skip
    assert code == 0 and out.startswith("added w_") and "secret" not in out
    code, out, _ = run(capsys, data, "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0] == f"{added['id']}  'Supermicro xAI' -> https://hooks.example/n  0 delivered (none yet)"
    assert "'Dell' sources=Reuters since=2024-10-01 -> https://hooks.example/d" in lines[1]
    assert run(capsys, data, "remove", added["id"])[:2] == (0, f"removed: {added['id']}\n")
    assert [w["query"] for w in json.loads(run(capsys, data, "list", "--json")[1])] == ["Dell"]
    assert run(capsys, data, "deliver")[1] == "delivered 0 stor(ies)\n"


def test_bad_input_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    code, _, err = run(capsys, data, "add", "x", "--webhook", "ftp://hooks.example/")
    assert code != 0 and err == "error: webhook_url: refused: only http and https URLs are fetched, not 'ftp'\n"
    code, _, err = run(capsys, data, "add", "x", "--webhook", "https://h.example/", "--since", "2024-05-02",
                       "--until", "2024-05-01")  # fmt: skip
    assert code != 0 and err.startswith("error: ") and "since is after until" in err
    code, _, err = run(capsys, data, "remove", "w_nope")
    assert code != 0 and err == "error: no watch 'w_nope' (see `newsqa watch list`)\n"
