"""The signature profile's parts (cnop_common/signatures.py), edge by edge (issue 25).

What the mutation run showed no test pinned: the value of each covered
component, the one canonical spelling of a signature (a last character with
stray bits, whichever way it sorts), the nonce's 128 bits, the signature's 10 s
of life, and that the parsed parameters cannot be changed once read.
"""

from __future__ import annotations

import base64
from dataclasses import FrozenInstanceError

import pytest

from cnop_common.signatures import (
    MAX_AGE_SECONDS,
    Call,
    Parameters,
    SignatureRefused,
    component_value,
    new_nonce,
    parse_signature,
)

pytestmark = pytest.mark.unit

CALL = Call(
    "post",
    "/balance/withdraw",
    "a=1&b=%20",
    {"host": "User.Internal:8000", "x-user-id": "  alice ", "content-digest": "sha-256=:x:"},
    b"{}",
)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("@method", "POST"),
        ("@path", "/balance/withdraw"),
        ("@query", "?a=1&b=%20"),
        ("@authority", "user.internal:8000"),
        ("x-user-id", "alice"),
        ("content-digest", "sha-256=:x:"),
    ],
)
def test_each_component_s_value(name, value):
    assert component_value(CALL, name) == value


def test_an_empty_path_and_query_have_their_standard_values():
    bare = Call("GET", "", "", {}, b"")
    assert component_value(bare, "@path") == "/"
    assert component_value(bare, "@query") == "?"
    assert component_value(bare, "@authority") == ""


@pytest.mark.parametrize("name", ["@aaa", "@authorit", "x-missing", "-"])
def test_a_covered_name_the_request_lacks_is_refused(name):
    with pytest.raises(SignatureRefused):
        component_value(CALL, name)


def _spelled(raw: bytes, last: str) -> str:
    canonical = base64.b64encode(raw).decode()
    return f"cnop=:{canonical[:-3]}{last}==:"


@pytest.mark.parametrize(
    ("last_byte", "canonical", "others"),
    [
        # The last byte leaves 2 bits in the last character: 4 stray bits below them.
        (0x00, "A", "BCP"),  # every other spelling sorts after the canonical one
        (0x01, "Q", "RZa"),
        (0x03, "w", "x09+/"),  # digits, "+" and "/" sort before "w": the check is equality
    ],
)
def test_a_signature_has_one_spelling(last_byte, canonical, others):
    raw = bytes(range(63)) + bytes([last_byte])
    assert base64.b64encode(raw).decode()[-3] == canonical
    assert parse_signature(_spelled(raw, canonical)) == raw
    for other in others:
        with pytest.raises(SignatureRefused):
            parse_signature(_spelled(raw, other))


def test_a_nonce_carries_128_random_bits():
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    for nonce in nonces:
        assert len(base64.urlsafe_b64decode(nonce + "==")) == 16


def test_a_signature_lives_ten_seconds():
    assert MAX_AGE_SECONDS == 10


def test_parameters_cannot_be_changed_once_read():
    params = Parameters(("@method",), 1, 11, "n" * 16, "gateway-1")
    with pytest.raises(FrozenInstanceError):
        params.expires = 99  # type: ignore[misc]
    call = Call("GET", "/", "", {}, b"")
    with pytest.raises(FrozenInstanceError):
        call.body = b"other"  # type: ignore[misc]
