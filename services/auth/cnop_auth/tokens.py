"""Issuing and validating JWTs: one algorithm family (HMAC-SHA256), every claim required.

Validation inspects the header before trusting anything in it: a key is chosen
only by looking the `kid` up in the in-memory keyring (never a path, URL or
query), and headers that point at other keys (`jku`, `x5u`, `jwk`, `x5c`) or
carry extensions (`crit`) are refused outright, so nothing is ever fetched.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "role", "iat", "nbf", "exp", "jti")
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"})
MAX_TOKEN_LENGTH = 4096

Reason = Literal["token_expired", "token_invalid", "token_revoked"]


class TokenRejected(Exception):  # noqa: N818 - an outcome, named as the API names it
    """Why a token is not accepted; `detail` is for logs, never for the token's content."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Claims:
    """What a valid token says."""

    username: str
    role: str
    token_id: str
    expires_at: int


class TokenService:
    """Signs with the active key; validates with any key still in the keyring."""

    def __init__(
        self,
        keyring: dict[str, str],
        active_kid: str,
        *,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        leeway_seconds: int,
    ) -> None:
        self.keyring = dict(keyring)
        self.active_kid = active_kid
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self.leeway_seconds = leeway_seconds

    def issue(self, username: str, role: str) -> tuple[str, Claims]:
        """A new signed token for the user."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": username,
            "role": role,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": secrets.token_hex(16),
        }
        token = jwt.encode(
            claims,
            self.keyring[self.active_kid],
            algorithm=ALGORITHM,
            headers={"kid": self.active_kid},
        )
        return token, Claims(username, role, claims["jti"], claims["exp"])

    def _key_for(self, token: str) -> str:
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenRejected("token_invalid", "token too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRejected("token_invalid", "malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenRejected("token_invalid", "algorithm not allowed")
        if FORBIDDEN_HEADERS & header.keys():
            raise TokenRejected("token_invalid", "header references a key or extension")
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self.keyring:
            raise TokenRejected("token_invalid", "unknown key id")
        return self.keyring[kid]

    def validate(self, token: str) -> Claims:
        """The token's claims if it is authentic and current; TokenRejected otherwise.

        Revocation is checked by the caller (it needs the store).
        """
        if not all(canonical_b64url(part) for part in token.split(".")):
            # PyJWT decodes other spellings too ("=" appended): one token, one string.
            raise TokenRejected("token_invalid", "not canonical base64url")
        key = self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS), "verify_iat": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("token_expired", "token expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenRejected("token_invalid", type(exc).__name__) from exc
        return self._checked(claims)

    def _checked(self, claims: dict[str, Any]) -> Claims:
        # PyJWT accepts an audience list that contains ours; we issue a single
        # string and accept nothing else. iat in the future is refused too.
        if claims["aud"] != self.audience:
            raise TokenRejected("token_invalid", "audience not exact")
        if claims["iat"] > time.time() + self.leeway_seconds:
            raise TokenRejected("token_invalid", "issued in the future")
        for name in ("sub", "role", "jti"):
            value = claims[name]
            if not isinstance(value, str) or not value or len(value) > 128:
                raise TokenRejected("token_invalid", f"claim {name} is not a short string")
        if not isinstance(claims["exp"], int) or not isinstance(claims["iat"], int | float):
            raise TokenRejected("token_invalid", "exp or iat is not a number")
        # We never issue a token that lives longer than the configured lifetime: one
        # that claims to (signed with a leaked key, say) is refused.
        if claims["exp"] - claims["iat"] > self.ttl_seconds + self.leeway_seconds:
            raise TokenRejected("token_invalid", "lifetime longer than issued tokens have")
        return Claims(claims["sub"], claims["role"], claims["jti"], claims["exp"])


_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# The base64url characters whose value has no bits set below the last full byte.
_TRAILING = {2: "AQgw", 3: "AEIMQUYcgkosw048"}


def canonical_b64url(text: str) -> bool:
    """True for the one spelling an encoder writes (no padding, no stray bits, only
    the alphabet): a token segment in any other is refused."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return False
    rest = len(text) % 4
    return rest == 0 or text[-1] in _TRAILING[rest]
