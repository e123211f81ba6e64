"""Who is calling auth, proven: the caller's signed assertion (auth's own copy of the check).

Auth shares no code with the other services, so it checks the assertions
itself. An assertion is `v1.<kid>.<claims>.<signature>`: base64url JSON claims
(`iss` the caller, `aud` "auth", `iat`, `exp`), Ed25519-signed by the caller's
own key over `v1.<kid>.<claims>`. Only the user service may obtain tokens, and
only the gateway may validate or revoke them, whatever address calls.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CALLER_HEADER = "x-identity-assertion"
AUDIENCE = "auth"
MAX_AGE_SECONDS = 30
SKEW_SECONDS = 5
PARTS = 4  # version, kid, claims, signature


@dataclass(frozen=True)
class CallerKeys:
    """The callers' public keys by kid, each bound to its one issuer."""

    keys: dict[str, tuple[str, Ed25519PublicKey]]

    @classmethod
    def load(cls, path: Path) -> CallerKeys:
        """From {kid: {"issuer", "key": PEM public key}}."""
        keys: dict[str, tuple[str, Ed25519PublicKey]] = {}
        for kid, entry in json.loads(path.read_text(encoding="utf-8")).items():
            key = serialization.load_pem_public_key(entry["key"].encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError(f"caller key {kid!r} is not an Ed25519 public key")
            keys[kid] = (entry["issuer"], key)
        return cls(keys)

    def issuer(self, token: str | None, allowed: Collection[str]) -> str | None:
        """The caller a good, fresh assertion proves (one of `allowed`), else None."""
        parts = token.split(".") if token and len(token) <= 2048 else []
        if len(parts) != PARTS or parts[0] != "v1" or parts[1] not in self.keys:
            return None
        _version, kid, body, signature = parts
        issuer, key = self.keys[kid]
        if issuer not in allowed:
            return None
        try:
            key.verify(_unb64(signature), f"v1.{kid}.{body}".encode())
            claims = json.loads(_unb64(body))
        except (InvalidSignature, ValueError, binascii.Error):
            return None
        if not isinstance(claims, dict) or claims.get("iss") != issuer:
            return None
        iat, exp, now = claims.get("iat"), claims.get("exp"), time.time()
        if claims.get("aud") != AUDIENCE or not isinstance(iat, int) or not isinstance(exp, int):
            return None
        fresh = exp + SKEW_SECONDS >= now and iat <= now + SKEW_SECONDS
        return issuer if fresh and exp - iat <= MAX_AGE_SECONDS else None


def _unb64(text: str) -> bytes:
    if not canonical_b64url(text):
        raise ValueError("not canonical base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# The base64url characters whose value has no bits set below the last full byte.
_TRAILING = {2: "AQgw", 3: "AEIMQUYcgkosw048"}


def canonical_b64url(text: str) -> bool:
    """True for the one spelling an encoder writes (no padding, no stray bits, only
    the alphabet): a signature, token or claims segment with another is refused."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return False
    rest = len(text) % 4
    return rest == 0 or text[-1] in _TRAILING[rest]
