"""One request as the gateway handles it, from arrival to reply."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Receive, Scope

from cnop_gateway.cache import Identity
from cnop_gateway.headers import Headers
from cnop_gateway.routing import Route


@dataclass(slots=True)
class Call:
    """One request as the gateway handles it."""

    scope: Scope
    receive: Receive
    headers: Headers
    request_id: str
    ip: str
    route: Route | None = None
    route_label: str = "unmatched"  # the metrics label: a template, never a raw path
    body: bytes = b""
    identity: Identity | None = None
    token_key: bytes | None = None  # the bearer token's cache key, when it carries one
    revoked: bool | None = None  # what the shared store said of that token on admission
