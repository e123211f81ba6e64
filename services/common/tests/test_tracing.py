"""Request ids and W3C trace context."""

import pytest

from cnop_common import tracing

pytestmark = pytest.mark.unit

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_well_formed_request_id_is_kept():
    assert tracing.accept_request_id("client-req_42:a.b~c") == "client-req_42:a.b~c"


@pytest.mark.parametrize(
    "bad",
    [None, "", "x" * 129, "has space", "semi;colon", "new\nline", "ünïcode", "<script>"],
)
def test_malformed_request_id_is_replaced(bad):
    replaced = tracing.accept_request_id(bad)
    assert replaced != bad
    assert len(replaced) == 32
    assert all(c in "0123456789abcdef" for c in replaced)


def test_request_id_of_128_characters_is_kept():
    value = "a" * 128
    assert tracing.accept_request_id(value) == value


def test_trace_continues_the_callers_trace_with_a_new_span():
    trace = tracing.continue_trace(PARENT)
    assert trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace.span_id != "00f067aa0ba902b7"
    assert len(trace.span_id) == 16
    assert trace.traceparent() == f"00-{trace.trace_id}-{trace.span_id}-01"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ],
)
def test_invalid_traceparent_starts_a_new_trace(bad):
    trace = tracing.continue_trace(bad)
    assert len(trace.trace_id) == 32
    assert trace.trace_id != "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace.trace_id != "0" * 32


def test_propagation_headers_carry_the_bound_ids():
    trace = tracing.continue_trace(PARENT)
    tracing.bind("req-1", trace)
    assert tracing.propagation_headers() == {
        "X-Request-ID": "req-1",
        "traceparent": trace.traceparent(),
    }
