"""W3C trace context for the auth service, exported over OTLP when configured.

The auth service keeps its own copy of this (it shares no code): the caller's
trace continues here, with this hop's span id in every log line.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from typing import Any

# Any version but ff, in version 00's shape (tests/contract/trace_context_vectors.json).
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
Span = tuple[str, str, str, Callable[[int], None]]  # trace id, span id, flags, finish(status)


def _ignore(_status: int) -> None:
    return None


class _Exporter:
    def __init__(self) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self.provider = TracerProvider(resource=Resource.create({"service.name": "auth"}))
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.tracer = self.provider.get_tracer("cnop-auth")
        self.propagator = TraceContextTextMapPropagator()
        self.kind = SpanKind.SERVER

    def start(self, name: str, traceparent: str) -> Span:
        parent = self.propagator.extract({"traceparent": traceparent} if traceparent else {})
        span: Any = self.tracer.start_span(name, context=parent, kind=self.kind)
        ids = span.get_span_context()

        def finish(status: int) -> None:
            span.set_attribute("http.response.status_code", status)
            span.end()

        return f"{ids.trace_id:032x}", f"{ids.span_id:016x}", f"{ids.trace_flags:02x}", finish


_exporter: _Exporter | None = None


def configure() -> None:
    """Export spans when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise import nothing."""
    global _exporter  # noqa: PLW0603 - one exporter per process, set at start-up
    _exporter = _Exporter() if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else None


def start_span(name: str, traceparent: str) -> Span:
    """Continue the caller's trace (or start one) with a new span id for this hop."""
    if _exporter is not None:
        return _exporter.start(name, traceparent)
    parent = _TRACEPARENT.fullmatch(traceparent.strip())
    if parent is not None:
        version, trace_id, parent_id, flags = parent.groups()
        # Version ff and all-zero ids are invalid (W3C): those start a new trace.
        if version != "ff" and trace_id != "0" * 32 and parent_id != "0" * 16:
            return trace_id, secrets.token_hex(8), flags, _ignore
    return secrets.token_hex(16), secrets.token_hex(8), "01", _ignore


def shutdown() -> None:
    """Flush buffered spans."""
    if _exporter is not None:
        _exporter.provider.shutdown()
