"""What keeps the browser side safe: response headers, CSRF and path checks.

The session cookie is HttpOnly and SameSite=Strict, so scripts cannot read the
token and other sites cannot send it. State-changing calls must also carry a
header that only our own script sets (a cross-site page cannot add it without
a CORS preflight, which this server never grants) and, when the browser says
where the request came from, come from this very origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cnop_common.errors import ApiError

CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "cnop-web"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# No inline script or style anywhere: the page's code comes from /static only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


# Identity headers mean something only when the gateway sets them; a browser's
# copies are dropped on arrival so they cannot even reach our own logs.
IDENTITY_HEADERS = frozenset(
    {b"x-user-id", b"x-user-role", b"x-source", b"x-auth-service", b"x-identity-assertion"}
)


class SecurityHeadersMiddleware:
    """Drops client identity headers and adds the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["headers"] = [
            (name, value)
            for name, value in scope["headers"]
            if name.lower() not in IDENTITY_HEADERS
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CsrfRejected(ApiError):  # noqa: N818 - named for the API code it answers
    """A state-changing call that did not come from our own page."""

    def __init__(self, detail: str) -> None:
        super().__init__(403, "CSRF_REJECTED", detail)


def check_same_origin(method: str, headers: Headers) -> None:
    """Refuse a state-changing call unless our page's script made it, from our origin.

    The Origin's host and port must be the Host the browser asked for. The
    scheme is not compared: behind a proxy that ends TLS this server sees
    http while the page is on https.
    """
    if method.upper() in SAFE_METHODS:
        return
    if headers.get(CSRF_HEADER) != CSRF_VALUE:
        raise CsrfRejected(f"State-changing requests must send '{CSRF_HEADER}: {CSRF_VALUE}'.")
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != headers.get("host", ""):
        raise CsrfRejected("Cross-origin requests are not accepted.")
    if headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        raise CsrfRejected("Cross-site requests are not accepted.")


# Percent-encoded dot, slash and backslash: a path that needs them is not an API path.
_ENCODED_SEPARATORS = (b"%2e", b"%2f", b"%5c")


def is_plain_api_path(raw_path: bytes) -> bool:
    """True for a path the gateway can route as-is: no dot segments or encoded separators."""
    lowered = raw_path.lower()
    if any(token in lowered for token in _ENCODED_SEPARATORS) or b"\\" in raw_path:
        return False
    return not any(segment in (b".", b"..") for segment in raw_path.split(b"/"))
