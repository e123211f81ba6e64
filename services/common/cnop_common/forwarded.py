"""Whose request is it: the TCP peer, or, behind proxies we trust, the hop they name.

Shared by the gateway (behind the web UI's pods) and the web UI (behind an ALB):
each proxy appends the address it saw to X-Forwarded-For, so the nearest hop
that is not one of our proxies is the client; anything further left is the
client's own claim and never believed.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address

Network = IPv4Network | IPv6Network


def client_ip(peer: str, forwarded_for: Iterable[str], trusted_proxies: tuple[Network, ...]) -> str:
    """The TCP peer, unless it is a trusted proxy: then the nearest untrusted forwarded hop."""
    if not trusted_proxies or not is_in(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        if not is_in(hop, trusted_proxies):
            try:
                return str(ip_address(hop))
            except ValueError:
                return peer
    return peer


def viewer_ip(value: str | None) -> str | None:
    """The address in a CDN's viewer header (`198.51.100.7:443`, `2001:db8::7:443`), or None."""
    if not value:
        return None
    host = value.strip().rpartition(":")[0].strip("[]")
    try:
        return str(ip_address(host))
    except ValueError:
        return None


def is_in(address: str, networks: tuple[Network, ...]) -> bool:
    """True when `address` is an IP address inside one of `networks`."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)
