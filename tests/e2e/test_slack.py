"""The Slack bot end to end: `newsqa serve` (the main HTTP app, uvicorn, real Chroma with the seed article)
with POST /slack/events mounted, signed requests as Slack sends them, Slack's Web API faked on 127.0.0.1;
then the feedback exported with `newsqa feedback export` and the `newsqa slack` errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.slack import render
from api.slack.feedback import FeedbackStore
from tests.builders import FLAGSHIP
from tests.conftest import cli_env
from tests.fakes.fake_slack import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER,
    SIGNING_SECRET,
    FakeSlack,
    action_fields,
    command_fields,
    event_body,
    final_update,
    form_request,
    free_port,
    json_request,
    mention,
    view_submission_fields,
)

NEWSQA = [sys.executable, "-m", "api.cli"]
ROOT = Path(__file__).resolve().parents[2]
QUESTION = FLAGSHIP
pytestmark = pytest.mark.slow


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(NEWSQA + args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def data_dir(_seeded_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("slack-e2e") / "data"
    shutil.copytree(_seeded_dir, target)
    return target


@pytest.fixture(scope="module")
def server(fake: FakeSlack, data_dir: Path) -> Iterator[httpx.Client]:
    port = free_port()
    env = cli_env(
        data_dir,
        NEWSQA_SLACK_BOT_TOKEN=BOT_TOKEN,
        NEWSQA_SLACK_SIGNING_SECRET=SIGNING_SECRET,
        NEWSQA_SLACK_API_URL=fake.url,
    )
    log = (data_dir.parent / "serve.log").open("w")
    proc = subprocess.Popen([*NEWSQA, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=log)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (data_dir.parent / "serve.log").read_text()
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "newsqa serve did not become ready"
            time.sleep(0.3)
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def post(client: httpx.Client, request: tuple[str, dict[str, str]], **headers: str) -> httpx.Response:
    body, signed = request
    return client.post("/slack/events", content=body, headers={**signed, **headers})


def test_signatures_are_checked(server: httpx.Client, fake: FakeSlack) -> None:
    body, headers = json_request(event_body(mention(fake, "C_E2E_SIG", QUESTION)))
    assert post(server, (body, {**headers, "X-Slack-Signature": "v0=" + "1" * 64})).status_code == 401
    assert post(server, (body, {k: v for k, v in headers.items() if not k.startswith("X-Slack")})).status_code == 401
    stale = json_request(event_body(mention(fake, "C_E2E_SIG", QUESTION)), timestamp=int(time.time()) - 301)
    assert post(server, stale).status_code == 401
    challenge = post(server, json_request({"token": "t", "challenge": "xyz", "type": "url_verification"}))
    assert challenge.status_code == 200 and challenge.json() == {"challenge": "xyz"}
    time.sleep(0.5)
    assert fake.calls_to("chat.postMessage", channel="C_E2E_SIG") == []


def test_mention_thread_follow_up_and_retry(server: httpx.Client, fake: FakeSlack) -> None:
    event = mention(fake, "C_E2E", QUESTION)
    body = event_body(event, event_id="EvE2E00001")
    t0 = time.monotonic()
    assert post(server, json_request(body)).status_code == 200
    assert time.monotonic() - t0 < 3
    retried = post(server, json_request(body), **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retried.status_code == 200
    update = final_update(fake, "C_E2E")
    assert "Dell" in update["text"] and "|[1]>" not in update["text"]  # fallback text stays plain
    posted = fake.calls_to("chat.postMessage", channel="C_E2E")
    assert len(posted) == 1 and posted[0]["thread_ts"] == event["ts"] and posted[0]["text"] == render.PLACEHOLDER_TEXT
    assert update["ts"] == fake.messages["C_E2E"][1]["ts"]  # the placeholder, replaced in place

    follow = fake.add_message("C_E2E", "and who loses?", thread_ts=event["ts"])
    reply = {
        "type": "message",
        "channel_type": "channel",
        "user": "U_ALICE",
        "text": follow["text"],
        "ts": follow["ts"],
        "thread_ts": event["ts"],
        "channel": "C_E2E",
        "event_ts": follow["ts"],
    }
    assert post(server, json_request(event_body(reply))).status_code == 200
    second = fake.wait_for(
        lambda: [
            u for u in fake.calls_to("chat.update", channel="C_E2E") if u.get("metadata") and u["ts"] != update["ts"]
        ]
    )[-1]
    assert "Supermicro" in second["metadata"]["event_payload"]["question"]  # condensed with the thread's history
    assert second["blocks"][0]["elements"][0]["text"].startswith("Follow-up understood as:")


def test_dm_and_ignored_messages(server: httpx.Client, fake: FakeSlack) -> None:
    for ignored in ({"user": BOT_USER, "bot_id": BOT_ID}, {"subtype": "bot_message", "bot_id": "B_OTHER"}):
        event = {
            "type": "message",
            "channel_type": "im",
            "text": QUESTION,
            "ts": fake.next_ts(),
            "channel": "D_E2E",
            **ignored,
        }
        assert post(server, json_request(event_body(event))).status_code == 200
    dm = fake.add_message("D_E2E", QUESTION)
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U_ALICE",
        "text": QUESTION,
        "ts": dm["ts"],
        "channel": "D_E2E",
        "event_ts": dm["ts"],
    }
    assert post(server, json_request(event_body(event))).status_code == 200
    assert "Dell" in final_update(fake, "D_E2E")["text"]
    assert len(fake.calls_to("chat.postMessage", channel="D_E2E")) == 1  # only the human's DM was answered


def test_slash_command_feedback_and_export(
    server: httpx.Client, fake: FakeSlack, data_dir: Path, tmp_path: Path
) -> None:
    ack = post(server, form_request(command_fields(QUESTION, "C_E2E_CMD", fake.hook_url("e2e-cmd"))))
    assert ack.status_code == 200 and ack.json()["text"] == render.PLACEHOLDER_TEXT
    answer = fake.wait_for(lambda: fake.hooks_to("e2e-cmd"))[0]
    assert answer["response_type"] == "ephemeral" and "Dell" in answer["text"]
    answer_id = answer["blocks"][-1]["elements"][0]["value"]
    assert answer["blocks"][-1]["elements"][0]["action_id"] == render.ACTION_SHARE

    hook = fake.hook_url("e2e-vote")
    post(server, form_request(action_fields(render.ACTION_NOT_HELPFUL, answer_id, "C_E2E_CMD", hook)))
    fake.wait_for(lambda: fake.calls_to("views.open"))
    values = {"note": {"note": {"type": "plain_text_input", "value": "Missing Inventec."}}}
    assert post(server, form_request(view_submission_fields(render.NOTE_VIEW, answer_id, values))).status_code == 200

    dm = fake.add_message("D_E2E_FB", QUESTION)
    post(
        server,
        json_request(
            event_body(
                {
                    "type": "message",
                    "channel_type": "im",
                    "user": "U_BOB",
                    "text": QUESTION,
                    "ts": dm["ts"],
                    "channel": "D_E2E_FB",
                    "event_ts": dm["ts"],
                }
            )
        ),
    )
    helpful_id = final_update(fake, "D_E2E_FB")["metadata"]["event_payload"]["answer_id"]
    post(server, form_request(action_fields(render.ACTION_HELPFUL, helpful_id, "D_E2E_FB", hook, user="U_BOB")))
    fake.wait_for(lambda: len(fake.hooks_to("e2e-vote")) == 2)
    # Bolt acks the modal first and stores its note after, on a worker thread: wait for it before exporting.
    feedback = FeedbackStore.for_data_dir(data_dir)
    fake.wait_for(lambda: any(v.note for v in feedback.votes()))

    out = tmp_path / "feedback.jsonl"
    export = run(["feedback", "export", "--format", "evalset", "--out", str(out)], cli_env(data_dir))
    assert export.returncode == 0, export.stderr
    assert export.stderr.strip() == f"wrote 2 eval case(s) to {out}"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["type"] for r in rows] == ["feedback_not_helpful", "feedback_helpful"]
    assert rows[0]["question"] == QUESTION and rows[0]["feedback"]["notes"] == ["Missing Inventec."]
    assert rows[1]["id"] == f"slack-{helpful_id}" and rows[1]["gold_article_ids"]
    assert "Dell" in rows[1]["feedback"]["answer"]


def test_slack_command_errors_are_one_line(tmp_path: Path, fake: FakeSlack) -> None:
    env = cli_env(tmp_path / "data", NEWSQA_SLACK_BOT_TOKEN=BOT_TOKEN, NEWSQA_SLACK_API_URL=fake.url)
    cases = [
        (["slack", "--socket"], env, "NEWSQA_SLACK_APP_TOKEN"),
        (["slack"], env, "NEWSQA_SLACK_SIGNING_SECRET"),
        (["slack", "--socket"], cli_env(tmp_path / "data", NEWSQA_SLACK_APP_TOKEN="xapp-1"), "NEWSQA_SLACK_BOT_TOKEN"),
        (
            ["slack", "--socket"],
            {**env, "NEWSQA_SLACK_BOT_TOKEN": "xoxb-wrong", "NEWSQA_SLACK_APP_TOKEN": "xapp-1"},
            "Slack rejected NEWSQA_SLACK_BOT_TOKEN: invalid_auth",
        ),
    ]
    for args, case_env, expected in cases:
        result = run(args, case_env)
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
