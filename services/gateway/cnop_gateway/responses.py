"""Responses the gateway writes itself, in the API's error format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cnop_gateway.headers import Headers

JSON = (b"content-type", b"application/json")


@dataclass(slots=True)
class Reply:
    """A complete response: status, headers, body."""

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""


def json_reply(status: int, payload: Any, headers: Headers | None = None) -> Reply:
    """A JSON response."""
    return Reply(status, [JSON, *(headers or [])], json.dumps(payload).encode())


def error(
    status: int, code: str, detail: str, request_id: str, headers: Headers | None = None
) -> Reply:
    """{"detail", "code", "request_id"} with the given status."""
    return json_reply(status, {"detail": detail, "code": code, "request_id": request_id}, headers)


def unauthorized(code: str, detail: str, request_id: str) -> Reply:
    """401 with the challenge RFC 6750 asks for."""
    return error(401, code, detail, request_id, [(b"www-authenticate", b"Bearer")])


def unavailable(code: str, detail: str, request_id: str, retry_after: int) -> Reply:
    """503 with Retry-After."""
    return error(503, code, detail, request_id, [(b"retry-after", str(retry_after).encode())])
