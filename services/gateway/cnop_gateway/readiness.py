"""/ready: whether every upstream answers, asked at most once a second whoever calls.

Probes and callers alike get the last answer for a second, so /ready (which is
also rate-limited per caller) cannot turn into a fan-out against the upstreams.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from cnop_gateway import SERVICE
from cnop_gateway.responses import Reply, json_reply
from cnop_gateway.upstreams import Upstream

# How long one look at the upstreams answers /ready: probes and callers alike.
READY_CACHE_SECONDS = 1.0
_PROBE = aiohttp.ClientTimeout(total=1.0)  # readiness probes answer fast or not at all


class Readiness:
    """The upstreams' health, looked at no more than once a READY_CACHE_SECONDS."""

    def __init__(self, upstreams: dict[str, Upstream]) -> None:
        self.upstreams = upstreams  # filled at start-up: the gateway's own dict
        self._lock = asyncio.Lock()
        self._at = -READY_CACHE_SECONDS
        self._checks: dict[str, str] = {}

    async def reply(self) -> Reply:
        """200 with every upstream "ok", else 503 naming the ones down."""
        async with self._lock:
            if time.monotonic() - self._at >= READY_CACHE_SECONDS:
                names = sorted(self.upstreams)
                results = await asyncio.gather(*(self._alive(name) for name in names))
                self._checks = {
                    name: "ok" if ok else "down" for name, ok in zip(names, results, strict=True)
                }
                self._at = time.monotonic()
        ready = all(state == "ok" for state in self._checks.values())
        body = {
            "status": "ready" if ready else "not_ready",
            "service": SERVICE,
            "checks": self._checks,
        }
        return json_reply(200 if ready else 503, body)

    async def _alive(self, name: str) -> bool:
        upstream = self.upstreams[name]
        try:
            async with upstream.session.get(f"{upstream.base_url}/health", timeout=_PROBE) as r:
                return r.status == 200
        except (TimeoutError, aiohttp.ClientError):
            return False
