"""Calls to upstreams over pooled aiohttp connections, each behind its circuit breaker."""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp
from prometheus_client import Histogram
from yarl import URL

from cnop_common.server import KEEP_ALIVE_SECONDS
from cnop_gateway.breaker import CircuitBreaker
from cnop_gateway.headers import Headers, from_upstream
from cnop_gateway.settings import GatewaySettings

UPSTREAM_LATENCY = Histogram(
    "gateway_upstream_duration_seconds",
    "Time an upstream took to answer, by upstream and outcome.",
    ["upstream", "outcome"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class UpstreamDown(Exception):  # noqa: N818 - a state of the upstream
    """The upstream did not answer (or its breaker is open): answer 503."""

    def __init__(self, upstream: str, retry_after: int) -> None:
        super().__init__(upstream)
        self.upstream = upstream
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """What an upstream answered."""

    status: int
    headers: Headers
    body: bytes


class Upstream:
    """One upstream service: base URL, timeout, breaker."""

    def __init__(
        self,
        name: str,
        base_url: str,
        session: aiohttp.ClientSession,
        breaker: CircuitBreaker,
        timeout_seconds: float,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.breaker = breaker
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        # Bound once: a labels() lookup per request is a dict lookup under a lock.
        self._answered = UPSTREAM_LATENCY.labels(name, "answered")
        self._failed = UPSTREAM_LATENCY.labels(name, "error")

    async def request(
        self, method: str, path_and_query: str, headers: dict[str, str], body: bytes
    ) -> UpstreamResponse:
        """Send one request; transport failures and 5xx count against the breaker."""
        if not self.breaker.allow():
            raise UpstreamDown(self.name, self.breaker.retry_after())
        started = time.perf_counter()
        try:
            async with self.session.request(
                method,
                # As is: the receiver checks the signature over the exact target.
                URL(self.base_url + path_and_query, encoded=True),
                headers=headers,
                data=body or None,
                timeout=self.timeout,
                allow_redirects=False,
            ) as response:
                payload = await response.read()
                result = UpstreamResponse(
                    response.status, from_upstream(response.headers.items()), payload
                )
                if response.status >= 500:
                    # An upstream that failed may be closing this connection: never
                    # hand it to the next request from the pool.
                    response.close()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.breaker.record_failure()
            self._failed.observe(time.perf_counter() - started)
            raise UpstreamDown(self.name, self.breaker.retry_after()) from exc
        self._answered.observe(time.perf_counter() - started)
        # A 502/504 means the upstream itself is unwell; 503 with a code is its
        # honest "my store is down" and must not open the gateway's breaker.
        if result.status in (502, 504):
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        return result


UPSTREAM_KEEPALIVE_SECONDS = KEEP_ALIVE_SECONDS - 1.0  # below our servers' own


def new_session(pool_size: int = 512, per_host: int = 256) -> aiohttp.ClientSession:
    """The pooled client every upstream shares (kept-alive connections, reused)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=pool_size,
            limit_per_host=per_host,
            ttl_dns_cache=300,
            # Our servers (uvicorn) close a connection idle for 5 s; aiohttp would keep
            # it 15 s and, reusing it just as the server closes it, fail one request
            # (a validation every 5 s per token is exactly that rhythm). Let go first.
            keepalive_timeout=UPSTREAM_KEEPALIVE_SECONDS,
        ),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
        trust_env=False,
    )


def build_upstreams(settings: GatewaySettings) -> dict[str, Upstream]:
    """One Upstream per configured URL, all on one pooled session, each with its breaker."""
    session = new_session(settings.upstream_pool_size, settings.upstream_pool_per_host)
    upstreams = {}
    for name, url in settings.upstream_urls().items():
        timeout = (
            settings.auth_timeout_seconds if name == "auth" else settings.upstream_timeout_seconds
        )
        breaker = CircuitBreaker(
            name,
            threshold=settings.breaker_failure_threshold,
            reset_seconds=settings.breaker_reset_seconds,
        )
        upstreams[name] = Upstream(name, url, session, breaker, timeout)
    return upstreams
