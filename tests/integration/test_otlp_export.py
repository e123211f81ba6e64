"""OTLP export: on when OTEL_EXPORTER_OTLP_ENDPOINT is set, off (and not imported) otherwise."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from cnop_platform.local.ports import extra
from tests.helpers import GATEWAY_MARKERS, asserted, extra_process, wait_for_log_lines

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"


class _Collector(BaseHTTPRequestHandler):
    received: list[ExportTraceServiceRequest] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        _Collector.received.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Collector.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def exported_spans(service: str):
    for request in _Collector.received:
        for resource_spans in request.resource_spans:
            names = {
                a.value.string_value
                for a in resource_spans.resource.attributes
                if a.key == "service.name"
            }
            if service in names:
                for scope_spans in resource_spans.scope_spans:
                    yield from scope_spans.spans


TARGETS = {
    "inventory": (extra("otlp: inventory"), "/inventory/assets/BTC", GATEWAY_MARKERS),
    "auth": (extra("otlp: auth"), "/health", {}),
}


@pytest.mark.parametrize("component", sorted(TARGETS))
def test_spans_are_exported_under_the_callers_trace(local_platform, collector, component):
    port, path, headers = TARGETS[component]
    request_id = f"otlp-{component}-{secrets.token_hex(6)}"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    if headers:  # the gateway's markers come with its signature of this very call
        headers = {**headers, **asserted(local_platform, component, "GET", path)}
    with extra_process(local_platform, component, port, **env) as url:
        response = httpx.get(
            f"{url}{path}",
            headers={
                **headers,
                "traceparent": f"00-{TRACE_ID}-{PARENT_SPAN}-01",
                "X-Request-ID": request_id,
            },
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 10
        ours: list[Any] = []
        while not ours and time.monotonic() < deadline:
            ours = [s for s in exported_spans(component) if s.trace_id.hex() == TRACE_ID]
            time.sleep(0.1)
    assert ours, f"{component} exported no span of the trace"
    span = ours[0]
    assert span.parent_span_id.hex() == PARENT_SPAN
    assert response.headers["traceparent"] == f"00-{TRACE_ID}-{span.span_id.hex()}-01"
    if component == "inventory":
        lines = wait_for_log_lines(
            local_platform.root / "log" / f"inventory-{port}.jsonl", request_id
        )
        assert lines
        assert all(json.loads(line)["span_id"] == span.span_id.hex() for line in lines)


def test_without_the_endpoint_the_sdk_is_never_imported():
    probe = (
        "import sys, cnop_common.otel as o; from cnop_common.middleware import "
        "RequestContextMiddleware; assert o.configure('x') is None; "
        "print('opentelemetry.sdk' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.strip() == "False"
