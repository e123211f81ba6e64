"""The browser's address, as the web UI passes it on to the gateway."""

from ipaddress import ip_network

import pytest
from starlette.requests import Request

from cnop_web.api import _outgoing

pytestmark = pytest.mark.unit

ALB_SUBNETS = (ip_network("10.0.0.0/20"), ip_network("10.0.16.0/20"))


def test_the_web_ui_forwards_the_browsers_address_from_behind_its_alb():
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/balance",
        "headers": [(b"x-forwarded-for", b"198.51.100.1, 203.0.113.9")],
        "client": ("10.0.3.4", 43210),
    }
    request = Request(scope)
    assert _outgoing(request, "/api/v1/balance", None, ALB_SUBNETS).client_ip == "203.0.113.9"
    assert _outgoing(request, "/api/v1/balance", None, ()).client_ip == "10.0.3.4"
