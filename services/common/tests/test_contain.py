"""A backend's unhandled error leaves its keep-alive connection usable (issue 12 #6)."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from cnop_common.contain import ContainErrors
from cnop_common.errors import install_error_handlers

pytestmark = pytest.mark.integration


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/fine")
    def fine() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def _serve(app) -> Iterator[int]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def contained() -> Iterator[int]:
    yield from _serve(ContainErrors(_app()))


@pytest.fixture
def bare() -> Iterator[int]:
    yield from _serve(_app())


def _closed_by_server(connection: http.client.HTTPConnection) -> bool:
    assert connection.sock is not None
    connection.sock.settimeout(5)
    return connection.sock.recv(1, socket.MSG_PEEK) == b""  # blocks until data or close


def _two_requests(port: int, expect_close: bool) -> tuple[int, int | str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/boom")
        first = connection.getresponse()
        body = json.loads(first.read())
        assert body["code"] == "INTERNAL_ERROR"
        if expect_close:
            assert _closed_by_server(connection)
        try:
            connection.request("GET", "/fine")
            return first.status, connection.getresponse().status
        except (http.client.HTTPException, OSError) as exc:
            return first.status, type(exc).__name__
    finally:
        connection.close()


def test_after_a_500_the_same_connection_serves_the_next_request(contained):
    assert _two_requests(contained, expect_close=False) == (500, 200)


def test_without_containment_the_server_drops_the_connection(bare):
    # What poisoned the gateway's pool: the same request sequence fails on reuse.
    status, second = _two_requests(bare, expect_close=True)
    assert status == 500
    assert second != 200
