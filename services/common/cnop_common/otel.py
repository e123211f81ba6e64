"""OpenTelemetry export over OTLP, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Off, nothing of the SDK is even imported: the request path keeps its own
W3C trace context (tracing.py) and pays nothing. On, each request becomes a
server span whose ids are the ones logged and propagated, so a trace in
Tempo and the log lines of the same request share one trace id.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from cnop_common.tracing import TraceContext, continue_trace

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
Finish = Callable[[int], None]


def _no_finish(_status: int) -> None:
    return None


class Tracer:
    """Starts one server span per request under the caller's trace context."""

    def __init__(self, service: str) -> None:
        # Imported here, not at module level: off means never imported.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._provider = TracerProvider(resource=Resource.create({"service.name": service}))
        # The exporter reads the endpoint (and headers, timeouts) from OTEL_* variables.
        self._provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self._tracer = self._provider.get_tracer("cnop")
        self._propagator = TraceContextTextMapPropagator()
        self._server = SpanKind.SERVER

    def start(self, name: str, traceparent: str | None) -> tuple[TraceContext, Finish]:
        """A span for this request, and the function that ends it with the status."""
        carrier = {"traceparent": traceparent} if traceparent else {}
        parent = self._propagator.extract(carrier)
        span: Any = self._tracer.start_span(name, context=parent, kind=self._server)
        context = span.get_span_context()
        trace = TraceContext(
            trace_id=f"{context.trace_id:032x}",
            span_id=f"{context.span_id:016x}",
            flags=f"{int(context.trace_flags):02x}",
        )

        def finish(status: int) -> None:
            span.set_attribute("http.response.status_code", status)
            span.end()

        return trace, finish

    def shutdown(self) -> None:
        """Flush what is buffered."""
        self._provider.shutdown()


_tracer: Tracer | None = None


def configure(service: str) -> Tracer | None:
    """Switch export on when the endpoint is configured; return the tracer or None."""
    global _tracer  # noqa: PLW0603 - one tracer per process, set at start-up
    _tracer = Tracer(service) if os.environ.get(ENDPOINT_VARIABLE) else None
    return _tracer


def start_span(name: str, traceparent: str | None) -> tuple[TraceContext, Finish]:
    """This hop's trace context, exported as a span when OTLP is on."""
    if _tracer is None:
        return continue_trace(traceparent), _no_finish
    return _tracer.start(name, traceparent)
