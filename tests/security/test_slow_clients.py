"""Slow and oversized requests against the real gateway and web UI processes (issue 12 #3, #5).

Before: a connection sending half a header, a promised body that never came,
or nothing at all stayed open for 75 s and more on 8080 and 3000; a 64 MiB
header was read, answered 200 after 7 s and forwarded to inventory.
"""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from cnop_platform.local.ports import extra
from tests.helpers import extra_process

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PORTS = {
    "gateway": extra("slow clients: gateway"),
    "web": extra("slow clients: web UI"),
    "auth": extra("slow clients: auth"),
}
QUICK = {"HEADER_TIMEOUT_SECONDS": "1", "BODY_TIMEOUT_SECONDS": "1"}
# A POST each server waits on the body of (auth's routes have no /api/v1 prefix).
BODY_ROUTES = {
    "gateway": b"/api/v1/auth/login",
    "web": b"/api/v1/auth/login",
    "auth": b"/auth/tokens",
}


def promised_body(server: str) -> bytes:
    """A request whose body is promised and never comes."""
    component = next(name for name, port in PORTS.items() if server.endswith(f":{port}"))
    return (
        b"POST "
        + BODY_ROUTES[component]
        + b" HTTP/1.1\r\nHost: x\r\nX-Requested-With: cnop-web\r\n"
        b"Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{"
    )


@pytest.fixture(scope="module", params=sorted(PORTS))
def server(request, local_platform):
    with extra_process(local_platform, request.param, PORTS[request.param], **QUICK) as url:
        yield url


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=15)


def _answer(sock: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    while chunk := sock.recv(65536):  # until the server closes
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_two_hundred_slow_connections_do_not_stop_a_normal_client(server):
    slow = [_connect(server) for _ in range(200)]
    try:
        for index, sock in enumerate(slow):
            if index % 3 == 0:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            elif index % 3 == 1:
                sock.sendall(promised_body(server))
        assert httpx.get(f"{server}/health", timeout=5, trust_env=False).status_code == 200
        answers = [_answer(sock) for sock in slow]
        assert {status for status, _body in answers} == {408}
        assert {body["code"] for _status, body in answers} == {"REQUEST_TIMEOUT"}
    finally:
        for sock in slow:
            sock.close()


def test_a_64_mib_header_is_refused_with_431_and_never_forwarded(server):
    with _connect(server) as sock:
        sock.sendall(b"GET /api/v1/inventory/assets HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, body = _answer(sock)
    assert (status, body["code"]) == (431, "HEADERS_TOO_LARGE")
    assert sent < 8 * 1024 * 1024


def test_what_is_not_http_gets_the_json_error_format(server):
    """Issue 21: uvicorn answered unparsable bytes with a plain-text 400."""
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost x\r\n\r\n")  # a header without its colon
        status, body = _answer(sock)
    assert (status, body["code"]) == (400, "MALFORMED_REQUEST")
    assert httpx.get(f"{server}/health", timeout=5, trust_env=False).status_code == 200
