"""Sending digests: to a Slack channel (``chat.postMessage``) or a webhook (a signed POST through the SSRF guard).

:class:`Deliverer.deliver_due` claims every due delivery row (``ingest.watches.store``), builds one digest per
watch, sends it and marks the rows sent, or records the failure (on the rows and on the watch) and schedules a
retry with exponential backoff. A webhook is POSTed with the client page fetches use (``ingest.web.make_client``:
every connection's address checked, no redirects followed, timeouts), so a watch cannot make newsqa reach a
private address unless ``NEWSQA_ALLOW_PRIVATE_URLS`` allows it; any 2xx is success, anything else a failure.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from ingest.watches import digest, signing
from ingest.watches.store import Claimed, Watch, WatchStore
from ingest.web import check_url, make_client
from rag.errors import NewsqaError, NotFound
from rag.settings import Settings, reveal
from rag.store import ChromaStore

log = logging.getLogger(__name__)
_ERROR_CHARS = 300


class DeliveryError(NewsqaError):
    """A digest could not be delivered; the message says why (recorded on the watch)."""


class Deliverer:
    """Claims due deliveries and sends them. Safe to run in any number of threads and processes at once."""

    def __init__(self, store: ChromaStore, watches: WatchStore, settings: Settings) -> None:
        self.store = store
        self.watches = watches
        self.settings = settings

    def deliver_due(self) -> int:
        """Send every due digest once; returns how many stories were delivered. Never raises for a send."""
        delivered = 0
        while claims := self.watches.claim_due(slack=self.settings.slack_bot_token is not None):
            delivered += self._deliver(claims)
        return delivered

    def _deliver(self, claims: list[Claimed]) -> int:
        delivered = 0
        for claimed in claims:
            try:
                watch = self.watches.get(claimed.watch_id)
            except NotFound:
                continue  # removed meanwhile: its rows went with it
            try:
                delivered += self._send(watch, claimed)
            except Exception as exc:
                reason = str(exc) if isinstance(exc, NewsqaError) else f"{type(exc).__name__}: {exc}"
                due = self.watches.mark_failed(claimed, reason[:_ERROR_CHARS])
                log.warning("watch %s: delivery failed (attempt %d): %s", watch.id, claimed.attempts, reason)
                if due is None:
                    log.error("watch %s: giving up on %d stor(ies) after %d attempts", watch.id, len(claimed.ids),
                              claimed.attempts)  # fmt: skip
        return delivered

    def _send(self, watch: Watch, claimed: Claimed) -> int:
        entries = [e for sid in claimed.story_ids if (e := digest.entry(self.store, sid)) is not None]
        if not entries:  # every story was deleted since it matched: nothing to say
            self.watches.mark_sent(claimed, stories=0)
            return 0
        if watch.webhook_url:
            self._post_webhook(watch, digest.webhook_body(watch, entries, claimed.ids), claimed.ids)
            self.watches.mark_sent(claimed, stories=len(entries))
        else:
            channel, ts = self._post_slack(watch, digest.slack_message(watch, entries))
            self.watches.mark_sent(claimed, slack_channel=channel, slack_ts=ts, stories=len(entries))
        log.info("watch %s: delivered %d stor(ies)", watch.id, len(entries))
        return len(entries)

    # ---- targets ----------------------------------------------------------------------------------
    def _post_webhook(self, watch: Watch, body: bytes, delivery_ids: list[int]) -> None:
        assert watch.webhook_url is not None
        secret = self.watches.secret(watch.id) or reveal(self.settings.watch_webhook_secret)
        if not secret:
            raise DeliveryError("no signing secret: give the watch one or set NEWSQA_WATCH_WEBHOOK_SECRET")
        url = check_url(watch.webhook_url)
        headers = {
            "Content-Type": "application/json",
            signing.DELIVERY_HEADER: ",".join(map(str, delivery_ids)),
            **signing.sign(secret, body),
        }
        try:
            with make_client(self.settings) as client, client.stream("POST", url, content=body, headers=headers) as r:
                status = r.status_code  # the answer's body is never read: only its status counts
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook answered HTTP {status}")

    def _post_slack(self, watch: Watch, message: dict[str, Any]) -> tuple[str, str]:
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError

        token = reveal(self.settings.slack_bot_token)
        if not token or not watch.channel:
            raise DeliveryError("a Slack watch needs NEWSQA_SLACK_BOT_TOKEN set where ingest runs")
        client = WebClient(
            token=token, base_url=self.settings.slack_api_url, timeout=int(self.settings.fetch_timeout_s)
        )
        try:
            reply = client.chat_postMessage(channel=watch.channel, **message)
        except SlackApiError as exc:
            raise DeliveryError(f"Slack refused the digest: {exc.response.get('error')}") from exc
        return str(reply.get("channel") or watch.channel), str(reply["ts"])
