"""The load generator's client loop: keep-alive requests, 2xx latencies recorded, anything else an error."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.http_load import Level, client_loop


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn
    seen: list[dict[str, object]] = []  # noqa: RUF012 (one server per test)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.seen.append(body)
        status = 200 if body["query"] == "fine" else 500
        payload = b'{"results": []}' if status == 200 else b"boom"
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_client_loop_records_2xx_latencies_and_counts_every_other_status_as_an_error(server: str) -> None:
    level = Level()
    client_loop(server, "/v1/search", [{"query": "fine"}, {"query": "bad"}], time.monotonic() + 0.5, level)
    assert len(level.latencies) + level.errors == len(Handler.seen) > 2
    assert abs(len(level.latencies) - level.errors) <= 1  # the two bodies alternate
    assert level.first_error == "HTTP 500: boom"
    assert Handler.seen[:2] == [{"query": "fine"}, {"query": "bad"}]
