"""Pure ASGI middleware: request context, metrics and the access log.

Pure ASGI rather than BaseHTTPMiddleware: it adds no task or queue per request
and keeps context variables visible to the endpoint.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cnop_common import otel, tracing
from cnop_common.logging import get_logger
from cnop_common.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = get_logger("access")

# Liveness and scrape traffic would drown the access log without telling anything.
QUIET_PATHS = frozenset({"/health", "/metrics"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def begin_request(
    span_name: str, request_id_header: str | None, traceparent: str | None, user: str | None
) -> tuple[str, tracing.TraceContext, otel.Finish]:
    """Accept or mint the request id, continue or start the trace, bind both to logs."""
    request_id = tracing.accept_request_id(request_id_header)
    trace, finish_span = otel.start_span(span_name, traceparent)
    tracing.bind(request_id, trace)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        request_id=request_id, trace_id=trace.trace_id, span_id=trace.span_id, user=user
    )
    return request_id, trace, finish_span


# The request being handled, for what is counted per route below the endpoint
# (store calls): contextvars follow it into the thread pool.
current_scope: ContextVar[Scope | None] = ContextVar("cnop_scope", default=None)


def current_route() -> str:
    """The route template of the request being handled ("none" outside one)."""
    scope = current_scope.get()
    return route_template(scope) if scope is not None else "none"


def route_template(scope: Scope) -> str:
    """The matched route's template (never the raw path, which is unbounded)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Bind request id and trace context, echo them, and record metrics and access logs."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        user = _header(scope, b"x-user-id")
        request_id, trace, finish_span = begin_request(
            f"{scope['method']} {self.service}",
            _header(scope, b"x-request-id"),
            _header(scope, b"traceparent"),
            user=user,
        )
        status = 500
        started = time.perf_counter()
        current_scope.set(scope)  # the route it matches is known by the time the store is called

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["traceparent"] = trace.traceparent()
                if user:
                    # One user's answer: no browser, proxy or CDN may keep it.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            elapsed = time.perf_counter() - started
            finish_span(status)
            route = route_template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, route, method, str(status)).inc()
            HTTP_LATENCY.labels(self.service, route, method).observe(elapsed)
            if scope["path"] not in QUIET_PATHS:
                log.info(
                    "request",
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 3),
                )
