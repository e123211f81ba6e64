"""Security cases 18 and 19: backends refuse anything that did not come through the gateway."""

import re
import time

import httpx
import pytest

from cnop_common.assertions import HEADER as ASSERTION_HEADER
from cnop_common.assertions import sign
from tests.helpers import GATEWAY_MARKERS, asserted, signer_of

pytestmark = pytest.mark.integration

FORGED = {**GATEWAY_MARKERS, "X-User-ID": "victim_user", "X-User-Role": "admin"}
# A loopback address outside TRUSTED_NETWORKS (127.0.0.1/32): a stranger on the network.
OUTSIDE = "127.0.0.5"
ROUTES = [
    ("user", "GET", "/balance"),
    ("user", "POST", "/balance/withdraw"),
    ("user", "GET", "/portfolio"),
    ("user", "POST", "/auth/register"),
    ("inventory", "GET", "/inventory/assets"),
    ("order", "POST", "/orders"),
    ("order", "GET", "/orders"),
]


def refused_count(platform, service: str, reason: str) -> float:
    text = httpx.get(f"{platform.admin_url(service)}/metrics").text
    pattern = rf'^untrusted_requests_total\{{reason="{reason}",service="{service}"\}} (\S+)$'
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def outside_client() -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=OUTSIDE), trust_env=False)


@pytest.mark.parametrize(("service", "method", "path"), ROUTES)
def test_case_18_forged_headers_from_outside_are_refused_and_counted(
    local_platform, service, method, path
):
    before = refused_count(local_platform, service, "untrusted_network")
    with outside_client() as client:
        response = client.request(
            method,
            f"{local_platform.url(service)}{path}",
            headers={**FORGED, "X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"},
            json={"amount": "1"},
        )
    assert response.status_code == 403
    assert response.json()["code"] == "UNTRUSTED_SOURCE"
    assert "victim" not in response.text
    assert refused_count(local_platform, service, "untrusted_network") == before + 1


@pytest.mark.parametrize(("service", "method", "path"), ROUTES)
def test_case_19_trusted_peer_without_gateway_headers_is_refused(
    local_platform, service, method, path
):
    before = refused_count(local_platform, service, "missing_gateway_headers")
    response = httpx.request(
        method,
        f"{local_platform.url(service)}{path}",
        headers={"X-User-ID": "victim_user"},
        json={"amount": "1"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "UNTRUSTED_SOURCE"
    assert refused_count(local_platform, service, "missing_gateway_headers") == before + 1


def test_internal_routes_refuse_outside_peers_even_with_a_known_caller_name(local_platform):
    with outside_client() as client:
        response = client.get(
            f"{local_platform.url('inventory')}/internal/assets", headers={"X-Source": "order"}
        )
    assert response.status_code == 403


def test_probes_and_metrics_stay_open(local_platform):
    for service in ("user", "inventory", "order"):
        assert httpx.get(f"{local_platform.url(service)}/health").json() == {
            "status": "healthy",
            "service": service,
        }
        assert httpx.get(f"{local_platform.url(service)}/ready").status_code == 200
        metrics = httpx.get(f"{local_platform.admin_url(service)}/metrics")
        assert "http_requests_total" in metrics.text
        # Metrics are for Prometheus on the admin port, never on the API port.
        assert httpx.get(f"{local_platform.url(service)}/metrics").status_code == 404


def _forgeries(platform, service: str) -> dict[str, dict[str, str]]:
    """Gateway-looking requests for victim_user that no gateway signed as such."""
    now = int(time.time())
    gateway = signer_of(platform, "gateway")
    stale = {
        "iss": "gateway",
        "aud": service,
        "iat": now - 120,
        "exp": now - 90,
        "sub": "victim_user",
        "role": "customer",
    }
    return {
        "missing_assertion": {},
        "wrong_caller": asserted(platform, service, "order", username="victim_user"),
        "assertion_mismatch": asserted(platform, service, username="alice_other"),
        "stale_assertion": {ASSERTION_HEADER: sign(stale, gateway.kid, gateway.key)},
        "bad_assertion": asserted(platform, "auth", username="victim_user"),  # another audience
    }


@pytest.mark.parametrize(("service", "method", "path"), ROUTES)
@pytest.mark.parametrize(
    "forgery",
    ["missing_assertion", "wrong_caller", "assertion_mismatch", "stale_assertion", "bad_assertion"],
)
def test_a_forged_identity_from_a_trusted_address_is_refused_by_every_backend(
    local_platform, service, method, path, forgery
):
    # Issue 12: the gateway's markers and X-User-ID from inside TRUSTED_NETWORKS used
    # to be enough to act as anyone. Now only the gateway's signature vouches for a user.
    before = refused_count(local_platform, service, forgery)
    response = httpx.request(
        method,
        f"{local_platform.url(service)}{path}",
        headers={**FORGED, **_forgeries(local_platform, service)[forgery]},
        json={"amount": "1"},
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "UNTRUSTED_SOURCE"
    assert refused_count(local_platform, service, forgery) == before + 1
