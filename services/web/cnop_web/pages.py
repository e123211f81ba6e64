"""The page shell, the offline page, the manifest, the service worker and the static files.

One HTML shell serves every page of the UI; the script in /static draws the
page the path names. Unknown paths get the same shell with status 404, so the
browser shows a "not found" page rather than raw JSON.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cnop_common.errors import ApiError
from cnop_common.http_cache import conditional
from cnop_web.assets import IMMUTABLE, AssetBundle

PAGES = ("/", "/login", "/register", "/dashboard", "/trade", "/portfolio", "/account")
HTML = "text/html; charset=utf-8"
# Entry points are revalidated on every visit (a 304 when unchanged): they name
# the current hashed files, so a deploy reaches every browser on its next load.
# Their ETags are weak: gzipped or not, the validator is the same.
NO_CACHE = "no-cache"
JAVASCRIPT = "text/javascript; charset=utf-8"


def pages_router(bundle: AssetBundle) -> APIRouter:
    """GET (and HEAD) for each page and file, and a 404 page for everything else."""
    router = APIRouter(include_in_schema=False)
    both = ["GET", "HEAD"]  # HEAD too: uptime checks and link checkers ask with it

    async def shell(request: Request) -> Response:
        return conditional(request, bundle.shell, HTML, NO_CACHE, weak=True)

    for page in PAGES:
        router.add_api_route(page, shell, methods=both)
    # One asset's page (public, as the asset data is); the script asks for the asset.
    router.add_api_route("/assets/{asset_id}", shell, methods=both)

    @router.api_route("/offline", methods=both)
    async def offline(request: Request) -> Response:
        return conditional(request, bundle.offline, HTML, NO_CACHE, weak=True)

    @router.api_route("/manifest.webmanifest", methods=both)
    async def manifest(request: Request) -> Response:
        return conditional(
            request, bundle.manifest, "application/manifest+json", NO_CACHE, weak=True
        )

    @router.api_route("/sw.js", methods=both)
    async def service_worker(request: Request) -> Response:
        # At the root so that its scope is the whole UI.
        return conditional(request, bundle.service_worker, JAVASCRIPT, NO_CACHE, weak=True)

    @router.api_route("/static/{name}", methods=both)
    async def static_file(name: str) -> Response:
        asset = bundle.by_name.get(name)
        if asset is None:
            raise ApiError(404, "NOT_FOUND", "No such static file.")
        return Response(
            asset.body, media_type=asset.media_type, headers={"Cache-Control": IMMUTABLE}
        )

    @router.get("/{unknown:path}")
    async def not_found(request: Request, unknown: str) -> Response:
        if unknown.startswith("api/"):
            raise ApiError(404, "ROUTE_NOT_FOUND", "No such API route.")
        return conditional(request, bundle.shell, HTML, NO_CACHE, status_code=404, weak=True)

    return router
