"""What crosses the web UI's proxy (cnop_web/proxy.py), header by header, against a real socket.

A stand-in for the gateway (Python's HTTP server on a registry port) answers
with the headers it received and with headers of every kind: only the listed
ones cross, in either direction, the token goes as a Bearer header and the
browser's address as X-Forwarded-For, and each way the gateway can fail
becomes the web UI's own error, counted by reason.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cnop_common.errors import ApiError
from cnop_common.tracing import bind, continue_trace
from cnop_platform.local.ports import NOTHING_LISTENS, extra
from cnop_web.proxy import (
    GATEWAY_FAILURES,
    REQUEST_HEADERS,
    RESPONSE_HEADERS,
    Answer,
    GatewayProxy,
    Outgoing,
)
from cnop_web.settings import WebSettings

pytestmark = pytest.mark.unit

PORT = extra("web proxy: a gateway stand-in")
DEAD = NOTHING_LISTENS["web proxy: a gateway that is down"]
SILENT = extra("web proxy: a gateway that never accepts")
SOURCE = "127.0.0.7"  # the web UI's own loopback address towards the gateway
# Headers the stand-in adds to every answer: the listed ones and some that must stay behind.
LEAKY = {"set-cookie": "g=1", "server": "gateway/1", "x-user-id": "u-1", "location": "/x"}


class StandIn(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(2)
        if self.path.startswith("/garbage"):
            self.wfile.write(b"not http at all\r\n\r\n")
            return
        length = int(self.headers.get("content-length") or 0)
        seen = {
            "method": self.command,
            "path": self.path,
            "peer": self.client_address[0],
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": self.rfile.read(length).decode(),
        }
        body = json.dumps(seen).encode()
        self.send_response(302 if self.path.startswith("/redirect") else 200)
        for name in RESPONSE_HEADERS:
            self.send_header(name, f"value-of-{name}")
        for name, value in LEAKY.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer  # noqa: N815 (http.server's names)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", PORT), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PORT}"
    server.shutdown()
    server.server_close()


def _send(url: str, call: Outgoing, timeout: float = 5.0) -> Answer:
    settings = WebSettings(
        gateway_url=url, gateway_source_address=SOURCE, gateway_timeout_seconds=timeout
    )

    async def once() -> Answer:
        proxy = GatewayProxy(settings)
        try:
            return await proxy.send(call)
        finally:
            await proxy.close()

    return asyncio.run(once())


def _call(path: str = "/api/v1/orders?limit=5", **changes: object) -> Outgoing:
    values: dict[str, object] = {
        "method": "POST",
        "path_and_query": path,
        "headers": {},
        "body": b'{"quantity":"1"}',
        "token": "the-token",
        "client_ip": "203.0.113.9",
    }
    values.update(changes)
    return Outgoing(**values)  # type: ignore[arg-type]


def _seen(answer: Answer) -> dict[str, object]:
    seen: dict[str, object] = json.loads(answer.body)
    return seen


BROWSER_HEADERS = {
    **{name: f"browser-{name}" for name in REQUEST_HEADERS},
    "cookie": "cnop_session=the-token",
    "authorization": "Bearer forged",
    "x-user-id": "admin",
    "x-user-role": "admin",
    "x-identity-assertion": "forged",
    "x-forwarded-for": "10.0.0.1",
    "x-real-ip": "10.0.0.1",
    "origin": "http://127.0.0.1:3000",
    "x-requested-with": "cnop-web",
    "x-custom": "anything",
}


def test_only_the_listed_request_headers_cross(gateway):
    def as_one_request() -> Answer:
        # This request's id and trace, as the web UI's middleware binds them (in a
        # context of its own: nothing leaks into other tests, nothing leaks in).
        bind("req-proxy-1", continue_trace(None))
        return _send(gateway, _call(headers=BROWSER_HEADERS))

    headers = _seen(contextvars.copy_context().run(as_one_request))["headers"]
    assert isinstance(headers, dict)
    for name in REQUEST_HEADERS:
        assert headers[name] == f"browser-{name}", name
    assert headers["x-request-id"] == "req-proxy-1"
    assert headers["traceparent"].startswith("00-")
    # httpx's own (host, length, encoding, agent, connection) and ours; nothing else.
    ours = {"authorization", "x-forwarded-for", "x-request-id", "traceparent"}
    httpx_own = {"host", "content-length", "accept-encoding", "user-agent", "connection"}
    assert set(headers) == set(REQUEST_HEADERS) | ours | httpx_own
    assert headers["authorization"] == "Bearer the-token"  # from the cookie, not the browser
    assert headers["x-forwarded-for"] == "203.0.113.9"  # the TCP peer, not the browser's claim


def test_without_a_session_no_authorization_crosses(gateway):
    call = _call(headers={"authorization": "Bearer forged"}, token=None)
    headers = _seen(_send(gateway, call))["headers"]
    assert isinstance(headers, dict)
    assert "authorization" not in headers


def test_the_call_crosses_as_it_was_from_the_web_ui_s_own_address(gateway):
    seen = _seen(_send(gateway, _call(method="PUT", body=b'{"a":1}')))
    assert (seen["method"], seen["path"], seen["body"]) == (
        "PUT",
        "/api/v1/orders?limit=5",
        '{"a":1}',
    )
    assert seen["peer"] == SOURCE


def test_only_the_listed_response_headers_come_back(gateway):
    answer = _send(gateway, _call())
    assert answer.status == 200
    assert answer.headers == {name: f"value-of-{name}" for name in RESPONSE_HEADERS}


def test_a_redirect_is_passed_back_not_followed(gateway):
    answer = _send(gateway, _call("/redirect"))
    assert answer.status == 302
    assert "location" not in answer.headers


def _failures(reason: str) -> float:
    value: float = GATEWAY_FAILURES.labels(reason)._value.get()
    return value


def _refusal(url: str, path: str = "/api/v1/orders", timeout: float = 5.0) -> ApiError:
    with pytest.raises(ApiError) as refused:
        _send(url, _call(path), timeout)
    return refused.value


def test_a_gateway_that_is_down_is_a_503_to_retry(gateway):
    with socket.socket() as probe:  # the registry's promise: nothing listens there
        assert probe.connect_ex(("127.0.0.1", DEAD)) != 0
    before = _failures("unavailable")
    error = _refusal(f"http://127.0.0.1:{DEAD}")
    assert (error.status_code, error.code) == (503, "GATEWAY_UNAVAILABLE")
    assert error.headers == {"Retry-After": "2"}
    assert _failures("unavailable") == before + 1


def test_a_gateway_that_does_not_answer_in_time_is_a_504(gateway):
    before = _failures("timeout")
    error = _refusal(gateway, "/slow", timeout=0.3)
    assert (error.status_code, error.code) == (504, "GATEWAY_TIMEOUT")
    assert "Idempotency-Key" in error.detail
    assert _failures("timeout") == before + 1


def test_an_unreadable_answer_is_a_502(gateway):
    before = _failures("error")
    error = _refusal(gateway, "/garbage")
    assert (error.status_code, error.code) == (502, "BAD_GATEWAY")
    assert _failures("error") == before + 1


def test_a_gateway_that_does_not_take_the_connection_is_a_503(monkeypatch):
    # A listener whose queue is full: the kernel drops further connections'
    # first packets, so the connect itself times out (nothing was sent).
    listener = socket.socket()
    listener.bind(("127.0.0.1", SILENT))
    listener.listen(0)
    waiting = []
    try:
        for _ in range(4):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", SILENT))
            waiting.append(client)
        before = _failures("unavailable")
        error = _refusal(f"http://127.0.0.1:{SILENT}", timeout=0.5)
        assert (error.status_code, error.code) == (503, "GATEWAY_UNAVAILABLE")
        assert _failures("unavailable") == before + 1
    finally:
        for client in waiting:
            client.close()
        listener.close()


def test_no_proxy_is_taken_from_the_environment(gateway, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{DEAD}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert _send(gateway, _call()).status == 200  # straight to the gateway


def test_a_call_and_its_answer_cannot_be_changed_once_made():
    call = _call()
    with pytest.raises(FrozenInstanceError):
        call.token = "another"  # type: ignore[misc]
    answer = Answer(200, {}, b"")
    with pytest.raises(FrozenInstanceError):
        answer.status = 500  # type: ignore[misc]
