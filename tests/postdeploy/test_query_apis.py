"""The tracing suite's readers of Loki's and Tempo's APIs, against servers that answer as those
APIs document (no Loki or Tempo can run here): the query sent, and the answer read."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.postdeploy.support import services_in_loki, services_in_tempo

pytestmark = pytest.mark.unit

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
LOKI_ANSWER: dict[str, Any] = {
    "status": "success",
    "data": {
        "resultType": "streams",
        "result": [
            {"stream": {"service": "gateway", "level": "info"}, "values": [["1", "..."]]},
            {"stream": {"service": "auth", "level": "info"}, "values": [["2", "..."]]},
        ],
    },
}
TEMPO_ANSWER: dict[str, Any] = {
    "batches": [
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "order"}}]}},
        {
            "resource": {
                "attributes": [{"key": "service.name", "value": {"stringValue": "inventory"}}]
            }
        },
    ]
}


class Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        Recorder.seen.append(self.path)
        parts = urlsplit(self.path)
        if parts.path == "/loki/api/v1/query_range":
            body = LOKI_ANSWER
        elif parts.path == f"/api/traces/{TRACE}":
            body = TEMPO_ANSWER
        else:
            self.send_error(404)
            return
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Recorder.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_loki_is_asked_for_the_trace_id_in_our_streams(server):
    assert services_in_loki(server, TRACE) == {"gateway", "auth"}
    (path,) = Recorder.seen
    query = parse_qs(urlsplit(path).query)
    assert query["query"] == [f'{{service=~".+"}} |= "{TRACE}"']
    assert int(query["start"][0]) < int(query["end"][0])


def test_tempo_spans_are_read_by_service_name(server):
    assert services_in_tempo(server, TRACE) == {"order", "inventory"}
    assert services_in_tempo(server, "0" * 32) == set()  # Tempo's 404: no such trace yet
