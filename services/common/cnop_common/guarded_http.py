"""uvicorn's HTTP protocol with the bounds it lacks: header size and count, and time.

uvicorn (with httptools) reads a request's header for as long as the client
cares to send it, however large, and waits for a promised body forever. So a
64 MiB header was read in full and forwarded, and connections sending half a
header or nothing at all stayed open for minutes. Here, per connection:

- the header section (request line and headers) must arrive within
  `header_timeout` of the request's first byte (of the connection, for the
  first request), else 408 and close;
- a promised body must arrive within `body_timeout` of the headers, else 408
  and close (unless the application already answered);
- the header section may hold at most `max_header_bytes` bytes and
  `max_headers` fields, else 431 and close: counted as bytes arrive, so memory
  stays bounded whatever the client sends;
- bytes the parser cannot read as HTTP/1.1 get 400 and close (uvicorn's own
  answer is plain text).

Answers are JSON in the API's error format. Connections per process are
capped by uvicorn's own `limit_concurrency` (see server.py).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from prometheus_client import Counter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cnop_common.metrics import SLOW_OR_OVERSIZED

REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large"}
MESSAGES = {
    400: ("MALFORMED_REQUEST", "The request is not well-formed HTTP/1.1."),
    408: ("REQUEST_TIMEOUT", "The request did not arrive in time."),
    431: ("HEADERS_TOO_LARGE", "The request's headers are too large or too many."),
}


@dataclass(frozen=True, slots=True)
class Limits:
    """How much header, and how much time, one request may take."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_header_bytes: int = 32 * 1024
    max_headers: int = 100


def guarded_protocol(
    service: str, limits: Limits, refused: Counter = SLOW_OR_OVERSIZED
) -> type[HttpToolsProtocol]:
    """The protocol class to hand uvicorn (`http=`), bound to these limits; `refused`
    counts what it refuses, by service and status."""

    for status in REASONS:  # every series from start-up: the security dashboard reads them
        refused.labels(service, str(status))

    class Guarded(GuardedHttpProtocol):
        SERVICE = service
        LIMITS = limits
        REFUSED = refused

    return Guarded


class GuardedHttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus deadlines and header bounds (see the module's text)."""

    SERVICE = "service"
    LIMITS = Limits()
    REFUSED: Counter

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_bytes = 0
        self._header_count = 0
        self._in_headers = True
        self._refused = False
        self._deadline: asyncio.TimerHandle | None = None
        self._arm(self.LIMITS.header_timeout)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_headers and not self._refused:
            # Everything since the request began is header (the parser has not
            # reached the end of it): refuse before it grows any further.
            self._header_bytes += len(data)
            if self._header_bytes > self.LIMITS.max_header_bytes:
                self._refuse(431)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_headers:  # a next request on a kept-alive connection
            self._in_headers = True
            self._header_bytes = 0
            self._header_count = 0
            self._arm(self.LIMITS.header_timeout)

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._header_count += 1
        if self._header_count > self.LIMITS.max_headers:
            self._refuse(431)

    def on_headers_complete(self) -> None:
        if self._refused:
            return  # the rest of a refused request's bytes start nothing
        self._in_headers = False
        self._disarm()
        if self._expects_body():
            self._arm(self.LIMITS.body_timeout)
        super().on_headers_complete()

    def _expects_body(self) -> bool:
        for name, value in self.headers:
            if name == b"content-length":
                return value.strip() not in (b"", b"0")
            if name == b"transfer-encoding":
                return True
        return False

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        if not self._refused:
            super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to what its parser cannot read, in the API's error format."""
        del msg  # the parser's words are for uvicorn's log, not for the client
        self._refuse(400)

    def _too_slow(self) -> None:
        self._deadline = None
        answered = self.cycle is not None and self.cycle.response_started
        if self._in_headers or not answered:
            self._refuse(408)
        else:
            self.transport.close()

    def _refuse(self, status: int) -> None:
        """Answer in the API's error format and close; nothing more is read."""
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self._disarm()
        self.REFUSED.labels(self.SERVICE, str(status)).inc()
        code, message = MESSAGES[status]
        body = json.dumps({"detail": message, "code": code, "request_id": ""}).encode()
        head = (
            f"HTTP/1.1 {status} {REASONS[status]}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        self.transport.close()
        if self.cycle is not None and not self.cycle.response_complete:
            # The application, if it runs, sees the client gone.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
