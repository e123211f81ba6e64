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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cnop_common.assertions import SIGNATURE_HEADERS, AssertionRefused, Verifier
from cnop_common.bodies import read_bounded
from cnop_common.errors import ApiError, error_response
from cnop_common.logging import get_logger
from cnop_common.metrics import UNTRUSTED_REQUESTS
from cnop_common.nonces import NonceStore
from cnop_common.settings import Network
from cnop_common.signatures import Call

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
    *(name.encode() for name in SIGNATURE_HEADERS),
)
# The most body a signed call may carry: its digest is checked, so it is read first.
MAX_SIGNED_BODY = 1024 * 1024


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
    # The call's signature (assertions.py): absent, unverifiable, too old, by a
    # caller not allowed here, for another call (body, user), or seen before.
    "missing_assertion",
    "bad_assertion",
    "stale_assertion",
    "wrong_caller",
    "assertion_mismatch",
    "replayed_assertion",
    "body_too_large",
)


def refusal_reason(
    scope: Scope, networks: Iterable[Network], internal_callers: Collection[str]
) -> str | None:
    """Why this request must be refused before its signature is even looked at (the
    network, the markers), or None."""
    if not peer_is_trusted(scope, networks):
        return "untrusted_network"
    # A repeated trust header means someone other than the gateway wrote it.
    if any(len(_values(scope, name)) > 1 for name in IDENTITY_HEADERS):
        return "repeated_identity_header"
    if scope["path"].startswith(INTERNAL_PREFIX):
        source = _values(scope, b"x-source")
        if not source or source[0].decode("latin-1") not in internal_callers:
            return "unknown_internal_caller"
        return None
    for name, expected in GATEWAY_MARKERS.items():
        if _values(scope, name) != [expected]:
            return "missing_gateway_headers"
    return None


async def signature_problem(
    scope: Scope,
    body: bytes,
    verifier: Verifier,
    internal_callers: Collection[str],
    nonces: NonceStore | None = None,
) -> str | None:
    """The signature must cover exactly this call, by the caller the markers name, and
    be the first use of its nonce here and (with `nonces`) on every replica."""
    internal = scope["path"].startswith(INTERNAL_PREFIX)
    headers = {
        key.decode("latin-1").lower(): value.decode("latin-1")
        for key, value in scope.get("headers", ())
    }
    call = Call(
        scope["method"],
        scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
        scope.get("query_string", b"").decode("latin-1"),
        headers,
        body,
    )
    try:
        claims = verifier.verify(call, internal_callers if internal else ("gateway",))
    except AssertionRefused as refused:
        return refused.reason
    if internal and claims["iss"] != headers.get("x-source"):
        return "assertion_mismatch"
    if nonces is not None and not await nonces.first_use(claims["nonce"], claims["until"]):
        return "replayed_assertion"  # another replica accepted this very call
    return None


def replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the application the body already read, then the rest."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class TrustedSourceMiddleware:
    """Refuse, with 403 UNTRUSTED_SOURCE, every request not from a trusted source."""

    def __init__(
        self,
        app: ASGIApp,
        service: str,
        networks: Iterable[Network],
        *,
        internal_callers: Collection[str] = (),
        verifier: Verifier | None = None,
        nonces: NonceStore | None = None,
    ) -> None:
        self.app = app
        self.nonces = nonces
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
        reason = refusal_reason(scope, self.networks, self.internal_callers)
        if reason is None and self.verifier is not None:  # none: development without keys
            body = await read_bounded(receive, MAX_SIGNED_BODY)
            if body is None:
                reason = "body_too_large"
            else:
                receive = replaying(body, receive)
                reason = await signature_problem(
                    scope, body, self.verifier, self.internal_callers, self.nonces
                )
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
