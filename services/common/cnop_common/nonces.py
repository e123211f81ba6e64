"""The nonces of signed calls, remembered by every replica of a service at once.

A Verifier remembers the nonces it accepted, but only in its own process: a
call captured on the path could be accepted once more by each other replica of
the same service within the signature's 10 s. With NONCE_STORE_URL (the same
Redis the gateways keep their limits in), a receiver also claims each nonce
there (`SET … NX PX`): the first replica to see it wins, every later one refuses
it as replayed. If Redis does not answer, the receiver goes on with its own
memory alone, counts it (`signed_call_nonce_store_fallbacks_total`), and leaves
Redis alone for a few seconds, as the gateway's limits do.
"""

from __future__ import annotations

import time

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from cnop_common.logging import get_logger

log = get_logger("security")

FALLBACKS = Counter(
    "signed_call_nonce_store_fallbacks_total",
    "Signed calls whose nonce only this replica remembered: the shared store did not answer.",
    ["service"],
)
TIMEOUT_SECONDS = 0.25
RETRY_SECONDS = 2.0
PREFIX = "cnop:nonce:"


class NonceStore:
    """First use of a nonce across every replica, in Redis."""

    def __init__(self, url: str, service: str) -> None:
        self.service = service
        self.redis = Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        self._skip_until = 0.0
        FALLBACKS.labels(service)

    async def first_use(self, nonce: str, until: float) -> bool:
        """True unless another replica (or this one) claimed `nonce` before; True as
        well while the store does not answer (the local memory has already looked)."""
        if time.monotonic() >= self._skip_until:
            ttl_ms = max(1, int((until - time.time()) * 1000))
            try:
                claimed = await self.redis.set(
                    f"{PREFIX}{self.service}:{nonce}", b"1", nx=True, px=ttl_ms
                )
            except (RedisError, OSError, TimeoutError) as exc:
                self._skip_until = time.monotonic() + RETRY_SECONDS
                log.error("nonce_store_unavailable", error_type=type(exc).__name__)
            else:
                return bool(claimed)
        FALLBACKS.labels(self.service).inc()
        return True
