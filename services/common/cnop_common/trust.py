"""The trusted-source check of the trust model (architecture.md, point 3).

A backend serves a request only when the TCP peer is inside TRUSTED_NETWORKS
and the request carries the gateway's markers (`X-Source: gateway`,
`X-Auth-Service: auth-service`); the caller's identity is then read from
`X-User-ID`. Internal endpoints (under /internal/) instead accept only named
peer services (`X-Source: order`, ...), also only from trusted networks.
Everything else is refused with 403 UNTRUSTED_SOURCE and counted.

The peer address is the socket's, never a forwarded header: uvicorn runs with
proxy headers off so `scope["client"]` is the real TCP peer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from ipaddress import ip_address

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cnop_common.assertions import HEADER as ASSERTION_HEADER
from cnop_common.assertions import AssertionRefused, Verifier
from cnop_common.errors import ApiError, error_response
from cnop_common.logging import get_logger
from cnop_common.metrics import UNTRUSTED_REQUESTS
from cnop_common.settings import Network

log = get_logger("security")

GATEWAY_MARKERS = {b"x-source": b"gateway", b"x-auth-service": b"auth-service"}
# Operational endpoints stay reachable for probes and Prometheus; in a cluster
# the NetworkPolicy decides who may reach them.
OPEN_PATHS = frozenset({"/health", "/ready", "/metrics", "/docs", "/openapi.json"})
INTERNAL_PREFIX = "/internal/"
IDENTITY_HEADERS = (
    b"x-user-id",
    b"x-user-role",
    b"x-source",
    b"x-auth-service",
    ASSERTION_HEADER.encode(),
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who the gateway says is calling."""

    username: str
    role: str


def _values(scope: Scope, name: bytes) -> list[bytes]:
    return [value for key, value in scope.get("headers", ()) if key.lower() == name]


def peer_is_trusted(scope: Scope, networks: Iterable[Network]) -> bool:
    """True when the TCP peer's address lies in one of the trusted networks."""
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ip_address(client[0])
    except ValueError:
        return False
    return any(address in network for network in networks)


# Every reason a request can be refused for. Each series exists from start-up at 0, so
# dashboards show "0 refused" rather than "No data" while nothing is refused.
REFUSAL_REASONS = (
    "untrusted_network",
    "repeated_identity_header",
    "unknown_internal_caller",
    "missing_gateway_headers",
    "missing_user",
    # The signed assertion (assertions.py): absent, unverifiable, too old, by a
    # caller not allowed here, or saying something else than the headers.
    "missing_assertion",
    "bad_assertion",
    "stale_assertion",
    "wrong_caller",
    "assertion_mismatch",
)


def refusal_reason(
    scope: Scope,
    networks: Iterable[Network],
    internal_callers: Collection[str],
    verifier: Verifier | None = None,
) -> str | None:
    """Why this request must be refused, or None when it comes from a trusted source."""
    if not peer_is_trusted(scope, networks):
        return "untrusted_network"
    # A repeated trust header means someone other than the gateway wrote it.
    if any(len(_values(scope, name)) > 1 for name in IDENTITY_HEADERS):
        return "repeated_identity_header"
    if scope["path"].startswith(INTERNAL_PREFIX):
        source = _values(scope, b"x-source")
        if not source or source[0].decode("latin-1") not in internal_callers:
            return "unknown_internal_caller"
        return _assertion_problem(scope, verifier, internal_callers, internal=True)
    for name, expected in GATEWAY_MARKERS.items():
        if _values(scope, name) != [expected]:
            return "missing_gateway_headers"
    return _assertion_problem(scope, verifier, ("gateway",), internal=False)


def _assertion_problem(
    scope: Scope, verifier: Verifier | None, issuers: Collection[str], *, internal: bool
) -> str | None:
    """The signed assertion must vouch for exactly what the headers say."""
    if verifier is None:
        return None  # development without keys: the network check alone
    token = _values(scope, ASSERTION_HEADER.encode())
    try:
        claims = verifier.verify(token[0].decode("latin-1") if token else None, issuers)
    except AssertionRefused as refused:
        return refused.reason
    if internal:
        source = _values(scope, b"x-source")[0].decode("latin-1")
        return None if claims["iss"] == source else "assertion_mismatch"
    user = [v.decode("latin-1") for v in _values(scope, b"x-user-id")]
    role = [v.decode("latin-1") for v in _values(scope, b"x-user-role")]
    said = (user[0] if user else None, role[0] if role else None)
    vouched = (claims.get("sub"), claims.get("role"))
    return (
        None
        if said == vouched or (said[0] is None and vouched[0] is None)
        else "assertion_mismatch"
    )


class TrustedSourceMiddleware:
    """Refuse, with 403 UNTRUSTED_SOURCE, every request not from a trusted source."""

    def __init__(
        self,
        app: ASGIApp,
        service: str,
        networks: Iterable[Network],
        internal_callers: Collection[str] = (),
        verifier: Verifier | None = None,
    ) -> None:
        self.app = app
        self.service = service
        self.networks = tuple(networks)
        self.internal_callers = frozenset(internal_callers)
        self.verifier = verifier
        for reason in REFUSAL_REASONS:
            UNTRUSTED_REQUESTS.labels(service, reason)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        reason = refusal_reason(scope, self.networks, self.internal_callers, self.verifier)
        if reason is None:
            await self.app(scope, receive, send)
            return
        UNTRUSTED_REQUESTS.labels(self.service, reason).inc()
        client = scope.get("client")
        log.warning(
            "untrusted_request_refused",
            reason=reason,
            peer=client[0] if client else None,
            path=scope["path"],
        )
        response = error_response(
            403, "UNTRUSTED_SOURCE", "Requests must come through the platform gateway."
        )
        await response(scope, receive, send)


def current_caller(request: Request) -> Caller:
    """FastAPI dependency: the user the gateway authenticated for this request."""
    username = request.headers.get("x-user-id", "").strip()
    if not username:
        # The gateway sends a user on every protected route; without one the
        # request did not pass authentication, so it is not served.
        UNTRUSTED_REQUESTS.labels(request.app.title, "missing_user").inc()
        raise ApiError(403, "UNTRUSTED_SOURCE", "Requests must come through the platform gateway.")
    return Caller(username=username.lower(), role=request.headers.get("x-user-role", "customer"))
