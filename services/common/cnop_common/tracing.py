"""Request ids and W3C Trace Context, accepted or started, and passed on every hop."""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass

from cnop_common import randomness

REQUEST_ID_HEADER = "x-request-id"
TRACEPARENT_HEADER = "traceparent"

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._~:-]{1,128}$")
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True, slots=True)
class TraceContext:
    """This service's span of a request: the trace it belongs to and its own span id."""

    trace_id: str
    span_id: str
    flags: str = "01"

    def traceparent(self) -> str:
        """The header that makes the next hop a child of this span."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


_current_trace: ContextVar[TraceContext | None] = ContextVar("cnop_trace", default=None)
_current_request_id: ContextVar[str | None] = ContextVar("cnop_request_id", default=None)


def accept_request_id(value: str | None) -> str:
    """Keep a well-formed client id (≤ 128 token characters); otherwise mint one."""
    if value is not None and _REQUEST_ID.fullmatch(value):
        return value
    return randomness.token_hex(16)


def continue_trace(traceparent: str | None) -> TraceContext:
    """Start this hop's span under the caller's trace, or a new trace if there is none."""
    # Upper-case hex is not the format (W3C): it starts a new trace, as in the auth copy.
    match = _TRACEPARENT.fullmatch(traceparent.strip()) if traceparent else None
    span_id = randomness.token_hex(8)
    if match is not None:
        version, trace_id, parent_id, flags = match.groups()
        # Version ff and all-zero ids are invalid by the W3C spec: start afresh.
        if version != "ff" and trace_id != "0" * 32 and parent_id != "0" * 16:
            return TraceContext(trace_id=trace_id, span_id=span_id, flags=flags)
    return TraceContext(trace_id=randomness.token_hex(16), span_id=span_id)


def bind(request_id: str, trace: TraceContext) -> None:
    """Make the request's ids current for this context (and threads started from it)."""
    _current_request_id.set(request_id)
    _current_trace.set(trace)


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return _current_request_id.get()


def propagation_headers() -> dict[str, str]:
    """Headers that carry the current request id and trace to the next hop."""
    headers: dict[str, str] = {}
    request_id = _current_request_id.get()
    trace = _current_trace.get()
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    if trace is not None:
        headers["traceparent"] = trace.traceparent()
    return headers
