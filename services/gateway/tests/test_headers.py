"""Header cleaning (security case 16 at unit level) and client IP (case 20)."""

from ipaddress import ip_network

import pytest

from cnop_gateway.headers import client_ip, for_upstream, from_upstream

pytestmark = pytest.mark.unit

INJECTED = {
    "x-user-id": "alice",
    "x-user-role": "customer",
    "x-source": "gateway",
    "x-auth-service": "auth-service",
}


def test_every_client_copy_of_identity_headers_is_dropped():
    client = [
        (b"X-User-ID", b"bob"),
        (b"x-user-id", b"bob"),
        (b"X-USER-ID", b"bob"),
        (b"x-UsEr-Id", b"bob"),
        (b"X-User-Role", b"admin"),
        (b"X-Source", b"gateway"),
        (b"X-Auth-Service", b"auth-service"),
        (b"X-Authenticated", b"true"),
        (b"Authorization", b"Bearer t"),
        (b"Accept", b"application/json"),
    ]
    out = for_upstream(client, INJECTED)
    assert out["x-user-id"] == "alice"
    assert out["x-user-role"] == "customer"
    assert "authorization" not in out
    assert "x-authenticated" not in out
    assert out["accept"] == "application/json"
    assert sum(1 for key in out if key.lower() == "x-user-id") == 1


def test_connection_nominated_headers_cannot_remove_the_identity():
    client = [
        (b"Connection", b"X-User-ID, x-source, X-Custom"),
        (b"X-Custom", b"1"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Transfer-Encoding", b"chunked"),
    ]
    out = for_upstream(client, INJECTED)
    assert out["x-user-id"] == "alice"
    assert out["x-source"] == "gateway"
    assert "x-custom" not in out
    for hop_by_hop in ("connection", "keep-alive", "transfer-encoding"):
        assert hop_by_hop not in out


def test_forwarded_for_changes_nothing_from_an_untrusted_peer():
    headers = [(b"x-forwarded-for", b"9.9.9.9")]
    assert client_ip("203.0.113.7", headers, ()) == "203.0.113.7"
    assert client_ip("203.0.113.7", headers, (ip_network("10.0.0.0/8"),)) == "203.0.113.7"


def test_trusted_proxy_yields_the_nearest_untrusted_hop():
    proxies = (ip_network("10.0.0.0/8"),)
    headers = [(b"x-forwarded-for", b"1.1.1.1, 198.51.100.4, 10.0.0.3")]
    assert client_ip("10.0.0.2", headers, proxies) == "198.51.100.4"
    assert client_ip("10.0.0.2", [(b"x-forwarded-for", b"garbage")], proxies) == "10.0.0.2"
    assert client_ip("10.0.0.2", [], proxies) == "10.0.0.2"


# Written out here, not read from headers.py: the list a client must never get
# through, whatever the gateway injects (a public route injects no user at all).
NEVER_FROM_A_CLIENT = [
    "x-user-id",
    "x-user-role",
    "x-source",
    "x-auth-service",
    "x-authenticated",
    "x-identity-assertion",
    # The call's signature: the gateway signs each call itself (issue 21).
    "signature-input",
    "signature",
    "content-digest",
    "x-cnop-audience",
]


@pytest.mark.parametrize("name", NEVER_FROM_A_CLIENT)
def test_a_clients_identity_or_signature_header_never_passes_even_when_nothing_is_injected(
    name,
):
    for spelling in (name, name.upper(), name.title()):
        out = for_upstream([(spelling.encode(), b"forged")], {})
        assert name not in {key.lower() for key in out}, spelling


# Hop-by-hop headers (RFC 9110 §7.6.1) and those the gateway sets itself: a client's
# copy must not reach the backend (a forged request id or trace parent, its cookies,
# its framing). Written out, not read from headers.py.
HOP_BY_HOP_NAMES = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
]
NEVER_FORWARDED = [*HOP_BY_HOP_NAMES, "authorization", "x-request-id", "traceparent", "cookie"]


@pytest.mark.parametrize("name", NEVER_FORWARDED)
def test_hop_by_hop_and_gateway_owned_headers_from_a_client_are_dropped(name):
    client = [(name.encode(), b"from-the-client"), (name.upper().encode(), b"again")]
    out = for_upstream(client, {})
    assert name not in {key.lower() for key in out}


@pytest.mark.parametrize("name", ["x-request-id", "traceparent", "authorization"])
def test_the_gateways_own_value_replaces_the_clients(name):
    out = for_upstream([(name.encode(), b"forged")], {name: "ours"})
    assert out[name] == "ours"


def test_end_to_end_headers_pass_and_repeats_are_folded_in_order():
    client = [
        (b"Accept", b"application/json"),
        (b"X-Custom", b"1"),
        (b"x-custom", b"2"),
        (b"Idempotency-Key", b"k-1"),
    ]
    out = for_upstream(client, {})
    assert out == {"accept": "application/json", "x-custom": "1, 2", "idempotency-key": "k-1"}


# What an upstream answer may not hand the client: framing the gateway redoes,
# and the headers the gateway sets on every answer itself.
NEVER_RELAYED = [*HOP_BY_HOP_NAMES, "x-request-id", "traceparent", "server", "date"]


@pytest.mark.parametrize("name", NEVER_RELAYED)
def test_an_upstreams_hop_by_hop_and_gateway_set_headers_are_not_relayed(name):
    for spelling in (name, name.upper(), name.title()):
        assert from_upstream([(spelling, "upstream")]) == []


def test_an_upstreams_end_to_end_headers_are_relayed_lower_cased_in_order():
    upstream = [
        ("Content-Type", "application/json"),
        ("Retry-After", "1"),
        ("Set-Cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("Content-Length", "12"),
    ]
    assert from_upstream(upstream) == [
        (b"content-type", b"application/json"),
        (b"retry-after", b"1"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]


@pytest.mark.parametrize("listed", ["X-User-ID", "Keep-Alive", "Cookie"])
def test_a_header_both_forbidden_and_named_in_connection_is_still_dropped(listed):
    # The dropped names are a union: a name in two of the sets must not cancel out.
    client = [(b"Connection", listed.encode()), (listed.encode(), b"forged")]
    out = for_upstream(client, {})
    assert listed.lower() not in {key.lower() for key in out}


def test_only_the_connection_header_nominates_headers_to_drop():
    # Names sorting before and after "connection", each naming the other.
    client = [(b"Accept", b"x-trace-me"), (b"X-Trace-Me", b"accept"), (b"X-Other", b"1")]
    out = for_upstream(client, {})
    assert out == {"accept": "x-trace-me", "x-trace-me": "accept", "x-other": "1"}
