"""Signed identity assertions: who may speak for whom (issue 12, identity a pod cannot forge)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from cnop_common.assertions import (
    MAX_AGE_SECONDS,
    AssertionRefused,
    Signer,
    Verifier,
    new_identity_keys,
    sign,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Signer | Verifier]:
    folder: Path = tmp_path_factory.mktemp("identity")
    public = {}
    signers = {}
    for issuer in ("gateway", "user", "order"):
        private, entry = new_identity_keys(issuer, f"{issuer}-1")
        (folder / f"{issuer}.json").write_text(json.dumps(private))
        public[f"{issuer}-1"] = entry
        signers[issuer] = Signer.load(folder / f"{issuer}.json")
    (folder / "public.json").write_text(json.dumps(public))
    return {**signers, "inventory": Verifier.load(folder / "public.json", "inventory")}


def refused(keys, token, issuers=("gateway",)) -> str:
    with pytest.raises(AssertionRefused) as caught:
        keys["inventory"].verify(token, issuers)
    return caught.value.reason


def test_a_good_assertion_names_the_user_the_gateway_vouches_for(keys):
    token = keys["gateway"].assertion(
        "inventory", subject="alice", role="customer", request_id="r1"
    )
    claims = keys["inventory"].verify(token, {"gateway"})
    assert (claims["iss"], claims["sub"], claims["role"], claims["rid"]) == (
        "gateway",
        "alice",
        "customer",
        "r1",
    )


def test_a_service_cannot_speak_as_the_gateway(keys):
    # order holds its own key only: its assertion is order's, whatever it claims.
    token = keys["order"].assertion("inventory", subject="alice")
    assert refused(keys, token) == "wrong_caller"
    now = int(time.time())
    claims = {"iss": "gateway", "aud": "inventory", "iat": now, "exp": now + 10, "sub": "alice"}
    forged = sign(claims, "gateway-1", keys["order"].key)
    assert refused(keys, forged) == "bad_assertion"  # gateway's kid, order's signature


def test_missing_stale_and_misaddressed_assertions_are_refused(keys):
    assert refused(keys, None) == "missing_assertion"
    assert refused(keys, "not.an.assertion") == "bad_assertion"
    good = keys["gateway"].assertion("inventory", subject="alice")
    version, kid, body, signature = good.split(".")
    tampered_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    assert refused(keys, f"{version}.{kid}.{tampered_body}.{signature}") == "bad_assertion"
    to_user = keys["gateway"].assertion("user", subject="alice")
    assert refused(keys, to_user) == "bad_assertion"  # meant for another service
    now = int(time.time())

    def signed(iat: int, exp: int) -> str:
        claims = {"iss": "gateway", "aud": "inventory", "iat": iat, "exp": exp}
        return sign(claims, "gateway-1", keys["gateway"].key)

    assert refused(keys, signed(now - 120, now - 90)) == "stale_assertion"
    assert refused(keys, signed(now, now + 10 * MAX_AGE_SECONDS)) == "stale_assertion"


def test_internal_callers_are_named_by_their_own_keys(keys):
    token = keys["user"].assertion("inventory")
    assert keys["inventory"].verify(token, {"user", "order"})["iss"] == "user"
    assert refused(keys, token, issuers=("order",)) == "wrong_caller"


def test_an_assertion_spelled_another_way_is_refused(keys):
    """Issue 21: the signature with "=" appended, or with stray bits in its last
    character, decodes to the same bytes and used to verify."""
    good = keys["gateway"].assertion("inventory", subject="alice")
    version, kid, body, signature = good.split(".")
    assert keys["inventory"].verify(good, {"gateway"})
    assert refused(keys, f"{version}.{kid}.{body}.{signature}=") == "bad_assertion"
    assert refused(keys, f"{version}.{kid}.{body}=.{signature}") == "bad_assertion"
    # The last character of an Ed25519 signature (64 bytes) carries 4 unused bits:
    # setting one decodes to the very same signature, which verified before.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    stray = alphabet[alphabet.index(signature[-1]) + 1]
    respelled = f"{signature[:-1]}{stray}"
    assert base64.urlsafe_b64decode(respelled + "==") == base64.urlsafe_b64decode(signature + "==")
    assert refused(keys, f"{version}.{kid}.{body}.{respelled}") == "bad_assertion"
