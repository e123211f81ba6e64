"""The page shell and its static files.

One HTML shell serves every page of the UI; the script in /static draws the
page the path names. Unknown paths get the same shell with status 404, so the
browser shows a "not found" page rather than raw JSON.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from cnop_common.errors import ApiError

STATIC = Path(__file__).resolve().parent / "static"
SHELL = STATIC / "index.html"
PAGES = ("/", "/login", "/register", "/dashboard", "/trade", "/portfolio", "/account")
# The shell must be fetched again after a deploy; the files it names revalidate by ETag.
NO_CACHE = {"Cache-Control": "no-cache"}


def pages_router() -> APIRouter:
    """GET for each page, and a 404 page for everything else outside /api and /static."""
    router = APIRouter(include_in_schema=False)

    async def shell() -> FileResponse:
        return FileResponse(SHELL, media_type="text/html", headers=NO_CACHE)

    for page in PAGES:
        # HEAD too: uptime checks and link checkers ask with it.
        router.add_api_route(page, shell, methods=["GET", "HEAD"])

    @router.get("/{unknown:path}")
    async def not_found(unknown: str) -> FileResponse:
        if unknown.startswith("api/"):
            raise ApiError(404, "ROUTE_NOT_FOUND", "No such API route.")
        return FileResponse(SHELL, status_code=404, media_type="text/html", headers=NO_CACHE)

    return router
