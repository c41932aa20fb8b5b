"""``/healthz`` (process up), ``/readyz`` (model loaded, store reachable) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from pathlib import Path

import anyio
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from api.http.deps import Runtime, RuntimeDep
from api.http.schemas import Health, Ready

router = APIRouter(tags=["operations"])
_READY_TIMEOUT_S = 5.0


@router.head("/healthz", include_in_schema=False)  # uptime checks that use HEAD
@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health()


def _redact(runtime: Runtime, detail: str) -> str:
    """``detail`` with the data directory's absolute path (and its resolved form) replaced by NEWSQA_DATA_DIR."""
    data_dir = Path(runtime.settings.data_dir)
    for form in sorted({str(data_dir.resolve()), str(data_dir.absolute()), str(data_dir)}, key=len, reverse=True):
        if form not in {".", ""}:
            detail = detail.replace(form, "$NEWSQA_DATA_DIR")
    return detail


@router.get(
    "/readyz",
    response_model=Ready,
    summary="Model loaded and store reachable",
    responses={503: {"model": Ready, "description": "Starting, or the store cannot be reached"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Unauthenticated, so the detail names the data directory only as NEWSQA_DATA_DIR, never its path."""
    if not runtime.ready:
        ready = (
            Ready(status="unavailable", detail=_redact(runtime, runtime.startup_error))
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
        detail = _redact(runtime, detail)
        return JSONResponse(Ready(status="unavailable", detail=detail).model_dump(), status_code=503)
    return JSONResponse(Ready(status="ready", articles=counts["articles"], chunks=counts["chunks"]).model_dump())


@router.get(
    "/metrics", summary="Prometheus metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}}
)
async def metrics(runtime: RuntimeDep) -> Response:
    return Response(runtime.metrics.render(), media_type=runtime.metrics.content_type)
