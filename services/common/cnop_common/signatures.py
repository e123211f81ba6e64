"""HTTP Message Signatures (RFC 9421) as our services sign their calls to each other.

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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cnop_common import randomness

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
    """Why a signed call is not believed (the reason is a metric label)."""

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


def new_nonce() -> str:
    """128 random bits, base64url."""
    return randomness.token_urlsafe(16)


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
