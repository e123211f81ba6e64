"""Calls to peer services' /internal/ endpoints, carrying request id and trace context."""

from __future__ import annotations

from typing import Any

import httpx

from cnop_common.assertions import Signer
from cnop_common.errors import UpstreamUnavailable
from cnop_common.logging import get_logger
from cnop_common.tracing import propagation_headers

log = get_logger("internal_http")


class InternalClient:
    """A pooled, blocking HTTP client for one peer (used from threadpool endpoints)."""

    def __init__(
        self,
        *,
        caller: str,
        peer: str,
        base_url: str,
        timeout_seconds: float,
        signer: Signer | None = None,
        pool_size: int = 64,
    ) -> None:
        self.peer = peer
        self.signer = signer
        self._client = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_seconds),
            headers={"X-Source": caller},
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            # Never pick up proxies from the environment for in-cluster calls.
            trust_env=False,
        )

    def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET a peer path; a peer that does not answer becomes 503 UPSTREAM_UNAVAILABLE."""
        return self._send("GET", path, params=params)

    def post(self, path: str, json: dict[str, Any]) -> httpx.Response:
        """POST JSON to a peer path; a peer that does not answer becomes 503."""
        return self._send("POST", path, json=json)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        request = self._client.build_request(method, path, headers=propagation_headers(), **kwargs)
        if self.signer is not None:
            # This very call, signed (assertions.py): what is sent is what is covered.
            target = request.url.raw_path.decode("ascii")
            request.headers.update(self.signer.sign(method, target, request.content, self.peer))
        try:
            response = self._client.send(request)
        except httpx.HTTPError as exc:
            log.warning("peer_unreachable", peer=self.peer, error_type=type(exc).__name__)
            raise UpstreamUnavailable(self.peer) from exc
        if response.status_code >= 500:
            log.warning("peer_error", peer=self.peer, status=response.status_code)
            raise UpstreamUnavailable(self.peer)
        return response

    def check(self) -> None:
        """Readiness: the peer answers its liveness endpoint."""
        self.get("/health")

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()
