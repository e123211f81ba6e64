"""The auth service's own logs and metrics (it shares no code with the other services)."""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from pathlib import Path
from typing import get_args

import structlog
from prometheus_client import Counter, Histogram, disable_created_metrics
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cnop_auth import SERVICE, tracing
from cnop_auth.tokens import Reason

# `*_created` series double the series count and no dashboard or alert reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

VALIDATIONS = Counter(
    "auth_validations_total", "Token validations by outcome and reason.", ["outcome", "reason"]
)
# Every outcome exists at 0 from start-up: "0 rejected" on a dashboard, never "No data".
for _reason in get_args(Reason):
    VALIDATIONS.labels("rejected", _reason)
VALIDATIONS.labels("valid", "ok")
VALIDATION_LATENCY = Histogram(
    "auth_validation_duration_seconds",
    "Time to validate one token, store lookup included.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
ISSUED = Counter("auth_tokens_issued_total", "Tokens issued.")
REVOKED = Counter("auth_tokens_revoked_total", "Tokens revoked.")
REFUSED_CALLERS = Counter(
    "auth_refused_callers_total", "Calls refused because the caller may not make them.", ["path"]
)
# Every series from start-up: the security dashboard reads them.
for _path in ("/auth/validate-jwt", "/auth/verify", "/auth/tokens", "/auth/revoke"):
    REFUSED_CALLERS.labels(_path)
NONCE_FALLBACKS = Counter(
    "signed_call_nonce_store_fallbacks_total",
    "Signed calls whose nonce only this replica remembered: the shared store did not answer.",
    ["service"],
)
REFUSED_REQUESTS = Counter(
    "http_requests_refused_total",
    "Requests refused before the application: too slow (408), headers too large (431)"
    " or not HTTP at all (400).",
    ["service", "status"],
)
REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled.", ["service", "route", "method", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to handle an HTTP request.",
    ["service", "route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

_access = structlog.stdlib.get_logger("access")
_ID = re.compile(r"^[A-Za-z0-9._~:-]{1,128}$")


def _stamp_service(
    _logger: object, _name: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    event.setdefault("service", SERVICE)
    for field in ("request_id", "trace_id", "span_id", "user"):
        event.setdefault(field, None)
    return event


def configure_logging(level: str, log_file: Path | None) -> None:
    """One JSON object per line on stdout (and in `log_file`), uvicorn's lines included."""
    chain: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        _stamp_service,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *chain,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    render = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
    )
    targets: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        targets.append(logging.FileHandler(log_file, encoding="utf-8"))
    root = logging.getLogger()
    root.handlers[:] = []
    for target in targets:
        target.setFormatter(render)
        root.addHandler(target)
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("botocore").setLevel(logging.WARNING)


class RequestContext:
    """Bind request id and trace to every log line; count and time each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get(b"x-request-id", "")
        if not _ID.fullmatch(request_id):
            request_id = secrets.token_hex(16)
        trace_id, span_id, flags, finish_span = tracing.start_span(
            f"{scope['method']} auth", headers.get(b"traceparent", "")
        )
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            service=SERVICE, request_id=request_id, trace_id=trace_id, span_id=span_id, user=None
        )
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    (b"traceparent", f"00-{trace_id}-{span_id}-{flags}".encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            finish_span(status)
            REQUESTS.labels(SERVICE, route, scope["method"], str(status)).inc()
            LATENCY.labels(SERVICE, route, scope["method"]).observe(elapsed)
            if scope["path"] not in ("/health", "/metrics"):
                _access.info(
                    "request",
                    method=scope["method"],
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 3),
                )
