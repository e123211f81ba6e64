"""Slow and oversized requests against a real uvicorn with the guarded protocol.

Issue 12 #3 and #5: half a header, a promised body, nothing at all, a 64 MiB
header; and 200 slow connections beside one normal client.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter

from cnop_auth import guarded_http as auth_guarded
from cnop_common import guarded_http as common_guarded

pytestmark = pytest.mark.integration

# Both copies (auth keeps its own: it imports nothing shared), held to every case.
IMPLEMENTATIONS = {"cnop_common": common_guarded, "auth": auth_guarded}
# Each service counts in its own process; here one counter of the test's own serves both.
REFUSED = Counter(
    "test_refused_total",
    "Refused in this test.",
    ["service", "status"],
    registry=CollectorRegistry(),
)
LIMITS = {
    name: module.Limits(
        header_timeout=0.5, body_timeout=0.5, max_header_bytes=8 * 1024, max_headers=20
    )
    for name, module in IMPLEMENTATIONS.items()
}


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


@pytest.fixture(scope="module", params=sorted(IMPLEMENTATIONS))
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    module = IMPLEMENTATIONS[request.param]
    config = uvicorn.Config(
        _app(),
        host="127.0.0.1",
        port=0,
        log_config=None,
        lifespan="off",
        http=module.guarded_protocol("test", LIMITS[request.param], REFUSED),
        limit_concurrency=1000,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def answer(sock: socket.socket) -> tuple[int, dict[str, object], bool]:
    """Read until the server closes: the status, the JSON body, and that it closed."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body), True


def hello(port: int) -> int:
    with connect(port) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def test_half_a_header_is_closed_with_408(port):
    with connect(port) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        status, body, closed = answer(sock)  # blocks until the server gives up on us
    assert status == 408
    assert body["code"] == "REQUEST_TIMEOUT"
    assert closed


def test_a_connection_that_sends_nothing_is_closed(port):
    with connect(port) as sock:
        status, body, _closed = answer(sock)
    assert (status, body["code"]) == (408, "REQUEST_TIMEOUT")


def test_a_promised_body_that_never_comes_is_closed_with_408(port):
    with connect(port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part")
        status, body, _closed = answer(sock)
    assert (status, body["code"]) == (408, "REQUEST_TIMEOUT")


def test_an_oversized_header_is_refused_with_431_before_it_is_read(port):
    with connect(port) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            while sent < 64 * 1024 * 1024:  # a 64 MiB header, unless the server stops us
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, body, _closed = answer(sock)
    assert (status, body["code"]) == (431, "HEADERS_TOO_LARGE")
    assert sent < 8 * 1024 * 1024  # stopped long before the whole header was sent


def test_too_many_headers_are_refused_with_431(port):
    with connect(port) as sock:
        fields = b"".join(b"X-H%d: v\r\n" % i for i in range(30))
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
        status, body, _closed = answer(sock)
    assert (status, body["code"]) == (431, "HEADERS_TOO_LARGE")


def test_normal_requests_pass_and_keep_alive_works(port):
    with connect(port) as sock:
        body = b'{"a": 1}'
        request = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (
            len(body),
            body,
        )
        sock.sendall(request + request)  # two requests on one connection
        data = b""
        while data.count(b'{"bytes":8}') < 2:
            chunk = sock.recv(65536)
            assert chunk, "the connection closed early"
            data += chunk
    assert data.count(b"HTTP/1.1 200") == 2


def test_two_hundred_slow_connections_do_not_stop_a_normal_client(port):
    slow = [connect(port) for _ in range(200)]
    try:
        for index, sock in enumerate(slow):
            if index % 3 == 0:
                sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")  # half a header
            elif index % 3 == 1:
                sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n")
        assert hello(port) == 200  # served while all 200 are still open
        # And every slow one is closed within the bounds.
        statuses = {answer(sock)[0] for sock in slow}
        assert statuses == {408}
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",  # TLS hello
        b"GET /hello HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /hello HTTP/1.1\r\nHost x\r\n\r\n",  # a header without its colon
        b"NOT A REQUEST\r\n\r\n",
    ],
)
def test_what_is_not_http_gets_a_json_400_and_is_closed(port, garbage):
    """Issue 21: uvicorn answered these in plain text, not the API's error format."""
    with connect(port) as sock:
        sock.sendall(garbage)
        status, body, closed = answer(sock)
    assert (status, body["code"]) == (400, "MALFORMED_REQUEST")
    assert closed
    assert hello(port) == 200  # the server is none the worse
