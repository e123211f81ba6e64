"""One set of trace-context vectors, run against both implementations.

The auth service keeps its own tracing code (it shares nothing by design); the
copies had drifted (auth took an all-zero trace id and always passed on flags 01).
Both must read every vector the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cnop_auth import tracing as auth_tracing
from cnop_common import tracing as common_tracing

pytestmark = pytest.mark.unit

VECTORS = json.loads((Path(__file__).parent / "trace_context_vectors.json").read_text())["vectors"]
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
SPAN_ID = re.compile(r"^[0-9a-f]{16}$")

Reader = Callable[[str | None], tuple[str, str, str]]  # -> trace id, span id, flags


def _common(traceparent: str | None) -> tuple[str, str, str]:
    trace = common_tracing.continue_trace(traceparent)
    return trace.trace_id, trace.span_id, trace.flags


def _auth(traceparent: str | None) -> tuple[str, str, str]:
    trace_id, span_id, flags, _finish = auth_tracing.start_span("GET auth", traceparent or "")
    return trace_id, span_id, flags


READERS: dict[str, Reader] = {"cnop_common": _common, "auth": _auth}


@pytest.fixture(autouse=True)
def _no_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    # The vectors are about our own parsing, not OpenTelemetry's (used when exporting).
    monkeypatch.setattr(auth_tracing, "_exporter", None)


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_both_implementations_read_every_vector_alike(reader: str, vector: dict[str, Any]):
    trace_id, span_id, flags = READERS[reader](vector["traceparent"])
    assert TRACE_ID.fullmatch(trace_id)
    assert SPAN_ID.fullmatch(span_id)
    assert trace_id != "0" * 32
    if vector["continues"]:
        assert trace_id == vector["traceparent"].split("-")[1]
        assert flags == vector["flags"]
        assert span_id != vector["traceparent"].split("-")[2]  # a span of its own
    else:
        assert vector["traceparent"] is None or trace_id not in vector["traceparent"].lower()
        assert flags == "01"  # a trace started here is sampled
