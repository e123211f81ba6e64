"""Forwarding /api/v1 calls from the browser to the gateway.

Only a fixed list of headers crosses in either direction: the browser cannot
smuggle identity headers, cookies or its own Authorization through us, and
nothing the gateway says about its internals reaches the page. The token comes
from the session cookie; X-Forwarded-For is the browser's TCP address, never
what the browser claims.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client import Counter

from cnop_common.errors import ApiError
from cnop_common.logging import get_logger
from cnop_common.tracing import propagation_headers
from cnop_web.settings import WebSettings

log = get_logger(__name__)

API_PREFIX = "/api/v1"
REQUEST_HEADERS = ("content-type", "accept", "idempotency-key", "if-none-match")
RESPONSE_HEADERS = (
    "content-type",
    "etag",
    "cache-control",
    "retry-after",
    "www-authenticate",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)

GATEWAY_FAILURES = Counter(
    "web_gateway_failures_total",
    "Calls the web UI could not complete against the gateway, by reason.",
    ["reason"],
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One browser call, as it goes to the gateway."""

    method: str
    path_and_query: str  # starts with /api/v1/
    headers: dict[str, str]
    body: bytes
    token: str | None
    client_ip: str


@dataclass(frozen=True, slots=True)
class Answer:
    """The gateway's answer, headers already filtered."""

    status: int
    headers: dict[str, str]
    body: bytes


class GatewayUnavailable(ApiError):  # noqa: N818 - named for the API code it answers
    """Nothing answered at the gateway's address."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "GATEWAY_UNAVAILABLE",
            "The trading service cannot be reached; nothing was sent. Retry shortly.",
            {"Retry-After": "2"},
        )


class GatewayTimeout(ApiError):  # noqa: N818 - named for the API code it answers
    """The gateway took the call but did not answer in time."""

    def __init__(self) -> None:
        super().__init__(
            504,
            "GATEWAY_TIMEOUT",
            "The trading service did not answer in time. The request may still complete:"
            " check before retrying, or retry with the same Idempotency-Key.",
        )


class GatewayProxy:
    """One pooled HTTP client to the gateway, used by every browser call."""

    def __init__(self, settings: WebSettings) -> None:
        transport = httpx.AsyncHTTPTransport(
            local_address=settings.gateway_source_address, retries=0
        )
        self.client = httpx.AsyncClient(
            base_url=settings.gateway_url,
            transport=transport,
            timeout=settings.gateway_timeout_seconds,
            trust_env=False,
            follow_redirects=False,
        )

    async def send(self, call: Outgoing) -> Answer:
        """Forward one call; gateway failures become the web UI's own clear errors."""
        headers = {name: value for name, value in call.headers.items() if name in REQUEST_HEADERS}
        headers.update(propagation_headers())
        headers["x-forwarded-for"] = call.client_ip
        if call.token:
            headers["authorization"] = f"Bearer {call.token}"
        try:
            response = await self.client.request(
                call.method, call.path_and_query, headers=headers, content=call.body
            )
        except httpx.ConnectError as exc:
            self._failed("unavailable", exc)
            raise GatewayUnavailable from exc
        except httpx.TimeoutException as exc:
            # A connect timeout means nothing was sent; any other, it may have been.
            reason = "unavailable" if isinstance(exc, httpx.ConnectTimeout) else "timeout"
            self._failed(reason, exc)
            raise (GatewayUnavailable() if reason == "unavailable" else GatewayTimeout()) from exc
        except httpx.HTTPError as exc:
            self._failed("error", exc)
            raise ApiError(
                502, "BAD_GATEWAY", "The trading service gave an unreadable answer."
            ) from exc
        kept = {
            name: response.headers[name] for name in RESPONSE_HEADERS if name in response.headers
        }
        return Answer(response.status_code, kept, response.content)

    async def close(self) -> None:
        """Close the pooled connections."""
        await self.client.aclose()

    @staticmethod
    def _failed(reason: str, exc: Exception) -> None:
        GATEWAY_FAILURES.labels(reason).inc()
        log.warning("gateway_call_failed", reason=reason, error_type=type(exc).__name__)
