"""gzip for the pages and static files, never for /api answers.

The script, styles and page shell shrink to about a quarter. API answers are
left alone on purpose: they can reflect what a client sent beside what only
the user may read, the shape compression side channels (BREACH) feed on.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

MINIMUM_BYTES = 512  # below this, the headers cost more than the saving


class StaticCompression:
    """GZipMiddleware for everything but /api."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=MINIMUM_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/api/"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
