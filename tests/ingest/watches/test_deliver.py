"""Delivery refusals: a webhook on a private address is refused by the SSRF guard and the failure recorded on
the watch (retried later, never raised); a story deleted since it matched is dropped without a send."""

from __future__ import annotations

from ingest.engine import Engine
from ingest.watches import WatchIn


def test_a_loopback_webhook_is_refused_and_recorded(seeded_engine: Engine) -> None:
    assert not seeded_engine.settings.allow_private_urls
    watches = seeded_engine.watches
    watch, _ = watches.add(WatchIn(query="Supermicro", webhook_url="http://127.0.0.1:9/hook", secret="x" * 16))
    [(article, _)] = seeded_engine.store.list_articles()
    watches.db.enqueue(watch.id, [(article.id, article.id, 0.7)])
    assert watches.deliver_now() == 0
    state = watches.get(watch.id)
    assert state.failures == 1 and state.delivered == 0
    assert state.last_error == "127.0.0.1: refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address " + (
        "(set NEWSQA_ALLOW_PRIVATE_URLS=true to allow private addresses)"
    )
    [row] = watches.db.deliveries(watch.id)
    assert (row["status"], row["attempts"]) == ("pending", 1)


def test_a_deleted_story_is_dropped_without_a_send(seeded_engine: Engine) -> None:
    watches = seeded_engine.watches
    watch, _ = watches.add(WatchIn(query="Supermicro", webhook_url="http://127.0.0.1:9/hook", secret="x" * 16))
    [(article, _)] = seeded_engine.store.list_articles()
    watches.db.enqueue(watch.id, [(article.id, article.id, 0.7)])
    seeded_engine.store.delete_article(article.id)
    assert watches.deliver_now() == 0
    state = watches.get(watch.id)
    assert (state.failures, state.delivered, state.last_delivery_at) == (0, 0, None)
    assert watches.db.deliveries(watch.id)[0]["status"] == "sent"  # done: never offered again
