"""A webhook receiver on 127.0.0.1 that checks each call's HMAC signature the way docs/watches.md tells a
receiver to (its own HMAC code, not newsqa's), records the verified bodies, and can fail the first calls."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    def __init__(self, secret: str, fail_first: int = 0) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.calls: list[dict[str, Any]] = []  # verified bodies, in order
        self.rejected: list[str] = []  # why a call failed verification
        self.attempts = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.receive(body, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            self.attempts += 1
            if self.attempts <= self.fail_first:
                return 503
            ts, sig = headers.get("X-Newsqa-Timestamp", ""), headers.get("X-Newsqa-Signature", "")
            expected = "v1=" + hmac.new(self.secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, sig) or abs(time.time() - int(ts or 0)) > 300:
                self.rejected.append(f"bad signature {sig!r}")
                return 401
            self.calls.append({**json.loads(body), "_delivery": headers.get("X-Newsqa-Delivery")})
            return 200

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
