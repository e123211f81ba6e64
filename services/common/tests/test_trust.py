"""The trusted-source decision, on ASGI scopes built by hand."""

import asyncio
import time
from ipaddress import ip_network

import pytest
from prometheus_client import REGISTRY

from cnop_common.nonces import NonceStore
from cnop_common.trust import (
    REFUSAL_REASONS,
    TrustedSourceMiddleware,
    peer_is_trusted,
    refusal_reason,
)
from cnop_platform.local.ports import NOTHING_LISTENS

pytestmark = pytest.mark.unit

LOCAL = (ip_network("127.0.0.1/32"),)
CLUSTER = (ip_network("10.244.0.0/16"), ip_network("fd00::/64"))
MARKERS = [(b"x-source", b"gateway"), (b"x-auth-service", b"auth-service")]


def scope(peer="127.0.0.1", path="/balance", headers=()):
    return {"type": "http", "path": path, "client": (peer, 50000), "headers": list(headers)}


def test_gateway_request_from_trusted_peer_is_served():
    assert refusal_reason(scope(headers=MARKERS), LOCAL, ()) is None


@pytest.mark.parametrize("peer", ["127.0.0.2", "10.0.0.1", "::1", "not-an-ip"])
def test_peer_outside_trusted_networks_is_refused_even_with_markers(peer):
    assert refusal_reason(scope(peer=peer, headers=MARKERS), LOCAL, ()) == "untrusted_network"


def test_forwarded_for_header_does_not_make_a_peer_trusted():
    headers = [*MARKERS, (b"x-forwarded-for", b"127.0.0.1"), (b"x-real-ip", b"127.0.0.1")]
    assert refusal_reason(scope(peer="10.9.9.9", headers=headers), LOCAL, ()) == (
        "untrusted_network"
    )


def test_missing_client_is_untrusted():
    assert not peer_is_trusted({"type": "http", "headers": []}, LOCAL)


def test_ipv6_and_cidr_membership():
    assert peer_is_trusted(scope(peer="10.244.3.7"), CLUSTER)
    assert peer_is_trusted(scope(peer="fd00::5"), CLUSTER)
    assert not peer_is_trusted(scope(peer="10.245.0.1"), CLUSTER)


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"x-source", b"gateway")],
        [(b"x-auth-service", b"auth-service")],
        [(b"x-source", b"Gateway"), (b"x-auth-service", b"auth-service")],
        [(b"x-source", b"order"), (b"x-auth-service", b"auth-service")],
        [(b"x-source", b"gateway"), (b"x-auth-service", b"auth")],
    ],
)
def test_missing_or_wrong_markers_are_refused(headers):
    assert refusal_reason(scope(headers=headers), LOCAL, ()) == "missing_gateway_headers"


def test_repeated_identity_header_is_refused():
    headers = [*MARKERS, (b"x-user-id", b"alice"), (b"X-User-ID", b"bob")]
    assert refusal_reason(scope(headers=headers), LOCAL, ()) == "repeated_identity_header"


def test_internal_path_accepts_only_named_callers():
    internal = "/internal/assets/BTC"
    order = [(b"x-source", b"order")]
    assert refusal_reason(scope(path=internal, headers=order), LOCAL, {"order"}) is None
    assert (
        refusal_reason(scope(path=internal, headers=MARKERS), LOCAL, {"order"})
        == "unknown_internal_caller"
    )
    assert (
        refusal_reason(scope(path=internal, headers=order), LOCAL, ()) == "unknown_internal_caller"
    )
    assert (
        refusal_reason(scope(peer="10.1.1.1", path=internal, headers=order), LOCAL, {"order"})
        == "untrusted_network"
    )


def test_every_refusal_reason_is_a_series_from_the_start():
    TrustedSourceMiddleware(app=None, service="zero-init-check", networks=LOCAL)  # type: ignore[arg-type]
    values = {
        reason: REGISTRY.get_sample_value(
            "untrusted_requests_total", {"service": "zero-init-check", "reason": reason}
        )
        for reason in REFUSAL_REASONS
    }
    assert values == dict.fromkeys(REFUSAL_REASONS, 0.0)


def test_without_its_nonce_store_a_receiver_judges_alone_and_counts_it():
    """A store that does not answer costs nothing but the shared memory: the call is
    judged by this replica's own, and the fallback is counted (nonces.py)."""
    dead = NOTHING_LISTENS["shared limits: a limits store that is down"]
    store = NonceStore(f"redis://127.0.0.1:{dead}/0", "nonce-fallback-check")
    sample = ("signed_call_nonce_store_fallbacks_total", {"service": "nonce-fallback-check"})
    before = REGISTRY.get_sample_value(*sample)
    assert asyncio.run(store.first_use("n" * 22, time.time() + 10)) is True
    assert REGISTRY.get_sample_value(*sample) == (before or 0) + 1
