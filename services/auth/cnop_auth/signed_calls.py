"""HTTP Message Signatures (RFC 9421): auth's own copy of the check of a signed call.

Auth imports nothing shared (the trust model), so it keeps this copy of
cnop_common.signatures and of cnop_common.assertions.Verifier;
tests/contract/test_signed_call_vectors.py holds both to the same vectors.

The wire format is the standard's; what it covers is this profile's:

- `@method`, `@path`, `@query`: which call (RFC 9421 §2.2; an absent query is `?`);
- `content-digest`: the body, as SHA-256 (RFC 9530), checked against the body itself;
- `x-cnop-audience`: the service called, which must be the receiver;
- `x-user-id` and `x-user-role`: whenever the call names a user, covered with it;
- parameters `created`, `expires` (at most MAX_AGE_SECONDS later), a `nonce` the
  receiver accepts once, `keyid` (bound to one issuing service) and `alg="ed25519"`.

One signature labelled `cnop` per request (`Signature-Input`, `Signature`); a
request carrying any other is refused. Parsing accepts exactly what this module
writes (one member, these parameters, canonical base64): nothing to negotiate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from redis.asyncio import Redis
from redis.exceptions import RedisError

LABEL = "cnop"
ALGORITHM = "ed25519"
AUDIENCE_HEADER = "x-cnop-audience"
USER_HEADERS = ("x-user-id", "x-user-role")
CALL = ("@method", "@path", "@query", "content-digest", AUDIENCE_HEADER)
MAX_AGE_SECONDS = 10
# Signature-Input: cnop=("…" …);created=1;expires=2;nonce="…";keyid="…";alg="ed25519"
_INPUT = re.compile(
    r'cnop=\((?P<components>"[a-z@-]+"(?: "[a-z@-]+")*)\)'
    r";created=(?P<created>\d{1,12});expires=(?P<expires>\d{1,12})"
    r';nonce="(?P<nonce>[A-Za-z0-9_-]{16,64})";keyid="(?P<keyid>[A-Za-z0-9._-]{1,64})"'
    r';alg="ed25519"'
)
_SIGNATURE = re.compile(r"cnop=:(?P<value>[A-Za-z0-9+/]{86}==):")


class SignatureRefused(Exception):  # noqa: N818 - an outcome, named as the metric names it
    """Why a signed call is not believed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Call:
    """The parts of one HTTP request a signature covers, as sent on the wire."""

    method: str
    path: str  # the raw (still percent-encoded) path
    query: str  # the raw query without "?", "" when there is none
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True, slots=True)
class Parameters:
    """A signature's parameters (`@signature-params` without the component list)."""

    components: tuple[str, ...]
    created: int
    expires: int
    nonce: str
    keyid: str

    def serialized(self) -> str:
        """The inner list and its parameters, as RFC 8941 writes them."""
        names = " ".join(f'"{name}"' for name in self.components)
        return (
            f"({names});created={self.created};expires={self.expires}"
            f';nonce="{self.nonce}";keyid="{self.keyid}";alg="{ALGORITHM}"'
        )


def content_digest(body: bytes) -> str:
    """RFC 9530's Content-Digest with SHA-256."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def component_value(call: Call, name: str) -> str:
    """One covered component's value (RFC 9421 §2.1, §2.2)."""
    if name == "@method":
        return call.method.upper()
    if name == "@path":
        return call.path or "/"
    if name == "@query":
        return f"?{call.query}"
    if name == "@authority":
        return call.headers.get("host", "").lower()
    if name not in call.headers:
        raise SignatureRefused("bad_assertion")  # a covered header the request lacks
    return call.headers[name].strip()


def signature_base(call: Call, components: Sequence[str], params: str) -> bytes:
    """RFC 9421 §2.5: one line per covered component, then `@signature-params`."""
    lines = [f'"{name}": {component_value(call, name)}' for name in components]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode()


def covered_for(headers: Mapping[str, str]) -> tuple[str, ...]:
    """What a call must cover: the call itself, and its user when it names one."""
    users = tuple(name for name in USER_HEADERS if name in headers)
    return (*CALL, *users)


def parse_input(value: str) -> Parameters:
    """The one `cnop` member this profile writes; SignatureRefused for anything else."""
    found = _INPUT.fullmatch(value)
    if found is None:
        raise SignatureRefused("bad_assertion")
    components = tuple(name.strip('"') for name in found["components"].split(" "))
    return Parameters(
        components, int(found["created"]), int(found["expires"]), found["nonce"], found["keyid"]
    )


def parse_signature(value: str) -> bytes:
    """The Ed25519 signature of the `cnop` member, in its one canonical spelling."""
    found = _SIGNATURE.fullmatch(value)
    if found is None:
        raise SignatureRefused("bad_assertion")
    try:
        raw = base64.b64decode(found["value"], validate=True)
    except binascii.Error as exc:
        raise SignatureRefused("bad_assertion") from exc
    if base64.b64encode(raw).decode() != found["value"]:
        raise SignatureRefused("bad_assertion")  # stray bits: another spelling
    return raw


SKEW_SECONDS = 5
REPLAY_MEMORY = 100_000  # nonces remembered (10 s of calls at 10 000/s)


class Verifier:
    """Public keys by kid, each bound to the one issuer it may sign for; the nonces
    this receiver has accepted, each until its signature expires."""

    def __init__(self, audience: str, keys: dict[str, tuple[str, Ed25519PublicKey]]) -> None:
        self.audience = audience
        self.keys = keys
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
        """Who signed this very call (one of `issuers`), for whom; SignatureRefused if
        it is unsigned, signed otherwise, for another call or receiver, old, or seen."""
        if "signature-input" not in call.headers or "signature" not in call.headers:
            raise SignatureRefused("missing_assertion")
        params = parse_input(call.headers["signature-input"])
        signature = parse_signature(call.headers["signature"])
        if params.keyid not in self.keys:
            raise SignatureRefused("bad_assertion")
        issuer, key = self.keys[params.keyid]
        if issuer not in issuers:
            raise SignatureRefused("wrong_caller")
        if params.components != covered_for(call.headers):
            raise SignatureRefused("assertion_mismatch")  # the user, say, left uncovered
        now = time.time()
        lifetime = params.expires - params.created
        if not 0 < lifetime <= MAX_AGE_SECONDS:
            raise SignatureRefused("bad_assertion")
        if params.expires + SKEW_SECONDS < now or params.created > now + SKEW_SECONDS:
            raise SignatureRefused("stale_assertion")
        if call.headers[AUDIENCE_HEADER] != self.audience:
            raise SignatureRefused("bad_assertion")
        try:
            key.verify(signature, signature_base(call, params.components, params.serialized()))
        except InvalidSignature as exc:
            raise SignatureRefused("bad_assertion") from exc
        if call.headers["content-digest"] != content_digest(call.body):
            raise SignatureRefused("assertion_mismatch")  # signed for another body
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
            raise SignatureRefused("replayed_assertion")
        self._seen[nonce] = until
        while len(self._seen) > REPLAY_MEMORY:
            self._seen.popitem(last=False)


OPEN_PATHS = frozenset({"/health", "/ready", "/metrics", "/docs", "/openapi.json"})
MAX_SIGNED_BODY = 1024 * 1024
NONCE_TIMEOUT_SECONDS = 0.25
NONCE_RETRY_SECONDS = 2.0


class NonceStore:
    """First use of a nonce across every auth replica, in Redis (SET … NX PX): auth's
    own copy of cnop_common.nonces. `fallbacks` counts the calls only this replica's
    memory judged, while Redis did not answer."""

    def __init__(self, url: str, fallbacks: Any) -> None:
        self.redis = Redis.from_url(
            url, socket_timeout=NONCE_TIMEOUT_SECONDS, socket_connect_timeout=NONCE_TIMEOUT_SECONDS
        )
        self.fallbacks = fallbacks
        self._skip_until = 0.0

    async def first_use(self, nonce: str, until: float) -> bool:
        """True unless some replica claimed `nonce` before (True too while Redis is away)."""
        if time.monotonic() >= self._skip_until:
            ttl_ms = max(1, int((until - time.time()) * 1000))
            try:
                return bool(
                    await self.redis.set(f"cnop:nonce:auth:{nonce}", b"1", nx=True, px=ttl_ms)
                )
            except (RedisError, OSError, TimeoutError):
                self._skip_until = time.monotonic() + NONCE_RETRY_SECONDS
        self.fallbacks.inc()
        return True


class SignedCallMiddleware:
    """Check every call's signature before the routes run; they read the verdict from
    `request.state.signed_by` (the issuer, or None) and `.refusal` (why not)."""

    def __init__(
        self, app: Any, verifier: Verifier | None, nonces: NonceStore | None = None
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.nonces = nonces

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or self.verifier is None:
            await self.app(scope, receive, send)
            return
        body, receive = await _buffered(receive)
        state = scope.setdefault("state", {})
        state["signed_by"], state["refusal"] = None, "body_too_large"
        if body is not None:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            call = Call(
                scope["method"],
                scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
                scope.get("query_string", b"").decode("latin-1"),
                headers,
                body,
            )
            issuers = {issuer for issuer, _key in self.verifier.keys.values()}
            try:
                claims = self.verifier.verify(call, issuers)
                state["signed_by"], state["refusal"] = claims["iss"], None
                if self.nonces is not None and not await self.nonces.first_use(
                    claims["nonce"], claims["until"]
                ):
                    # Another replica accepted this very call.
                    state["signed_by"], state["refusal"] = None, "replayed_assertion"
            except SignatureRefused as refused:
                state["refusal"] = refused.reason
        await self.app(scope, receive, send)


async def _buffered(receive: Any) -> tuple[bytes | None, Any]:
    """The whole body (None past MAX_SIGNED_BODY), and a receive that hands it on."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_SIGNED_BODY:
            return None, receive
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
