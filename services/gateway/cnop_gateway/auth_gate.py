"""Authentication at the gateway: bearer token → auth service → identity (cached briefly)."""

from __future__ import annotations

import json
import re

from prometheus_client import Counter

from cnop_common.assertions import Signer, canonical_b64url
from cnop_common.logging import get_logger
from cnop_gateway.cache import Identity, ValidationCache, token_key
from cnop_gateway.headers import Headers, values
from cnop_gateway.responses import Reply, unauthorized, unavailable
from cnop_gateway.shared import SharedLimits
from cnop_gateway.upstreams import Upstream, UpstreamDown

log = get_logger("security")

AUTH_OUTCOMES = Counter(
    "gateway_auth_outcomes_total", "Authentication outcomes at the gateway.", ["outcome"]
)
# The gateway's own outcomes exist from start-up (auth's reasons appear as they come):
# the security dashboard reads "malformed" whether or not one has been refused yet.
for _outcome in ("valid", "missing", "malformed", "unavailable"):
    AUTH_OUTCOMES.labels(_outcome)
# RFC 6750 b64token, and nothing else on the line: exactly "Bearer <token>".
_BEARER = re.compile(rb"^Bearer ([A-Za-z0-9\-._~+/]+=*)$")
MAX_TOKEN_BYTES = 4096
_REASON_CODES = {"token_expired": "TOKEN_EXPIRED", "token_revoked": "TOKEN_REVOKED"}


class AuthGate:
    """Turns an Authorization header into an identity, or a 401/503 reply."""

    def __init__(
        self,
        auth: Upstream,
        cache: ValidationCache,
        shared: SharedLimits,
        signer: Signer | None = None,
    ) -> None:
        self.auth = auth
        self.cache = cache
        self.shared = shared
        self.signer = signer

    def _to_auth(self, forward: dict[str, str], path: str, body: bytes) -> dict[str, str]:
        """Headers of one POST to auth: we are the gateway, and sign this very call."""
        headers = {**forward, "x-source": "gateway", "content-type": "application/json"}
        if self.signer is not None:
            headers.update(self.signer.sign("POST", path, body, "auth"))
        return headers

    @staticmethod
    def bearer_token(headers: Headers) -> str | None:
        """The token of a well-formed single `Authorization: Bearer <token>`, else None."""
        found = values(headers, b"authorization")
        if len(found) != 1 or len(found[0]) > MAX_TOKEN_BYTES + 7:
            return None
        match = _BEARER.match(found[0])
        return match.group(1).decode() if match else None

    async def identify(
        self,
        headers: Headers,
        request_id: str,
        forward: dict[str, str],
        *,
        key: bytes | None = None,
        revoked: bool | None = None,
    ) -> Identity | Reply:
        """The caller's identity, or the reply that refuses the request.

        `key`, `revoked`: what admitting this request already worked out for its
        token (its cache key; whether the shared store holds it revoked, asked with
        the rate count). None: work them out here."""
        if not values(headers, b"authorization"):
            AUTH_OUTCOMES.labels("missing").inc()
            return unauthorized("NOT_AUTHENTICATED", "A bearer token is required.", request_id)
        token = self.bearer_token(headers)
        if token is None:
            AUTH_OUTCOMES.labels("malformed").inc()
            log.info("auth_rejected", reason="malformed_header")
            return unauthorized(
                "INVALID_TOKEN", "Authorization must be 'Bearer <token>'.", request_id
            )
        if not all(canonical_b64url(part) for part in token.split(".")):
            # Another spelling of a token ("=" appended, stray bits): refused before
            # the cache, which would otherwise know the canonical one.
            AUTH_OUTCOMES.labels("malformed").inc()
            log.info("auth_rejected", reason="non_canonical_token")
            return unauthorized("INVALID_TOKEN", "The token is not valid.", request_id)
        if key is None:
            key = token_key(token)
        cached = self.cache.get(key)
        if cached is not None:
            if revoked is None:
                revoked = await self.shared.revoked(key)
            if not revoked:
                AUTH_OUTCOMES.labels("valid").inc()
                return cached
            self.cache.evict(key)  # logged out on another replica: ask auth again
        return await self._ask_auth(token, key, request_id, forward)

    async def _ask_auth(
        self, token: str, key: bytes, request_id: str, forward: dict[str, str]
    ) -> Identity | Reply:
        body = json.dumps({"token": token}).encode()
        headers = self._to_auth(forward, "/auth/validate-jwt", body)
        try:
            answer = await self.auth.request("POST", "/auth/validate-jwt", headers, body)
        except UpstreamDown as down:
            AUTH_OUTCOMES.labels("unavailable").inc()
            log.error("auth_unavailable", retry_after=down.retry_after)
            return unavailable(
                "AUTH_UNAVAILABLE", "Authentication is unavailable.", request_id, down.retry_after
            )
        if answer.status == 200:
            data = json.loads(answer.body)
            identity = Identity(
                data["user"]["username"], data["user"]["role"], int(data["expires_at"])
            )
            if not await self.shared.revoked(key):  # a logout may have raced this answer
                self.cache.put(key, identity)
            AUTH_OUTCOMES.labels("valid").inc()
            return identity
        if answer.status in (401, 422):
            reason = json.loads(answer.body).get("error", "token_invalid") if answer.body else ""
            AUTH_OUTCOMES.labels(reason or "token_invalid").inc()
            log.info("auth_rejected", reason=reason or "token_invalid")
            return unauthorized(
                _REASON_CODES.get(reason, "INVALID_TOKEN"), "The token is not valid.", request_id
            )
        # Anything else from auth (5xx, an unexpected 403) fails closed.
        AUTH_OUTCOMES.labels("unavailable").inc()
        log.error("auth_unexpected_status", status=answer.status)
        return unavailable("AUTH_UNAVAILABLE", "Authentication is unavailable.", request_id, 1)

    async def revoke(self, token: str, forward: dict[str, str]) -> int:
        """Revoke at auth and forget locally; the status auth answered."""
        await self.shared.revoke(token_key(token))
        body = json.dumps({"token": token}).encode()
        headers = self._to_auth(forward, "/auth/revoke", body)
        answer = await self.auth.request("POST", "/auth/revoke", headers, body)
        return answer.status
