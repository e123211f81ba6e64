"""Keep an application's failure inside its response (auth's own copy: it shares no code).

Starlette answers an unhandled exception with our 500 and then re-raises it
for the server to log; uvicorn, seeing an exception after the response
started, closes the connection. The client had read a complete response on a
keep-alive connection and pooled it, so its next request on it fails: one
backend error became a false 503 at the gateway. Outermost, this wrapper
swallows what the application already answered (and answers 500 in our
format for what it did not), so the connection stays usable.
"""

from __future__ import annotations

import json

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.stdlib.get_logger("auth")
BODY = json.dumps(
    {"detail": "Internal server error", "code": "INTERNAL_ERROR", "request_id": ""}
).encode()


class ContainErrors:
    """Outermost ASGI wrapper: no exception ever reaches the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # the point: nothing escapes to the server
            if started:
                return  # answered (and logged) by the application's own handler
            log.error("unhandled_error", error_type=type(exc).__name__)
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": BODY})
