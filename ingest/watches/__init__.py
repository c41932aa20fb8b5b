"""Watches (issue 16): standing queries whose new matching stories are delivered once, as a digest.

- ``store.py``    SQLite state: watches and one delivery row per (watch, story), claimed before sending
- ``matcher.py``  which new stories match which watch (a calibrated score; syndicated copies are one story)
- ``digest.py``   a digest's entries and its Slack and webhook forms
- ``signing.py``  the webhook HMAC signature (and how a receiver verifies it)
- ``deliver.py``  sending due digests, with retries and failures recorded on the watch
- ``service.py``  :class:`Watches`: add/list/remove for the ways in, and the engine's after-ingest hook
- ``ask.py``      a question answered over one watch's delivered stories (Slack digest threads)
"""

from ingest.watches.service import Watches, WatchIn
from ingest.watches.store import Watch

__all__ = ["Watch", "WatchIn", "Watches"]
