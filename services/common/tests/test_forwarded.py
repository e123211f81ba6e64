"""Whose address a request carries, behind the proxies a service trusts."""

from ipaddress import ip_network

import pytest

from cnop_common.forwarded import client_ip

pytestmark = pytest.mark.unit

ALB_SUBNETS = (ip_network("10.0.0.0/20"), ip_network("10.0.16.0/20"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # not a proxy: its claim is ignored
        ("10.0.3.4", ["203.0.113.9"], "203.0.113.9"),  # the ALB names the browser
        ("10.0.3.4", ["198.51.100.1, 203.0.113.9"], "203.0.113.9"),  # the client's own lie is left
        ("10.0.3.4", ["203.0.113.9, 10.0.17.2"], "203.0.113.9"),  # two of our proxies in a row
        ("10.0.3.4", ["not-an-address"], "10.0.3.4"),
        ("10.0.3.4", [], "10.0.3.4"),
    ],
)
def test_the_nearest_hop_that_is_not_ours_is_the_client(peer, forwarded, expected):
    assert client_ip(peer, forwarded, ALB_SUBNETS) == expected


def test_without_trusted_proxies_the_peer_is_the_client():
    assert client_ip("10.0.3.4", ["203.0.113.9"], ()) == "10.0.3.4"
