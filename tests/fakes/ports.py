"""The one ``free_port()``: tests and benchmarks start their servers on 127.0.0.1 ports the OS hands out; and
``serve_in_thread``, an in-process uvicorn server that fails fast when it cannot start."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_in_thread(app: Any, port: int, deadline_s: float = 30.0) -> tuple[uvicorn.Server, threading.Thread]:
    """``app`` served by uvicorn on 127.0.0.1:``port`` in a daemon thread, returned once it listens. Fails within
    ``deadline_s`` (not at the suite's timeout) when the server cannot start, e.g. the port was taken meanwhile."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + deadline_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > end:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port} within {deadline_s:.0f} s")
        time.sleep(0.02)
    return server, thread
