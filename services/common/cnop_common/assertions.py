"""Signed identity assertions: who is calling, provable beyond a network address.

A backend used to believe `X-User-ID` from any address in TRUSTED_NETWORKS; in
a cluster that is every pod a NetworkPolicy fails to stop. Now every call
between our services carries `X-Identity-Assertion`: a short-lived statement
signed with the caller's own Ed25519 key (never auth's token keys), naming

- `iss`: the calling service (the gateway for users' requests),
- `aud`: the service called,
- `sub`/`role`: the user the gateway authenticated (users' requests only),
- `rid`: the request id, `iat`/`exp`: now and now + MAX_AGE_SECONDS.

A callee holds only public keys, by `kid`, each bound to one issuer: it can
check a signature but never make one, so no backend can speak as the gateway,
and no service but user can obtain tokens from auth. The network check stays
as a second layer.

Wire format, `v1.<kid>.<claims>.<signature>`: the claims are base64url JSON and
the signature is Ed25519 over `v1.<kid>.<claims>`. Not a JWT: backends do no
JWT work and import no JWT library (the trust model), and there is no
algorithm to choose, so none to confuse.
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
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEADER = "x-identity-assertion"
VERSION = "v1"
MAX_AGE_SECONDS = 30
MAX_LENGTH = 2048
SKEW_SECONDS = 5


class AssertionRefused(Exception):  # noqa: N818 - an outcome, named as the metric names it
    """Why an assertion is not believed (the reason is a metric label)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Signer:
    """A service's own key: what it signs its calls with."""

    issuer: str
    kid: str
    key: Ed25519PrivateKey

    @classmethod
    def load(cls, path: Path) -> Signer:
        """From a file {"issuer", "kid", "key": PEM private key} (only this service reads it)."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        key = serialization.load_pem_private_key(raw["key"].encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: the identity key must be an Ed25519 private key")
        return cls(raw["issuer"], raw["kid"], key)

    def assertion(
        self,
        audience: str,
        *,
        subject: str | None = None,
        role: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """A fresh assertion for one call to `audience`."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "iat": now,
            "exp": now + MAX_AGE_SECONDS,
        }
        if subject is not None:
            claims["sub"] = subject
            claims["role"] = role or "customer"
        if request_id:
            claims["rid"] = request_id
        return sign(claims, self.kid, self.key)


@dataclass(frozen=True)
class Verifier:
    """Public keys by kid, each bound to the one issuer it may sign for."""

    audience: str
    keys: dict[str, tuple[str, Ed25519PublicKey]]

    @classmethod
    def load(cls, path: Path, audience: str) -> Verifier:
        """From a file {kid: {"issuer", "key": PEM public key}}, for calls to `audience`."""
        keys: dict[str, tuple[str, Ed25519PublicKey]] = {}
        for kid, entry in json.loads(path.read_text(encoding="utf-8")).items():
            key = serialization.load_pem_public_key(entry["key"].encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError(f"{path}: key {kid!r} is not an Ed25519 public key")
            keys[kid] = (entry["issuer"], key)
        return cls(audience, keys)

    def verify(self, token: str | None, issuers: Collection[str]) -> dict[str, Any]:
        """The claims of a good assertion by one of `issuers`; AssertionRefused otherwise."""
        if not token:
            raise AssertionRefused("missing_assertion")
        parts = token.split(".")
        if len(token) > MAX_LENGTH or len(parts) != 4 or parts[0] != VERSION:
            raise AssertionRefused("bad_assertion")
        _version, kid, body, signature = parts
        if kid not in self.keys:
            raise AssertionRefused("bad_assertion")
        issuer, key = self.keys[kid]
        if issuer not in issuers:
            raise AssertionRefused("wrong_caller")
        try:
            key.verify(_unb64(signature), f"{VERSION}.{kid}.{body}".encode())
            claims = json.loads(_unb64(body))
        except (InvalidSignature, ValueError, binascii.Error) as exc:
            raise AssertionRefused("bad_assertion") from exc
        if not isinstance(claims, dict) or claims.get("iss") != issuer:
            raise AssertionRefused("bad_assertion")
        if claims.get("aud") != self.audience:
            raise AssertionRefused("bad_assertion")
        iat, exp, now = claims.get("iat"), claims.get("exp"), time.time()
        if not isinstance(iat, int) or not isinstance(exp, int):
            raise AssertionRefused("bad_assertion")
        if exp + SKEW_SECONDS < now or iat > now + SKEW_SECONDS or exp - iat > MAX_AGE_SECONDS:
            raise AssertionRefused("stale_assertion")
        return claims


def sign(claims: dict[str, Any], kid: str, key: Ed25519PrivateKey) -> str:
    """`v1.<kid>.<claims>.<signature>` (see the module's text)."""
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{VERSION}.{kid}.{body}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# The base64url characters whose value has no bits set below the last full byte.
_TRAILING = {2: "AQgw", 3: "AEIMQUYcgkosw048"}


def canonical_b64url(text: str) -> bool:
    """True for the one spelling an encoder writes: base64url letters only, no
    padding, and no stray bits in the last character. Decoders take others too
    ("=" appended, a last character with low bits set, letters outside the
    alphabet dropped), and a signature or token with two spellings is two
    strings meaning one thing: everything we parse takes this one only."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return False
    rest = len(text) % 4
    return rest == 0 or text[-1] in _TRAILING[rest]


def _unb64(text: str) -> bytes:
    if not canonical_b64url(text):
        raise ValueError("not canonical base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_identity_keys(issuer: str, kid: str) -> tuple[dict[str, str], dict[str, str]]:
    """A fresh key pair: the private file's content and the public entry (local runs, tests)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return {"issuer": issuer, "kid": kid, "key": private_pem}, {"issuer": issuer, "key": public_pem}
