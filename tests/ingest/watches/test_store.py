"""The watch store: watches round-trip, a story is queued once per watch, a claim is exclusive, failures back off."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from ingest.watches import store as watch_store
from ingest.watches.store import CLAIM_LEASE_S, MAX_STORIES, WatchStore
from rag.errors import NotFound
from rag.settings import Settings


@pytest.fixture
def store(tmp_path) -> WatchStore:
    return WatchStore(Settings(data_dir=tmp_path / "data", watch_max_attempts=3, watch_backoff_s=10))


def test_a_watch_round_trips_without_its_secret(store: WatchStore) -> None:
    since = datetime(2024, 3, 1, tzinfo=UTC)
    w = store.add("Supermicro", sources=["Reuters"], since=since, webhook_url="https://example.com/h", secret="s" * 20)
    got = store.get(w.id)
    assert (got.query, got.sources, got.since, got.webhook_url) == ("Supermicro", ["Reuters"], since, w.webhook_url)
    assert got.has_secret and "secret" not in got.model_dump() and store.secret(w.id) == "s" * 20
    assert [x.id for x in store.list()] == [w.id] and store.list(channel="C1") == []
    store.remove(w.id)
    with pytest.raises(NotFound, match="newsqa watch list"):
        store.get(w.id)
    with pytest.raises(NotFound):
        store.remove(w.id)


def test_no_file_until_first_use(tmp_path) -> None:
    store = WatchStore(Settings(data_dir=tmp_path / "data"))
    assert not store.exists()
    assert store.list() == [] and store.exists()


def test_a_story_is_queued_once_per_watch(store: WatchStore) -> None:
    a = store.add("a", channel="C1")
    b = store.add("b", channel="C1")
    assert store.enqueue(a.id, [("s1", "s1", 0.7), ("s2", "x2", 0.65)]) == 2
    assert store.enqueue(a.id, [("s1", "copy-of-s1", 0.9)]) == 0  # same story, another copy: ignored
    assert store.enqueue(b.id, [("s1", "s1", 0.7)]) == 1  # another watch may get the same story
    assert store.enqueue("w_gone", [("s1", "s1", 0.7)]) == 0  # a removed watch queues nothing
    assert [r["story_id"] for r in store.deliveries(a.id)] == ["s1", "s2"]


def test_concurrent_claims_never_share_a_row(store: WatchStore) -> None:
    w = store.add("q", channel="C1")
    store.enqueue(w.id, [(f"s{i}", f"s{i}", 0.7) for i in range(40)])
    got: list[list[str]] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        got.append([s for c in store.claim_due() for s in c.story_ids])

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [s for part in got for s in part]
    assert sorted(claimed) == sorted(f"s{i}" for i in range(40))  # every row exactly once
    assert store.claim_due() == []  # nothing left to claim while they are being sent


def test_sent_rows_are_done_and_counted(store: WatchStore) -> None:
    w = store.add("q", channel="C1")
    store.enqueue(w.id, [("s1", "s1", 0.7)])
    [claimed] = store.claim_due()
    store.mark_sent(claimed, slack_channel="C1", slack_ts="123.4")
    assert store.claim_due() == []
    assert store.get(w.id).delivered == 1 and store.get(w.id).last_delivery_at is not None
    assert store.thread_watch("C1", "123.4") == (w.id, ["s1"])
    assert store.thread_watch("C1", "999.9") is None


def test_failures_back_off_then_give_up_and_are_recorded(store: WatchStore, monkeypatch: pytest.MonkeyPatch) -> None:
    w = store.add("q", webhook_url="https://example.com/h")
    store.enqueue(w.id, [("s1", "s1", 0.7)])
    now = datetime.now(UTC)
    # mark_failed reads the clock itself: here the test's clock. (It read the real one, checked to within a
    # second, so a machine stalled a second between the claim and the failure pushed the backoff out.)
    clock = [now]
    monkeypatch.setattr(watch_store, "_now", lambda: clock[0])
    [c1] = store.claim_due(now)
    due = store.mark_failed(c1, "webhook answered HTTP 500")
    assert due == now + timedelta(seconds=10)  # backoff_s * 2**0
    assert store.claim_due(now) == []  # not due yet
    watch = store.get(w.id)
    assert (watch.failures, watch.last_error) == (1, "webhook answered HTTP 500")
    clock[0] = now + timedelta(seconds=11)
    [c2] = store.claim_due(clock[0])
    due2 = store.mark_failed(c2, "again")
    assert due2 == clock[0] + timedelta(seconds=20)  # doubled
    [c3] = store.claim_due(now + timedelta(seconds=60))
    assert c3.attempts == 3 and store.mark_failed(c3, "still down") is None  # the 3rd of 3 attempts: failed
    assert store.claim_due(now + timedelta(days=1)) == []
    assert store.deliveries(w.id)[0]["status"] == "failed" and store.get(w.id).failures == 3


def test_a_dead_senders_claim_expires(store: WatchStore) -> None:
    w = store.add("q", channel="C1")
    store.enqueue(w.id, [("s1", "s1", 0.7)])
    now = datetime.now(UTC)
    assert len(store.claim_due(now)) == 1
    assert store.claim_due(now + timedelta(seconds=CLAIM_LEASE_S / 2)) == []
    [again] = store.claim_due(now + timedelta(seconds=CLAIM_LEASE_S + 1))
    assert again.story_ids == ["s1"] and again.attempts == 2


def test_removing_a_watch_removes_its_deliveries(store: WatchStore) -> None:
    w = store.add("q", channel="C1")
    store.enqueue(w.id, [("s1", "s1", 0.7)])
    store.remove(w.id)
    assert store.deliveries(w.id) == [] and store.claim_due() == []


def test_a_process_without_a_slack_token_leaves_slack_rows_alone(store: WatchStore) -> None:
    in_slack = store.add("q", channel="C1")
    by_hook = store.add("q", webhook_url="https://example.com/h")
    store.enqueue(in_slack.id, [("s1", "s1", 0.7)])
    store.enqueue(by_hook.id, [("s1", "s1", 0.7)])
    assert [c.watch_id for c in store.claim_due(slack=False)] == [by_hook.id]
    assert [c.watch_id for c in store.claim_due()] == [in_slack.id]


def test_a_digest_holds_at_most_max_stories(store: WatchStore) -> None:
    w = store.add("q", channel="C1")
    store.enqueue(w.id, [(f"s{i:02d}", f"s{i:02d}", 0.7) for i in range(MAX_STORIES + 5)])
    [first] = store.claim_due()
    [second] = store.claim_due()
    assert len(first.story_ids) == MAX_STORIES and second.story_ids == [f"s{i:02d}" for i in range(MAX_STORIES, 25)]
