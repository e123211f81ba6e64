"""What the web UI refuses or rewrites before anything reaches the gateway."""

import contextlib
import json
import secrets

import httpx
import pytest

from cnop_platform.local.ports import NOTHING_LISTENS, admin_port, extra
from tests.helpers import assert_never_reached, extra_process, wait_for_log_lines

DEAD_AUTH = NOTHING_LISTENS["web logout: an auth service that is down"]
pytestmark = pytest.mark.integration


def _request_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a plain cross-site form post cannot add our header
        {"X-Requested-With": "cnop-web", "Origin": "http://evil.example"},
        {"X-Requested-With": "cnop-web", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_state_changes_are_refused_before_the_gateway(
    local_platform, web_url, logged_in, headers
):
    request_id = _request_id("csrf")
    # A client with the victim's cookie but without the page's header (or from elsewhere).
    with httpx.Client(base_url=web_url, cookies=logged_in.http.cookies, trust_env=False) as other:
        response = other.post(
            "/api/v1/balance/deposit",
            json={"amount": "10.00"},
            headers={"X-Request-ID": request_id, **headers},
        )
    assert response.status_code == 403
    assert response.json()["code"] == "CSRF_REJECTED"
    assert_never_reached(local_platform, "gateway", request_id)
    assert logged_in.http.get("/api/v1/balance").json()["current_balance"] == "0.00"


def test_the_gateway_sees_the_browsers_address_not_a_claimed_one(local_platform, web_url):
    request_id = _request_id("xff")
    # The "browser" connects from 127.0.0.5 and claims to be 203.0.113.9.
    transport = httpx.HTTPTransport(local_address="127.0.0.5")
    with httpx.Client(base_url=web_url, transport=transport, trust_env=False) as client:
        client.get(
            "/api/v1/inventory/assets/BTC",
            headers={"X-Request-ID": request_id, "X-Forwarded-For": "203.0.113.9"},
        )
    (line,) = wait_for_log_lines(local_platform.log_file("gateway"), request_id)
    assert json.loads(line)["client_ip"] == "127.0.0.5"


def test_others_cannot_claim_an_address_at_the_gateway(local_platform, gateway_url):
    # Only the web UI's own source address is a trusted proxy.
    request_id = _request_id("xff-direct")
    httpx.get(
        f"{gateway_url}/api/v1/inventory/assets/BTC",
        headers={"X-Request-ID": request_id, "X-Forwarded-For": "203.0.113.9"},
        trust_env=False,
    )
    (line,) = wait_for_log_lines(local_platform.log_file("gateway"), request_id)
    assert json.loads(line)["client_ip"] == "127.0.0.1"


@pytest.mark.parametrize(
    "raw_path", ["/api/v1/%2e%2e/health", "/api/v1/orders%2F..%2Fmetrics", "/api/v1/a/%2E/b"]
)
def test_encoded_dot_segments_never_reach_the_gateway(local_platform, web_url, raw_path):
    request_id = _request_id("dots")
    with httpx.Client(trust_env=False) as client:
        request = client.build_request("GET", web_url, headers={"X-Request-ID": request_id})
        request.url = request.url.copy_with(raw_path=raw_path.encode())
        response = client.send(request)
    assert response.status_code == 404
    assert response.json()["code"] == "ROUTE_NOT_FOUND"
    assert_never_reached(local_platform, "gateway", request_id)


def test_a_claimed_identity_never_reaches_the_web_uis_own_logs(local_platform, web_url):
    request_id = _request_id("claimed")
    httpx.get(
        f"{web_url}/login",
        headers={"X-Request-ID": request_id, "X-User-ID": "someone_else"},
        trust_env=False,
    )
    (line,) = wait_for_log_lines(local_platform.log_file("web"), request_id)
    assert json.loads(line)["user"] is None


def test_an_oversized_body_is_refused_before_the_gateway(local_platform, logged_in):
    request_id = _request_id("big")
    response = logged_in.http.put(
        "/api/v1/auth/profile",
        content=b'{"first_name": "' + b"a" * 70_000 + b'"}',
        headers={"Content-Type": "application/json", "X-Request-ID": request_id},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert_never_reached(local_platform, "gateway", request_id)


def test_one_request_id_and_trace_from_the_web_ui_to_the_backend(local_platform, logged_in):
    request_id = _request_id("trace")
    response = logged_in.http.get("/api/v1/balance", headers={"X-Request-ID": request_id})
    assert response.headers["x-request-id"] == request_id
    trace_ids = set()
    for service in ("web", "gateway", "user"):
        lines = wait_for_log_lines(local_platform.log_file(service), request_id)
        assert lines, f"{service} did not log {request_id}"
        trace_ids |= {json.loads(line)["trace_id"] for line in lines}
    assert len(trace_ids) == 1
    assert response.headers["traceparent"].split("-")[1] in trace_ids


def test_a_gateway_outage_is_a_clear_503_and_pages_still_load(local_platform):
    gateway_port, web_port = extra("web boundary: gateway"), extra("web boundary: web UI")
    with contextlib.ExitStack() as web_stack:
        with extra_process(
            local_platform, "gateway", gateway_port, ADMIN_PORT=str(admin_port(gateway_port))
        ) as gateway:
            web_url = web_stack.enter_context(
                extra_process(
                    local_platform,
                    "web",
                    web_port,
                    GATEWAY_URL=gateway,
                    ADMIN_PORT=str(admin_port(web_port)),
                )
            )
        # The gateway is gone; the web UI stays.
        with httpx.Client(base_url=web_url, trust_env=False, timeout=10) as client:
            response = client.get("/api/v1/inventory/assets")
            assert response.status_code == 503
            assert response.json()["code"] == "GATEWAY_UNAVAILABLE"
            assert response.headers["retry-after"] == "2"
            ready = client.get("/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"] == {"gateway": "error"}
            assert client.get("/health").status_code == 200
            assert client.get("/login").status_code == 200
            assert client.get("/session").json() == {"user": None}
        metrics = httpx.get("http://127.0.0.1:19430/metrics", trust_env=False).text
        assert 'web_gateway_failures_total{reason="unavailable"} 1.0' in metrics


def test_a_logout_while_auth_is_down_keeps_the_session_until_it_can_revoke(
    local_platform, logged_in
):
    # Issue 12 #7: the cookie was cleared while the token stayed valid, and the
    # user could no longer revoke it. Behind a gateway whose auth is unreachable,
    # logging out fails visibly and keeps the session; with auth back it works.
    cookie = logged_in.http.cookies.get("cnop_session")
    assert cookie
    page = {"X-Requested-With": "cnop-web"}  # what the web UI's own pages send
    gateway_port, web_port = extra("web logout: gateway"), extra("web logout: web UI")
    with (
        extra_process(
            local_platform,
            "gateway",
            gateway_port,
            wait_for="/health",
            AUTH_URL=f"http://127.0.0.1:{DEAD_AUTH}",
        ) as gateway,  # nothing listens there
        extra_process(
            local_platform, "web", web_port, wait_for="/health", GATEWAY_URL=gateway
        ) as web,
        httpx.Client(base_url=web, headers=page, trust_env=False, timeout=10) as client,
    ):
        client.cookies.set("cnop_session", cookie)
        failed = client.post("/api/v1/auth/logout", json={})
        assert failed.status_code == 503
        assert failed.json()["code"] == "AUTH_UNAVAILABLE"
        assert "set-cookie" not in failed.headers  # the session stays
    still_valid = logged_in.http.get("/api/v1/balance")
    assert still_valid.status_code == 200
    done = logged_in.http.post("/api/v1/auth/logout", json={})
    assert done.status_code == 200
    assert logged_in.http.get("/api/v1/balance").status_code == 401
