"""Reading a whole request body from ASGI, bounded (the gateway's forwarding, the
backends' check of a signed call's digest)."""

from __future__ import annotations

from starlette.types import Message, Receive


async def read_bounded(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
