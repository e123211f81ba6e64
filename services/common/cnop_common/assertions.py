"""Signed calls between our services: who is calling, for which call, once.

A backend used to believe `X-User-ID` from any address in TRUSTED_NETWORKS; in
a cluster that is every pod a NetworkPolicy fails to stop. Then a signed
assertion named the caller and the user, but not the call, and could be used
again for 30 s: captured on the path, it minted tokens, guessed passwords past
the gateway's guard and replayed a GET as a withdrawal. Now every call between
our services is signed as RFC 9421 HTTP Message Signatures (signatures.py): the
method, path, query, a digest of the body, the service called and the user are
covered, the signature lives MAX_AGE_SECONDS, and its nonce is accepted once.

Each service signs with its own Ed25519 key (never auth's token keys); a callee
holds only public keys, by `keyid`, each bound to one issuer: it can check a
signature but never make one, so no backend can speak as the gateway, and no
service but user can obtain tokens from auth. The network check stays as a
second layer. What a signature does not do: hide the call (the transport is
plain HTTP inside the cluster; mTLS would add that, docs/architecture.md).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from cnop_common.signatures import (
    AUDIENCE_HEADER,
    LABEL,
    MAX_AGE_SECONDS,
    Call,
    Parameters,
    SignatureRefused,
    content_digest,
    covered_for,
    new_nonce,
    parse_input,
    parse_signature,
    signature_base,
)

# The headers a signed call carries (their presence marks a signed call).
SIGNATURE_HEADERS = ("signature-input", "signature", "content-digest", AUDIENCE_HEADER)
SKEW_SECONDS = 5
REPLAY_MEMORY = 100_000  # nonces remembered per receiver (10 s of calls at 10 000/s)


class AssertionRefused(Exception):  # noqa: N818 - an outcome, named as the metric names it
    """Why a signed call is not believed (the reason is a metric label)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Signer:
    """A service's own key: what it signs its calls with."""

    issuer: str
    kid: str
    key: Ed25519PrivateKey

    @cached_property
    def _sodium(self) -> SigningKey:
        # The same key in libsodium (PyNaCl): it signs in ~20 µs where `cryptography`
        # takes ~32, on every call the gateway forwards (docs/performance.md).
        return SigningKey(
            self.key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        )

    @classmethod
    def load(cls, path: Path) -> Signer:
        """From a file {"issuer", "kid", "key": PEM private key} (only this service reads it)."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        key = serialization.load_pem_private_key(raw["key"].encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: the identity key must be an Ed25519 private key")
        return cls(raw["issuer"], raw["kid"], key)

    def sign(
        self,
        method: str,
        target: str,
        body: bytes,
        audience: str,
        *,
        subject: str | None = None,
        role: str | None = None,
        created: int | None = None,
    ) -> dict[str, str]:
        """The headers that sign one call to `audience` (`target`: raw path and query).
        `created`: now, unless a test needs a signature made earlier."""
        path, _, query = target.partition("?")
        headers = {AUDIENCE_HEADER: audience, "content-digest": content_digest(body)}
        if subject is not None:
            headers["x-user-id"] = subject
            headers["x-user-role"] = role or "customer"
        created = int(time.time()) if created is None else created
        params = Parameters(
            covered_for(headers), created, created + MAX_AGE_SECONDS, new_nonce(), self.kid
        )
        base = signature_base(
            Call(method, path, query, headers, body), params.components, params.serialized()
        )
        signature = base64.b64encode(self._sodium.sign(base).signature).decode()
        headers["signature-input"] = f"{LABEL}={params.serialized()}"
        headers["signature"] = f"{LABEL}=:{signature}:"
        return headers


class Verifier:
    """Public keys by kid, each bound to the one issuer it may sign for; the nonces
    this receiver has accepted, each until its signature expires."""

    def __init__(self, audience: str, keys: dict[str, tuple[str, Ed25519PublicKey]]) -> None:
        self.audience = audience
        self.keys = keys
        # Checked with libsodium (PyNaCl): ~55 µs a call where `cryptography` takes ~105.
        self._sodium = {
            kid: VerifyKey(
                key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            )
            for kid, (_issuer, key) in keys.items()
        }
        self._seen: OrderedDict[str, float] = OrderedDict()

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

    def verify(self, call: Call, issuers: Collection[str]) -> dict[str, Any]:
        """Who signed this very call (one of `issuers`), for whom; AssertionRefused if
        it is unsigned, signed otherwise, for another call or receiver, old, or seen."""
        if "signature-input" not in call.headers or "signature" not in call.headers:
            raise AssertionRefused("missing_assertion")
        try:
            params = parse_input(call.headers["signature-input"])
            signature = parse_signature(call.headers["signature"])
        except SignatureRefused as refused:
            raise AssertionRefused(refused.reason) from None
        if params.keyid not in self.keys:
            raise AssertionRefused("bad_assertion")
        issuer, _key = self.keys[params.keyid]
        if issuer not in issuers:
            raise AssertionRefused("wrong_caller")
        if params.components != covered_for(call.headers):
            raise AssertionRefused("assertion_mismatch")  # the user, say, left uncovered
        now = time.time()
        lifetime = params.expires - params.created
        if not 0 < lifetime <= MAX_AGE_SECONDS:
            raise AssertionRefused("bad_assertion")
        if params.expires + SKEW_SECONDS < now or params.created > now + SKEW_SECONDS:
            raise AssertionRefused("stale_assertion")
        if call.headers[AUDIENCE_HEADER] != self.audience:
            raise AssertionRefused("bad_assertion")
        try:
            base = signature_base(call, params.components, params.serialized())
            self._sodium[params.keyid].verify(base, signature)
        except (BadSignatureError, SignatureRefused, ValueError) as exc:
            raise AssertionRefused("bad_assertion") from exc
        if call.headers["content-digest"] != content_digest(call.body):
            raise AssertionRefused("assertion_mismatch")  # signed for another body
        self._accept_once(params.nonce, params.expires + SKEW_SECONDS, now)
        return {
            "iss": issuer,
            "sub": call.headers.get("x-user-id"),
            "role": call.headers.get("x-user-role"),
            "nonce": params.nonce,
            "until": params.expires + SKEW_SECONDS,
        }

    def _accept_once(self, nonce: str, until: float, now: float) -> None:
        """Remember a nonce until its signature expires; refuse one seen before."""
        while self._seen and next(iter(self._seen.values())) < now:
            self._seen.popitem(last=False)  # oldest first: they expire in order
        if nonce in self._seen:
            raise AssertionRefused("replayed_assertion")
        self._seen[nonce] = until
        while len(self._seen) > REPLAY_MEMORY:
            self._seen.popitem(last=False)


def canonical_b64url(text: str) -> bool:
    """True for the one spelling an encoder writes: base64url letters only, no
    padding, and no stray bits in the last character. Decoders take others too
    ("=" appended, a last character with low bits set, letters outside the
    alphabet dropped), and a token with two spellings is two strings meaning one
    thing: everything we parse takes this one only."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return False
    rest = len(text) % 4
    return rest == 0 or text[-1] in _TRAILING[rest]


_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# The base64url characters whose value has no bits set below the last full byte.
_TRAILING = {2: "AQgw", 3: "AEIMQUYcgkosw048"}


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
