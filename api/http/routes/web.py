"""``GET /``: the chat page (one static HTML file shipped in ``api/web``; no build step, nothing fetched)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@cache
def page() -> str:
    """The page's HTML, read once from the installed package."""
    return files("api.web").joinpath("index.html").read_text(encoding="utf-8")


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)  # HEAD: uptime checks
async def index() -> HTMLResponse:
    return HTMLResponse(page(), headers={"Cache-Control": "no-cache"})
