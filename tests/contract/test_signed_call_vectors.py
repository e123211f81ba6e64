"""One profile of RFC 9421, checked by two implementations (issue 21).

cnop_common signs and checks the calls between services; auth keeps its own copy
of the check (it shares nothing by design). Both build the RFC's signature base
exactly (its Appendix B.2.6 example, signed with the RFC's Ed25519 test key), and
both accept and refuse the same calls for the same reasons.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cnop_auth import signed_calls as auth_side
from cnop_common import assertions, signatures

pytestmark = pytest.mark.unit

# RFC 9421 Appendix B.1.4, test-key-ed25519 (private part, as a JWK's "d").
TEST_KEY = Ed25519PrivateKey.from_private_bytes(
    base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU=")
)
# RFC 9421 Appendix B.2 (test-request) and B.2.6 (signing it with ed25519).
B26_HEADERS = {
    "host": "example.com",
    "date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "content-type": "application/json",
    "content-length": "18",
}
B26_COMPONENTS = ("date", "@method", "@path", "@authority", "content-type", "content-length")
B26_PARAMS = (
    '("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)
SIDES: dict[str, Any] = {"cnop_common": signatures, "auth": auth_side}


@pytest.mark.parametrize("side", SIDES.values(), ids=SIDES)
def test_the_signature_base_is_the_rfcs(side):
    call = side.Call("POST", "/foo", "param=Value&Pet=dog", B26_HEADERS, b'{"hello": "world"}')
    base = side.signature_base(call, B26_COMPONENTS, B26_PARAMS)
    assert base64.b64encode(TEST_KEY.sign(base)).decode() == B26_SIGNATURE


@pytest.fixture
def keyring(tmp_path: Path) -> dict[str, Any]:
    private, public = assertions.new_identity_keys("gateway", "gateway-1")
    (tmp_path / "gateway.json").write_text(json.dumps(private))
    (tmp_path / "public.json").write_text(json.dumps({"gateway-1": public}))
    return {
        "signer": assertions.Signer.load(tmp_path / "gateway.json"),
        "verifiers": {
            "cnop_common": assertions.Verifier.load(tmp_path / "public.json", "auth"),
            "auth": auth_side.Verifier.load(tmp_path / "public.json", "auth"),
        },
    }


def _outcome(side: str, verifier: Any, call: Any) -> str:
    refusal = assertions.AssertionRefused if side == "cnop_common" else auth_side.SignatureRefused
    try:
        verifier.verify(call, {"gateway"})
    except refusal as refused:
        return str(refused.reason)
    return "accepted"


def test_both_sides_read_every_call_alike(keyring):
    body = b'{"token":"abc"}'
    headers = keyring["signer"].sign("POST", "/auth/validate-jwt", body, "auth")
    cases = {
        "good": ("POST", "/auth/validate-jwt", headers, body),
        "other body": ("POST", "/auth/validate-jwt", headers, b'{"token":"xyz"}'),
        "other path": ("POST", "/auth/tokens", headers, body),
        "other method": ("PUT", "/auth/validate-jwt", headers, body),
        "unsigned": ("POST", "/auth/validate-jwt", {}, body),
    }
    for name, (method, path, sent, content) in cases.items():
        outcomes = {
            side: _outcome(side, verifier, _call(side, method, path, sent, content))
            for side, verifier in keyring["verifiers"].items()
        }
        assert len(set(outcomes.values())) == 1, (name, outcomes)
    # Each side remembers what it accepted: the same good call again is a replay.
    for side, verifier in keyring["verifiers"].items():
        again = _call(side, "POST", "/auth/validate-jwt", headers, body)
        assert _outcome(side, verifier, again) == "replayed_assertion"


def _call(side: str, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
    return SIDES[side].Call(method, path, "", headers, body)
