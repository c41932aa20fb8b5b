"""``/healthz`` (process up), ``/readyz`` (model loaded, store reachable) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from api.http.deps import RuntimeDep
from api.http.schemas import Health, Ready

router = APIRouter(tags=["operations"])
_READY_TIMEOUT_S = 5.0


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Ready,
    summary="Model loaded and store reachable",
    responses={503: {"model": Ready, "description": "Starting, or the store cannot be reached"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    if not runtime.ready:
        ready = (
            Ready(status="unavailable", detail=runtime.startup_error)
            if runtime.startup_error
            else Ready(status="starting", detail="loading the model and opening the store")
        )
        return JSONResponse(ready.model_dump(), status_code=503)
    try:
        # Not through the engine limiter: readiness must answer even when every engine slot is busy.
        with anyio.fail_after(_READY_TIMEOUT_S):
            counts = await anyio.to_thread.run_sync(runtime.engine.store.counts, abandon_on_cancel=True)
    except Exception as exc:  # any store failure means "not ready"; the message says which
        detail = "store did not answer in time" if isinstance(exc, TimeoutError) else f"store unreachable: {exc}"
        return JSONResponse(Ready(status="unavailable", detail=detail).model_dump(), status_code=503)
    return JSONResponse(Ready(status="ready", articles=counts["articles"], chunks=counts["chunks"]).model_dump())


@router.get(
    "/metrics", summary="Prometheus metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}}
)
async def metrics(runtime: RuntimeDep) -> Response:
    return Response(runtime.metrics.render(), media_type=runtime.metrics.content_type)
