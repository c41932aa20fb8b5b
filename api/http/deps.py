"""What routes get injected: the runtime (engine, settings, metrics), engine calls off the event loop, API keys."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
from anyio import CapacityLimiter
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from threadpoolctl import threadpool_limits

from api.http.errors import RequestTimeout, Unauthorized
from api.http.metrics import Metrics
from ingest.engine import Engine
from rag.errors import InputError, StoreUnavailable
from rag.settings import Settings

T = TypeVar("T")
_END = object()


def one_blas_thread() -> None:
    """Run numpy's BLAS (OpenBLAS) on one thread in this process, for good.

    A serving process already runs one request per engine thread; OpenBLAS's own threads on top (one per core
    by default) split each small product (the query against every chunk vector, ~10k x 384), then spin waiting
    for the next one, taking the core the other request or worker needed. Measured in process on the realistic
    store (2 cores): a search 33 -> 15 ms of CPU, an ask 124 -> 53 ms, identical results; ``http_load`` at 8
    clients, 2 workers: /v1/search 50 -> 89 req/s. Numpy must be loaded (the engine's imports load it)."""
    threadpool_limits(1, user_api="blas")


class Runtime:
    """Per-app state: the one Engine, its settings, the metrics and the pool engine calls run in."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.metrics = Metrics()
        # CPU-bound engine work (embedding, scoring, ingest) runs on worker threads, at most this many at
        # once: the event loop stays free for health checks and streams, and 32 clients do not mean 32
        # torch calls fighting over two cores.
        self.limiter = CapacityLimiter(settings.http_engine_threads)
        one_blas_thread()  # BLAS threads on top of the engine threads only fight over the cores
        self.ready = False
        self.startup_error: str | None = None
        keys = settings.api_keys.get_secret_value() if settings.api_keys else ""
        self.api_keys = [k.strip().encode() for k in keys.split(",") if k.strip()]

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a worker thread, bounded by NEWSQA_REQUEST_TIMEOUT_S."""
        timeout = self.settings.request_timeout_s
        try:
            with anyio.fail_after(timeout):
                return await anyio.to_thread.run_sync(
                    partial(fn, *args, **kwargs), limiter=self.limiter, abandon_on_cancel=True
                )
        except TimeoutError as exc:
            raise RequestTimeout(f"the request took longer than {timeout:g} s (NEWSQA_REQUEST_TIMEOUT_S)") from exc

    async def iterate(self, items: Iterator[T]) -> AsyncIterator[T]:
        """Items of a sync generator, each produced on a worker thread; the whole run bounded by the timeout."""
        timeout = self.settings.request_timeout_s
        deadline = anyio.current_time() + timeout
        while True:
            try:
                with anyio.fail_after(max(deadline - anyio.current_time(), 0.001)):
                    item = await anyio.to_thread.run_sync(
                        next, items, _END, limiter=self.limiter, abandon_on_cancel=True
                    )
            except TimeoutError as exc:
                raise RequestTimeout(f"the answer took longer than {timeout:g} s (NEWSQA_REQUEST_TIMEOUT_S)") from exc
            if item is _END:
                return
            yield item  # type: ignore[misc]

    def check_question(self, text: str, what: str = "question") -> str:
        """The configurable length limit (the schema only has a hard ceiling)."""
        limit = self.settings.max_question_chars
        if not text.strip():
            raise InputError(f"the {what} is empty")
        if len(text) > limit:
            raise InputError(
                f"the {what} is too long ({len(text):,} characters; the limit is {limit:,}, NEWSQA_MAX_QUESTION_CHARS)"
            )
        return text


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_engine(runtime: RuntimeDep) -> Engine:
    """The engine, once startup has loaded the model and opened the store."""
    if not runtime.ready:
        raise StoreUnavailable(runtime.startup_error or "the server is still starting (see /readyz)")
    return runtime.engine


EngineDep = Annotated[Engine, Depends(get_engine)]

_bearer = HTTPBearer(auto_error=False, description="Needed only when NEWSQA_API_KEYS is set.")


async def require_api_key(
    runtime: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """When NEWSQA_API_KEYS is set, a matching ``Authorization: Bearer`` key (compared in constant time)."""
    if not runtime.api_keys:
        return
    if credentials is None:
        raise Unauthorized("this server needs an API key: send `Authorization: Bearer <key>`")
    given = credentials.credentials.encode()
    # Compare against every key, without short-circuit, so timing says nothing about which key is close.
    matches = [secrets.compare_digest(given, key) for key in runtime.api_keys]
    if not any(matches):
        raise Unauthorized("the API key is not valid")
