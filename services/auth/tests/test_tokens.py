"""Keyring and claim checks of the auth service (security cases 2–11, 14 at unit level)."""

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import FrozenInstanceError
from types import SimpleNamespace

import jwt
import pytest

from cnop_auth.tokens import MAX_TOKEN_LENGTH, TokenRejected, TokenService

pytestmark = pytest.mark.unit

OLD = "o" * 16 + "ld-key-material-0123456789abcdef"
NEW = "n" * 16 + "ew-key-material-0123456789abcdef"


def service(keyring=None, active="k2"):
    return TokenService(
        keyring or {"k1": OLD, "k2": NEW},
        active,
        issuer="cnop-auth",
        audience="cnop-platform",
        ttl_seconds=3600,
        leeway_seconds=30,
    )


def claims(**changes):
    now = int(time.time())
    base = {
        "iss": "cnop-auth",
        "aud": "cnop-platform",
        "sub": "alice",
        "role": "customer",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "abc123",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def sign(payload, key=NEW, kid="k2", **header):
    return jwt.encode(payload, key, algorithm="HS256", headers={"kid": kid, **header})


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def hand_signed(header: dict[str, object], payload: dict[str, object], key: str = NEW) -> str:
    """A token built byte by byte, for headers PyJWT refuses to write."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    mac = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def rejected(token, reason="token_invalid"):
    with pytest.raises(TokenRejected) as caught:
        service().validate(token)
    assert caught.value.reason == reason
    return caught.value


def test_issued_token_validates_and_carries_every_claim():
    tokens = service()
    token, issued = tokens.issue("alice", "customer")
    assert jwt.get_unverified_header(token)["kid"] == "k2"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert set(payload) == {"iss", "aud", "sub", "role", "iat", "nbf", "exp", "jti"}
    assert payload["exp"] - payload["iat"] == 3600
    assert tokens.validate(token) == issued


def test_hand_signed_helper_makes_tokens_the_service_accepts():
    # Guards the helper: the rejections below are about the header, not the helper.
    assert service().validate(hand_signed({"alg": "HS256", "kid": "k2"}, claims()))


def test_older_key_still_in_ring_validates_retired_key_does_not():
    old_token = sign(claims(), key=OLD, kid="k1")
    assert service().validate(old_token).username == "alice"
    with pytest.raises(TokenRejected):
        service({"k2": NEW}).validate(old_token)


def test_case_2_tampering():
    token = sign(claims())
    head, _, sig = token.split(".")
    forged_payload = b64(claims(sub="mallory"))
    rejected(f"{head}.{forged_payload}.{sig}")
    rejected(f"{head}.{token.split('.')[1]}.")
    rejected(token[:-4])


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_case_3_unsigned(alg):
    rejected(f"{b64({'alg': alg, 'typ': 'JWT', 'kid': 'k2'})}.{b64(claims())}.")


def test_case_4_wrong_secret_and_other_algorithms():
    rejected(sign(claims(), key="x" * 40))
    rejected(hand_signed({"alg": "HS512", "kid": "k2"}, claims()))
    rejected(hand_signed({"alg": "RS256", "kid": "k2"}, claims()))


@pytest.mark.parametrize("missing", ["exp", "sub", "jti", "iss", "aud", "iat", "nbf", "role"])
def test_case_5_missing_claims(missing):
    rejected(sign(claims(**{missing: ...})))


def test_case_6_time_claims():
    now = int(time.time())
    rejected(sign(claims(exp=now - 31)), "token_expired")
    assert service().validate(sign(claims(exp=now - 5)))  # within leeway
    rejected(sign(claims(nbf=now + 120)))
    rejected(sign(claims(iat=now + 120)))


def test_a_validly_signed_token_living_longer_than_issued_ones_is_refused():
    # Defence in depth if a key leaks: a forger would give the token years.
    now = int(time.time())
    error = rejected(sign(claims(exp=now + 5 * 365 * 86400)))
    assert error.detail == "lifetime longer than issued tokens have"
    rejected(sign(claims(iat=now - 60, exp=now + 3600 + 30)))  # ttl + leeway + 60 s
    assert service().validate(sign(claims(iat=now, exp=now + 3600 + 30)))  # at the bound


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "cnop-aut"},
        {"iss": "cnop-auth-evil"},
        {"iss": ""},
        {"aud": "other"},
        {"aud": ["other", "cnop-platform"]},
        {"aud": ["cnop-platform"]},
    ],
)
def test_case_7_issuer_and_audience(changes):
    rejected(sign(claims(**changes)))


@pytest.mark.parametrize("sub", [123, [], None, {}, ""])
def test_case_8_subject_must_be_a_string(sub):
    rejected(sign(claims(sub=sub)))


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "http://127.0.0.1:9/keys"},
        {"x5u": "http://127.0.0.1:9/cert"},
        {"jwk": {"kty": "oct", "k": "AAAA"}},
        {"x5c": ["MIIB"]},
    ],
)
def test_case_9_key_pointing_headers(header):
    rejected(sign(claims(), **header))


@pytest.mark.parametrize("kid", ["../../../../dev/null", "", "x' OR '1'='1", "|sleep 10", None, 7])
def test_case_9_hostile_kid_values_are_only_looked_up_never_used(kid, monkeypatch):
    # A kid is a key in the keyring, nothing more: validating must not open a file
    # or start a process whatever it says (no timing here: that belongs in benchmarks).
    tokens = service()
    token = hand_signed({"alg": "HS256", "typ": "JWT", "kid": kid}, claims())

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a kid value reached the file system or a shell")

    monkeypatch.setattr("builtins.open", forbidden)
    monkeypatch.setattr("subprocess.Popen", forbidden)
    monkeypatch.setattr("os.system", forbidden)
    with pytest.raises(TokenRejected) as caught:
        tokens.validate(token)
    assert caught.value.reason == "token_invalid"


def test_case_10_unknown_crit_extension():
    rejected(sign(claims(), crit=["exp-extension"], **{"exp-extension": 1}))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.???.###",
        f"{b64({'alg': 'HS256'})[:-1]}.e30.x",
        "W10.e30.sig",
        f"{b64({'alg': 'HS256', 'kid': 'k2'})}.W10.sig",
    ],
)
def test_case_11_structure(token):
    rejected(token)


def test_oversized_token_is_refused_before_parsing():
    rejected("a" * 5000)


def test_a_token_spelled_another_way_is_refused():
    """Issue 21: PyJWT decodes "=" appended to a segment; one token, one string."""
    token, _issued = service().issue("alice", "customer")
    header, payload, signature = token.split(".")
    for respelled in (
        f"{token}=",
        f"{header}.{payload}=.{signature}",
        f"{header}=.{payload}.{signature}",
    ):
        rejected(respelled)


# --- edges the mutation run showed unpinned (issue 25) ----------------------------------


def _token_of_length(length: int) -> str:
    """A valid token exactly `length` characters long (a filler header field)."""
    for filler in range(2_500, 3_100):
        for sub_length in range(5, 9):  # the payload's length moves by 1 or 2 per byte
            token: str = sign(claims(sub="a" * sub_length), pad="x" * filler)
            if len(token) == length:
                return token
    raise AssertionError(f"no token of {length} characters")


def test_a_token_at_the_length_bound_is_read_and_one_more_character_is_not():
    assert MAX_TOKEN_LENGTH == 4096
    at_bound = _token_of_length(MAX_TOKEN_LENGTH)
    assert service().validate(at_bound).username.startswith("a")
    error = rejected(at_bound + "A")  # one character longer, before anything is parsed
    assert error.detail == "token too long"


@pytest.mark.parametrize("alg", ["ES256", "HS384", "RS256", "none", "PS256"])
def test_every_other_algorithm_is_refused_by_name(alg):
    # Both below and above "HS256" in sort order: the check is equality, nothing else.
    error = rejected(hand_signed({"alg": alg, "kid": "k2"}, claims()))
    assert error.detail == "algorithm not allowed"


def test_a_token_issued_at_the_leeway_s_edge_is_accepted_and_a_second_later_is_not(monkeypatch):
    now = int(time.time())
    # The service's own clock, fixed; PyJWT's (the real one) is at or past it.
    monkeypatch.setattr("cnop_auth.tokens.time", SimpleNamespace(time=lambda: float(now)))
    assert service().validate(sign(claims(iat=now + 30, nbf=now)))
    error = rejected(sign(claims(iat=now + 31, nbf=now)))
    assert error.detail in {"issued in the future", "ImmatureSignatureError"}


@pytest.mark.parametrize("name", ["sub", "role", "jti"])
def test_a_claim_of_128_characters_is_read_and_129_is_not(name):
    assert service().validate(sign(claims(**{name: "a" * 128})))
    error = rejected(sign(claims(**{name: "a" * 129})))
    assert error.detail == f"claim {name} is not a short string"


def test_an_expiry_that_is_not_a_whole_number_is_refused():
    now = int(time.time())
    error = rejected(sign(claims(exp=now + 600.5)))
    assert error.detail == "exp or iat is not a number"


def test_issued_tokens_have_ids_of_128_random_bits():
    ids = {service().issue("alice", "customer")[1].token_id for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[0-9a-f]{32}", token_id) for token_id in ids)


def test_claims_cannot_be_changed_once_read():
    _token, issued = service().issue("alice", "customer")
    with pytest.raises(FrozenInstanceError):
        issued.role = "admin"
