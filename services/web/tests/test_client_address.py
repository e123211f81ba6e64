"""The browser's address, as the web UI passes it on to the gateway."""

import pytest
from starlette.requests import Request

from cnop_web.api import browser_ip
from cnop_web.settings import WebSettings

pytestmark = pytest.mark.unit

ALB_SUBNETS = "10.0.0.0/20,10.0.16.0/20"
VIEWER = "cloudfront-viewer-address"


def _request(peer: str, *headers: tuple[bytes, bytes]) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/api/v1/balance",
            "headers": list(headers),
            "client": (peer, 43210),
        }
    )


def _settings(**values: str) -> WebSettings:
    return WebSettings(environment="development", **values)  # type: ignore[arg-type]


def test_the_web_ui_forwards_the_browsers_address_from_behind_its_alb():
    request = _request("10.0.3.4", (b"x-forwarded-for", b"198.51.100.1, 203.0.113.9"))
    assert browser_ip(request, _settings(trusted_proxies=ALB_SUBNETS)) == "203.0.113.9"
    assert browser_ip(request, _settings()) == "10.0.3.4"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"198.51.100.7:50412", "198.51.100.7"),
        (b"2001:db8::7:50412", "2001:db8::7"),
        (b"[2001:db8::8]:443", "2001:db8::8"),
    ],
)
def test_behind_a_cdn_the_browser_is_the_viewer_the_cdn_names(header, expected):
    # X-Forwarded-For's nearest untrusted hop is the CDN's edge (130.176.0.1 here).
    request = _request(
        "10.0.3.4", (b"x-forwarded-for", b"198.51.100.7, 130.176.0.1"), (VIEWER.encode(), header)
    )
    settings = _settings(trusted_proxies=ALB_SUBNETS, viewer_address_header=VIEWER)
    assert browser_ip(request, settings) == expected


def test_a_viewer_header_from_anyone_but_our_proxies_is_ignored():
    # Sent straight to the pod (not through the ALB), the header is the caller's own claim.
    request = _request("192.0.2.50", (VIEWER.encode(), b"198.51.100.7:50412"))
    settings = _settings(trusted_proxies=ALB_SUBNETS, viewer_address_header=VIEWER)
    assert browser_ip(request, settings) == "192.0.2.50"


@pytest.mark.parametrize("header", [b"", b"not-an-address", b"198.51.100.7"])
def test_an_unreadable_viewer_header_falls_back_to_forwarded_for(header):
    request = _request("10.0.3.4", (b"x-forwarded-for", b"130.176.0.1"), (VIEWER.encode(), header))
    settings = _settings(trusted_proxies=ALB_SUBNETS, viewer_address_header=VIEWER)
    assert browser_ip(request, settings) == "130.176.0.1"


def test_a_viewer_header_without_trusted_proxies_is_refused_at_start_up():
    with pytest.raises(ValueError, match="VIEWER_ADDRESS_HEADER needs TRUSTED_PROXIES"):
        _settings(viewer_address_header=VIEWER)
