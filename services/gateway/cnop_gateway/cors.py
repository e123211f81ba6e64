"""CORS: origins come from configuration (default: the web UI only)."""

from __future__ import annotations

from cnop_gateway.headers import Headers, values
from cnop_gateway.responses import Reply, error

ALLOWED_METHODS = b"GET, POST, PUT, OPTIONS"
ALLOWED_HEADERS = b"Authorization, Content-Type, Idempotency-Key, X-Request-ID, traceparent"
EXPOSED_HEADERS = (
    b"X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
)


class Cors:
    """Answers preflights and marks responses for allowed origins."""

    def __init__(self, origins: tuple[str, ...]) -> None:
        self.origins = frozenset(origin.encode() for origin in origins)

    def _origin(self, headers: Headers) -> bytes | None:
        found = values(headers, b"origin")
        return found[0] if len(found) == 1 and found[0] in self.origins else None

    def preflight(self, headers: Headers, request_id: str) -> Reply:
        """204 with the allowances for a known origin; 403 otherwise."""
        origin = self._origin(headers)
        if origin is None:
            return error(403, "CORS_ORIGIN_NOT_ALLOWED", "Origin not allowed.", request_id)
        return Reply(
            204,
            [
                (b"access-control-allow-methods", ALLOWED_METHODS),
                (b"access-control-allow-headers", ALLOWED_HEADERS),
                (b"access-control-max-age", b"600"),
            ],
        )

    def response_headers(self, headers: Headers) -> Headers:
        """Allow-Origin (and Vary) when the request came from a known origin."""
        origin = self._origin(headers)
        if origin is None:
            return [(b"vary", b"Origin")] if values(headers, b"origin") else []
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", EXPOSED_HEADERS),
            (b"vary", b"Origin"),
        ]
