"""Signed calls (RFC 9421): who may speak for whom, for which call, once (issues 12, 21)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from cnop_common.assertions import AssertionRefused, Signer, Verifier, new_identity_keys
from cnop_common.signatures import Call, content_digest, parse_input, signature_base

pytestmark = pytest.mark.unit

BODY = b'{"amount":"10.00"}'


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Signer | Verifier]:
    """Fresh keys and a fresh receiver (its memory of nonces) for each test."""
    public = {}
    signers = {}
    for issuer in ("gateway", "user", "order"):
        private, entry = new_identity_keys(issuer, f"{issuer}-1")
        (tmp_path / f"{issuer}.json").write_text(json.dumps(private))
        public[f"{issuer}-1"] = entry
        signers[issuer] = Signer.load(tmp_path / f"{issuer}.json")
    (tmp_path / "public.json").write_text(json.dumps(public))
    return {**signers, "user-service": Verifier.load(tmp_path / "public.json", "user")}


def signed_call(
    signer: Signer,
    *,
    method: str = "POST",
    target: str = "/balance/withdraw",
    body: bytes = BODY,
    audience: str = "user",
    subject: str | None = "alice",
    **changes: object,
) -> Call:
    """A call as the receiver sees it: the signer's headers on exactly this request."""
    headers = signer.sign(method, target, body, audience, subject=subject, **changes)  # type: ignore[arg-type]
    path, _, query = target.partition("?")
    return Call(method, path, query, headers, body)


def refused(keys, call: Call, issuers=("gateway",)) -> str:
    with pytest.raises(AssertionRefused) as caught:
        keys["user-service"].verify(call, issuers)
    return caught.value.reason


def test_a_signed_call_names_its_caller_and_user(keys):
    claims = keys["user-service"].verify(signed_call(keys["gateway"]), {"gateway"})
    assert (claims["iss"], claims["sub"], claims["role"]) == ("gateway", "alice", "customer")


def test_a_call_is_accepted_once(keys):
    call = signed_call(keys["gateway"])
    keys["user-service"].verify(call, {"gateway"})
    assert refused(keys, call) == "replayed_assertion"


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("method", "GET"),  # issue 21 #3: a GET's signature used for a withdrawal
        ("path", "/balance/deposit"),
        ("query", "limit=5"),
    ],
)
def test_a_signature_is_for_one_method_path_and_query(keys, change, value):
    call = signed_call(keys["gateway"], target="/balance/withdraw?limit=1")
    other = _replace(call, change, value)
    assert refused(keys, other) == "bad_assertion"


def _replace(call: Call, field: str, value: str) -> Call:
    parts = {
        "method": call.method,
        "path": call.path,
        "query": call.query,
        "headers": call.headers,
        "body": call.body,
    }
    parts[field] = value
    return Call(**parts)  # type: ignore[arg-type]


def test_a_signature_is_for_one_body(keys):
    call = signed_call(keys["gateway"])
    assert refused(keys, _replace(call, "body", b'{"amount":"9999.00"}')) == "assertion_mismatch"  # type: ignore[arg-type]


def test_a_signature_is_for_one_user_and_role(keys):
    call = signed_call(keys["gateway"])
    for name, value in (("x-user-id", "mallory"), ("x-user-role", "admin")):
        headers = {**call.headers, name: value}
        assert refused(keys, _replace(call, "headers", headers)) == "bad_assertion"  # type: ignore[arg-type]
    # A user named beside a signature that covers none.
    anonymous = signed_call(keys["gateway"], subject=None)
    named = _replace(anonymous, "headers", {**anonymous.headers, "x-user-id": "mallory"})  # type: ignore[arg-type]
    assert refused(keys, named) == "assertion_mismatch"


def test_a_signature_is_for_one_receiver(keys):
    assert refused(keys, signed_call(keys["gateway"], audience="auth")) == "bad_assertion"


def test_a_service_cannot_speak_as_the_gateway(keys):
    assert refused(keys, signed_call(keys["order"])) == "wrong_caller"


def test_old_and_future_signatures_are_refused(keys):
    old = signed_call(keys["gateway"], created=1_600_000_000)
    assert refused(keys, old) == "stale_assertion"
    future = signed_call(keys["gateway"], created=4_000_000_000)
    assert refused(keys, future) == "stale_assertion"


def test_what_is_not_this_profile_is_refused(keys):
    call = signed_call(keys["gateway"])
    signature_input = call.headers["signature-input"]
    signature = call.headers["signature"]
    for name, value in (
        ("signature-input", signature_input.replace('alg="ed25519"', 'alg="hmac-sha256"')),
        ("signature-input", signature_input.replace("expires=", "expires=9")),  # lives too long
        ("signature-input", f"other={signature_input[5:]}"),
        ("signature", signature.replace("cnop=", "other=")),
        ("signature", signature[:-3] + "=:"),  # another length
    ):
        headers = {**call.headers, name: value}
        assert refused(keys, _replace(call, "headers", headers)) in {  # type: ignore[arg-type]
            "bad_assertion",
            "stale_assertion",
        }
    assert refused(keys, _replace(call, "headers", {})) == "missing_assertion"  # type: ignore[arg-type]


def test_a_signature_spelled_another_way_is_refused(keys):
    """The last base64 character of an Ed25519 signature (64 bytes) carries 4 unused
    bits: setting one decodes to the very same signature (issue 21)."""
    call = signed_call(keys["gateway"])
    value = call.headers["signature"][len("cnop=:") : -1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = value[-3]  # before "=="
    stray = alphabet[alphabet.index(last) + 1]
    respelled = f"{value[:-3]}{stray}=="
    assert base64.b64decode(respelled) == base64.b64decode(value)
    headers = {**call.headers, "signature": f"cnop=:{respelled}:"}
    assert refused(keys, _replace(call, "headers", headers)) == "bad_assertion"  # type: ignore[arg-type]


def test_the_digest_is_rfc_9530s_sha_256():
    # RFC 9530 §B.1: the digest of {"hello": "world"}\n.
    assert content_digest(b'{"hello": "world"}\n') == (
        "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:"
    )


@pytest.mark.parametrize("length", [63, 65, 0])
def test_a_signature_of_another_length_is_refused_not_an_error(keys, length):
    call = signed_call(keys["gateway"])
    wrong = base64.b64encode(b"\x01" * length).decode()
    headers = {**call.headers, "signature": f"cnop=:{wrong}:"}
    assert refused(keys, _replace(call, "headers", headers)) == "bad_assertion"  # type: ignore[arg-type]


def test_libsodium_signatures_are_the_ones_cryptography_makes_and_checks(keys):
    # The signer uses libsodium for speed; auth's own copy of the checker, and any
    # receiver, may use `cryptography`: Ed25519 is deterministic, so both agree.
    signer = keys["gateway"]
    assert isinstance(signer, Signer)
    call = signed_call(signer)
    base_header = call.headers["signature"][len("cnop=:") : -1]
    signature = base64.b64decode(base_header)
    params = parse_input(call.headers["signature-input"])
    base = signature_base(call, params.components, params.serialized())
    assert signer.key.sign(base) == signature
    signer.key.public_key().verify(signature, base)  # raises InvalidSignature if not
