"""Every error as ``{"error": {"type", "message", "field"}}`` with the right 4xx/5xx code; bad input is never a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.errors import ConfigError, InputError, NewsqaError, NotFound, StoreUnavailable

log = logging.getLogger("newsqa.http")

_TYPES = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    503: "unavailable",
    504: "timeout",
}


class RequestTimeout(NewsqaError):
    """The request took longer than NEWSQA_REQUEST_TIMEOUT_S."""


class Unauthorized(NewsqaError):
    """Missing or wrong API key."""


def error_response(
    status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"type": _TYPES.get(status, "error"), "message": message}
    if field:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def status_of(exc: NewsqaError) -> int:
    """HTTP status for a newsqa error."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Unauthorized):
        return 401
    if isinstance(exc, InputError):
        return 422
    if isinstance(exc, StoreUnavailable):
        return 503
    if isinstance(exc, RequestTimeout):
        return 504
    if isinstance(exc, ConfigError):
        return 503
    return 500


def _is_json(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


def describe(error: dict[str, Any]) -> tuple[str, str]:
    """One readable line and the dotted field path for a pydantic/FastAPI validation error."""
    loc = [str(x) for x in error.get("loc", ())]
    field = ".".join(loc)
    msg = str(error.get("msg", "invalid value"))
    if error.get("type") == "extra_forbidden":
        msg = f"unknown field {loc[-1]!r}"
    elif error.get("type") == "missing":
        msg = f"missing required field {loc[-1]!r}"
    msg = msg.removeprefix("Value error, ")
    return (f"{field}: {msg}" if field else msg), field


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "")
        pos = first.get("loc", ("body", "?"))[-1]
        return error_response(400, f"malformed JSON body: {detail} at character {pos}")
    if tuple(first.get("loc", ())) == ("body",) and request.headers.get("content-type") and not _is_json(request):
        return error_response(415, "send the request body as JSON with `Content-Type: application/json`")
    message, field = describe(first)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return error_response(422, message, field or None)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = str(exc.detail)
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        if isinstance(exc.__cause__, RecursionError):
            detail = "the JSON body is nested too deeply to read"
        else:
            detail = "could not read the request body: it must be UTF-8 encoded JSON"
    elif exc.status_code == 413:
        detail = f"request body too large: {detail}" if "large" not in detail.lower() else detail
    elif exc.status_code == 404 and detail == "Not Found":
        detail = f"no such endpoint: {request.method} {request.url.path} (see /docs)"
    elif exc.status_code == 405:
        detail = f"method {request.method} is not allowed on {request.url.path}"
    return error_response(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def _newsqa(request: Request, exc: NewsqaError) -> JSONResponse:
    status = status_of(exc)
    if status >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, str(exc), headers=headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, f"internal error ({type(exc).__name__}); the server log has details")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(NewsqaError, _newsqa)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
