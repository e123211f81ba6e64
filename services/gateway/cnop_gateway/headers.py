"""What crosses the gateway: client headers are cleaned, identity headers are ours alone."""

from __future__ import annotations

from collections.abc import Iterable

from cnop_common.forwarded import client_ip as forwarded_client_ip
from cnop_gateway.settings import Network

Headers = list[tuple[bytes, bytes]]

# Identity and trust headers only the gateway may set: every client copy goes.
IDENTITY = frozenset(
    {
        b"x-user-id",
        b"x-user-role",
        b"x-source",
        b"x-auth-service",
        b"x-authenticated",
        b"x-identity-assertion",
        # A client's own signature headers: the gateway signs each call itself.
        b"signature-input",
        b"signature",
        b"content-digest",
        b"x-cnop-audience",
    }
)
# Hop-by-hop (RFC 9110 §7.6.1) plus what the gateway sets itself.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
    }
)
GATEWAY_SET = frozenset({b"authorization", b"x-request-id", b"traceparent", b"cookie"})


def values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """Every value of one header (names compared case-insensitively)."""
    return [value for key, value in headers if key.lower() == name]


def for_upstream(client_headers: Headers, injected: dict[str, str]) -> dict[str, str]:
    """Client headers minus identity, hop-by-hop and Connection-named ones, plus ours.

    Headers named in `Connection:` are dropped from what the client sent, but
    never our injected ones: listing X-User-ID there cannot remove the identity.
    """
    nominated = {
        token.strip().lower().encode()
        for value in values(client_headers, b"connection")
        for token in value.decode("latin-1").split(",")
    }
    dropped = IDENTITY | HOP_BY_HOP | GATEWAY_SET | nominated
    out: dict[str, str] = {}
    for key, value in client_headers:
        name = key.lower()
        if name in dropped:
            continue
        text = name.decode("latin-1")
        # Repeated end-to-end headers are folded, as HTTP allows.
        out[text] = (
            f"{out[text]}, {value.decode('latin-1')}" if text in out else (value.decode("latin-1"))
        )
    out.update(injected)
    return out


def from_upstream(upstream_headers: Iterable[tuple[str, str]]) -> Headers:
    """Upstream response headers minus hop-by-hop and the ones the gateway sets."""
    skip = HOP_BY_HOP | {b"x-request-id", b"traceparent", b"server", b"date"}
    return [
        (key.lower().encode("latin-1"), value.encode("latin-1"))
        for key, value in upstream_headers
        if key.lower().encode("latin-1") not in skip
    ]


def client_ip(peer: str, client_headers: Headers, trusted_proxies: tuple[Network, ...]) -> str:
    """The TCP peer, unless it is a trusted proxy: then the nearest untrusted forwarded hop."""
    forwarded = [value.decode("latin-1") for value in values(client_headers, b"x-forwarded-for")]
    return forwarded_client_ip(peer, forwarded, trusted_proxies)
