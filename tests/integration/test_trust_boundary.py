"""Security cases 18 and 19: backends refuse anything that did not come through the gateway."""

import re
import time

import httpx
import pytest

from tests.helpers import GATEWAY_MARKERS, asserted, signer_of

pytestmark = pytest.mark.integration

FORGED = {**GATEWAY_MARKERS, "x-user-id": "victim_user", "x-user-role": "customer"}
BODY = b'{"amount":"1"}'
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


def _forgeries(platform, service: str, method: str, path: str) -> dict[str, dict[str, str]]:
    """Gateway-looking calls for victim_user that no gateway signed as such."""

    def signed(**changes: object) -> dict[str, str]:
        call = {"audience": service, "body": BODY, "issuer": "gateway", **changes}
        signer = signer_of(platform, str(call["issuer"]))
        return signer.sign(
            method,
            path,
            call["body"],  # type: ignore[arg-type]
            str(call["audience"]),
            subject="victim_user",
            role="customer",
            created=call.get("created"),  # type: ignore[arg-type]
        )

    return {
        "missing_assertion": {},
        "wrong_caller": signed(issuer="order"),
        # Signed for another body: the digest it covers is not this body's.
        "assertion_mismatch": signed(body=b'{"amount":"1000"}'),
        "stale_assertion": signed(created=int(time.time()) - 120),
        "bad_assertion": signed(audience="auth"),  # for another service
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
        headers={**FORGED, **_forgeries(local_platform, service, method, path)[forgery]},
        content=BODY,
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "UNTRUSTED_SOURCE"
    assert refused_count(local_platform, service, forgery) == before + 1


def test_a_signed_call_is_good_once_and_for_that_call_only(local_platform, funded):
    """Issue 21 #3: Alice's captured `GET /balance` assertion was replayed as
    `POST /balance/withdraw`, three times. A signature now covers the method, path,
    query and body, and its nonce is accepted once."""
    user_url = local_platform.url("user")
    signed = {
        **GATEWAY_MARKERS,
        **asserted(local_platform, "user", "GET", "/balance", username=funded.username),
    }
    assert httpx.get(f"{user_url}/balance", headers=signed).status_code == 200
    before = refused_count(local_platform, "user", "replayed_assertion")
    again = httpx.get(f"{user_url}/balance", headers=signed)
    assert again.status_code == 403
    assert refused_count(local_platform, "user", "replayed_assertion") == before + 1
    # Captured, then sent as a withdrawal: another method, path and body.
    fresh = {
        **GATEWAY_MARKERS,
        **asserted(local_platform, "user", "GET", "/balance", username=funded.username),
    }
    stolen = httpx.post(
        f"{user_url}/balance/withdraw",
        headers={**fresh, "content-type": "application/json"},
        content=b'{"amount":"100"}',
    )
    assert stolen.status_code == 403
    assert funded.user.get("/balance").json()["current_balance"] == "1000.00"


def test_the_user_named_in_a_call_must_be_the_one_signed(local_platform, funded):
    """A signature for one user does not carry another's name in the headers."""
    signed = asserted(local_platform, "user", "GET", "/balance", username=funded.username)
    forged = {**GATEWAY_MARKERS, **signed, "x-user-id": "victim_user"}
    answer = httpx.get(f"{local_platform.url('user')}/balance", headers=forged)
    assert answer.status_code == 403
