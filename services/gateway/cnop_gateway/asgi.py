"""Small ASGI helpers of the gateway: headers, bodies, replies."""

from __future__ import annotations

import json

from starlette.types import Receive, Send

from cnop_common.bodies import read_bounded
from cnop_gateway.headers import Headers
from cnop_gateway.responses import Reply


class BodyTooLarge(Exception):  # noqa: N818 - a verdict on the request
    """The request body is over the configured limit."""


def first_header(headers: Headers, name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def login_name(body: bytes) -> str:
    # The guard needs the username before the user service sees it; a body it
    # cannot read is still counted, under "".
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
        return ""
    name = data.get("username") if isinstance(data, dict) else None
    if not isinstance(name, str):
        return ""
    # JSON may spell text no encoder takes (a lone surrogate, "\ud800"): the guard's
    # key keeps it as an escape, one stable key per such name, that Redis and the
    # logs can carry. The user service refuses the name itself (422).
    return name.strip().lower()[:64].encode("utf-8", "backslashreplace").decode("utf-8")


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; BodyTooLarge past `limit` bytes."""
    body = await read_bounded(receive, limit)
    if body is None:
        raise BodyTooLarge
    return body


async def send_reply(send: Send, reply: Reply) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            # 204 and 304 carry no body, and say nothing about its length.
            "headers": reply.headers
            if reply.status in (204, 304)
            else [*reply.headers, (b"content-length", str(len(reply.body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": reply.body})
