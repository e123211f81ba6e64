"""Signed calls at their edges, on a fixed clock (issue 25: what the mutation run left unpinned).

A signature lives 10 s (0 < lifetime ≤ 10), is fresh while now is within 5 s
of its life (SKEW_SECONDS), and its nonce is remembered until then; a receiver
remembers at most REPLAY_MEMORY nonces, dropping the oldest. Each edge is tried
on both sides. Signatures with other lifetimes than the signer writes are made
by hand, with the signer's own key, so only the rule under test refuses them.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from cnop_common.assertions import (
    REPLAY_MEMORY,
    SKEW_SECONDS,
    AssertionRefused,
    Signer,
    Verifier,
    canonical_b64url,
    new_identity_keys,
)
from cnop_common.signatures import (
    LABEL,
    Call,
    Parameters,
    content_digest,
    covered_for,
    parse_input,
    signature_base,
)

pytestmark = pytest.mark.unit

BODY = b'{"amount":"10.00"}'
CREATED = 1_700_000_005  # created ^ 10 != created + 10: a sum, not a bit trick


class Clock:
    """The verifier's clock (the module's `time`), set by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = float(CREATED)
        monkeypatch.setattr("cnop_common.assertions.time", SimpleNamespace(time=lambda: self.now))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Signer, Verifier]:
    private, entry = new_identity_keys("gateway", "gateway-1")
    (tmp_path / "key.json").write_text(json.dumps(private))
    (tmp_path / "public.json").write_text(json.dumps({"gateway-1": entry}))
    return Signer.load(tmp_path / "key.json"), Verifier.load(tmp_path / "public.json", "user")


def signed(signer: Signer, *, created: int = CREATED, audience: str = "user") -> Call:
    headers = signer.sign(
        "POST", "/balance/withdraw", BODY, audience, subject="alice", created=created
    )
    return Call("POST", "/balance/withdraw", "", headers, BODY)


def hand_signed(signer: Signer, created: int, expires: int, nonce: str = "n" * 22) -> Call:
    """A call whose signature says `created` and `expires`, made with the signer's key."""
    call = signed(signer)
    params = Parameters(covered_for(call.headers), created, expires, nonce, signer.kid)
    base = signature_base(call, params.components, params.serialized())
    signature = base64.b64encode(signer.key.sign(base)).decode()
    headers = {
        **call.headers,
        "signature-input": f"{LABEL}={params.serialized()}",
        "signature": f"{LABEL}=:{signature}:",
    }
    return Call(call.method, call.path, call.query, headers, call.body)


def reason(verifier: Verifier, call: Call) -> str:
    try:
        verifier.verify(call, {"gateway"})
    except AssertionRefused as refused:
        return refused.reason
    return "accepted"


def test_a_signer_writes_ten_seconds_of_life(pair):
    signer, _ = pair
    params = parse_input(signed(signer).headers["signature-input"])
    assert (params.created, params.expires) == (CREATED, CREATED + 10)


@pytest.mark.parametrize(
    ("lifetime", "outcome"),
    [
        (-1, "bad_assertion"),
        (0, "bad_assertion"),
        (1, "accepted"),
        (10, "accepted"),
        (11, "bad_assertion"),
    ],
)
def test_a_signature_lives_more_than_nothing_and_at_most_ten_seconds(
    pair, clock, lifetime, outcome
):
    signer, verifier = pair
    assert reason(verifier, hand_signed(signer, CREATED, CREATED + lifetime)) == outcome


def test_a_lifetime_is_a_difference_whatever_the_numbers(pair, clock):
    # Tiny times (a forged header): 17 - 5 is 12, too long, whatever 17 % 5 might say.
    signer, verifier = pair
    clock.now = 10.0
    assert reason(verifier, hand_signed(signer, 5, 17)) == "bad_assertion"


@pytest.mark.parametrize(
    ("offset", "outcome"),
    [(10 + SKEW_SECONDS, "accepted"), (10 + SKEW_SECONDS + 0.001, "stale_assertion")],
)
def test_a_signature_is_fresh_until_its_expiry_plus_the_skew(pair, clock, offset, outcome):
    signer, verifier = pair
    clock.now = CREATED + offset
    assert reason(verifier, signed(signer)) == outcome


@pytest.mark.parametrize(
    ("offset", "outcome"),
    [(-SKEW_SECONDS, "accepted"), (-SKEW_SECONDS - 0.001, "stale_assertion")],
)
def test_a_signature_from_the_future_is_fresh_within_the_skew(pair, clock, offset, outcome):
    signer, verifier = pair
    clock.now = CREATED + offset
    assert reason(verifier, signed(signer)) == outcome


def test_the_skew_is_five_seconds_and_the_memory_a_hundred_thousand():
    assert (SKEW_SECONDS, REPLAY_MEMORY) == (5, 100_000)


def test_a_replay_is_refused_until_the_signature_is_stale(pair, clock):
    signer, verifier = pair
    call = signed(signer)
    claims = verifier.verify(call, {"gateway"})
    assert claims["until"] == CREATED + 10 + SKEW_SECONDS
    for later in (4.0, 10.0, 10.0 + SKEW_SECONDS):  # the last instant it is fresh, too
        clock.now = CREATED + later
        assert reason(verifier, call) == "replayed_assertion", later
    clock.now = CREATED + 10 + SKEW_SECONDS + 0.001
    assert reason(verifier, call) == "stale_assertion"


def test_an_expired_nonce_is_forgotten_and_a_later_one_kept(pair, clock):
    signer, verifier = pair
    first = signed(signer, created=CREATED)
    second = signed(signer, created=CREATED + 10)
    verifier.verify(first, {"gateway"})
    clock.now = CREATED + 10
    verifier.verify(second, {"gateway"})
    clock.now = CREATED + 20  # the first's memory ran out (CREATED + 15); the second's did not
    assert len(verifier._seen) == 2
    assert reason(verifier, second) == "replayed_assertion"
    assert list(verifier._seen.values()) == [CREATED + 25]  # the oldest went, the newest stayed


def test_the_receiver_remembers_its_last_hundred_thousand_nonces(pair, clock):
    _, verifier = pair
    until = CREATED + 15.0
    for n in range(REPLAY_MEMORY):
        verifier._accept_once(f"nonce-{n}", until, clock.now)
    assert len(verifier._seen) == REPLAY_MEMORY
    with pytest.raises(AssertionRefused):
        verifier._accept_once("nonce-0", until, clock.now)  # the oldest, still there
    verifier._accept_once("newest", until, clock.now)  # one more: the oldest goes
    assert len(verifier._seen) == REPLAY_MEMORY
    assert "nonce-0" not in verifier._seen
    assert "newest" in verifier._seen
    verifier._accept_once("nonce-0", until, clock.now)  # accepted again: forgotten


@pytest.mark.parametrize("kept", ["signature", "signature-input"])
def test_half_a_signature_is_no_signature(pair, clock, kept):
    signer, verifier = pair
    call = signed(signer)
    dropped = "signature-input" if kept == "signature" else "signature"
    headers = {k: v for k, v in call.headers.items() if k != dropped}
    assert reason(verifier, Call(call.method, call.path, call.query, headers, BODY)) == (
        "missing_assertion"
    )


def test_a_user_the_request_no_longer_names_is_a_mismatch(pair, clock):
    signer, verifier = pair
    call = signed(signer)
    headers = {k: v for k, v in call.headers.items() if not k.startswith("x-user-")}
    assert reason(verifier, Call(call.method, call.path, call.query, headers, BODY)) == (
        "assertion_mismatch"
    )


@pytest.mark.parametrize("audience", ["auth", "wallet", "zzz", "User"])
def test_a_call_for_another_receiver_is_refused_whichever_way_its_name_sorts(pair, clock, audience):
    signer, verifier = pair
    assert reason(verifier, signed(signer, audience=audience)) == "bad_assertion"


def test_the_receiver_s_name_is_compared_by_value(pair, clock):
    # Header values are strings made afresh from the wire, never the receiver's object.
    signer, verifier = pair
    call = signed(signer, audience="".join(["us", "er"]))
    assert reason(verifier, call) == "accepted"


def test_another_body_is_a_mismatch_whichever_way_its_digest_sorts(pair, clock):
    signer, verifier = pair
    call = signed(signer)
    bodies = [b'{"amount":"%d.00"}' % n for n in range(1, 9)]
    signed_digest = call.headers["content-digest"]
    orders = {content_digest(body) < signed_digest for body in bodies}
    assert orders == {True, False}  # digests on both sides of the signed one
    for body in bodies:
        other = Call(call.method, call.path, call.query, call.headers, body)
        assert reason(verifier, other) == "assertion_mismatch", body


def test_a_segment_of_one_character_too_many_is_not_base64url():
    for text in ("A", "AAAAA", "AAAAAAAAA"):
        assert canonical_b64url(text) is False


def test_a_signer_cannot_be_changed_once_loaded(pair):
    signer, _ = pair
    with pytest.raises(AttributeError):
        signer.kid = "user-1"
