"""Security cases 16, 17, 20 and 21 through the real gateway."""

import http.client
import json
import random
import secrets
from urllib.parse import urlsplit

import httpx
import pytest

from cnop_catalogue import local_web_origins
from cnop_platform.local.ports import PLATFORMS, admin_port, extra
from tests.helpers import (
    assert_never_reached,
    assert_one_budget_per_window,
    extra_process,
    gateway_user,
)

# The session platform's own web UI: the one origin its gateway answers cross-origin.
ORIGIN = local_web_origins(PLATFORMS["session"])[1]
pytestmark = pytest.mark.integration

LIMITED_PORT = extra("boundary: strictly limited gateway")


@pytest.fixture(scope="module")
def alice(gateway_url):
    user = gateway_user(gateway_url, "alice")
    yield user
    user.close()


def send_raw(base_url, method, path, headers=()):
    parsed = urlsplit(base_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "spoof",
    [
        [("X-User-ID", "bob")],
        [("x-user-id", "bob")],
        [("X-USER-ID", "bob")],
        [("x-UsEr-iD", "bob")],
        [("X-User-ID", "bob"), ("X-User-ID", "carol"), ("x-user-id", "dave")],
        [("Connection", "X-User-ID"), ("X-User-ID", "bob")],
        [("Connection", "keep-alive, X-User-ID, X-Source"), ("X-Source", "gateway")],
        [("X-User-Role", "admin"), ("X-Authenticated", "true"), ("X-Auth-Service", "x")],
    ],
)
def test_case_16_backend_sees_exactly_one_user_the_tokens(gateway_url, alice, spoof):
    headers = [("Authorization", f"Bearer {alice.token}"), *spoof]
    status, body = send_raw(gateway_url, "GET", "/api/v1/auth/profile", headers)
    # The backend refuses repeated identity headers (403) and would show bob's
    # profile for bob: 200 with alice's proves it saw exactly X-User-ID: alice.
    assert status == 200, body
    assert json.loads(body)["username"] == alice.username


def test_case_17_identity_headers_without_token_are_401(local_platform, gateway_url, alice):
    request_id = f"spoof-{secrets.token_hex(6)}"
    headers = [
        ("X-User-ID", alice.username),
        ("X-Source", "gateway"),
        ("X-Auth-Service", "auth-service"),
        ("X-Request-ID", request_id),
    ]
    status, body = send_raw(gateway_url, "GET", "/api/v1/balance", headers)
    assert status == 401
    assert json.loads(body)["code"] == "NOT_AUTHENTICATED"
    assert_never_reached(local_platform, "user", request_id)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/../internal/assets",
        "/api/v1/inventory/../../internal/assets",
        "/api/v1/%2e%2e/internal/assets",
        "/api/v1/inventory/assets/..%2f..%2finternal%2fassets",
        "/api/v1/inventory/assets%2F..%2F..%2Finternal%2Fassets",
        "/api/v1/%2E%2E/%2E%2E/metrics",
        "/api/v1/inventory/assets/%252e%252e",
        "/metrics",
        "/docs",
        "/openapi.json",
        "/internal/assets",
        "/api/v1/metrics",
        "/api/v1/docs",
        "/api/v1/openapi.json",
        "/api/v1/internal/assets",
        "/api/v1//inventory/assets",
    ],
)
def test_case_21_tricky_and_internal_paths_are_404_and_never_forwarded(
    local_platform, gateway_url, path
):
    request_id = f"path-{secrets.token_hex(6)}"
    status, body = send_raw(gateway_url, "GET", path, [("X-Request-ID", request_id)])
    assert status == 404
    assert json.loads(body)["code"] == "ROUTE_NOT_FOUND"
    for service in ("user", "inventory", "order", "auth"):
        assert_never_reached(local_platform, service, request_id)


def test_wrong_method_is_405_with_allow(gateway_url):
    response = httpx.delete(f"{gateway_url}/api/v1/orders")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


@pytest.fixture(scope="module")
def limited_gateway(local_platform):
    with extra_process(
        local_platform,
        "gateway",
        LIMITED_PORT,
        ADMIN_PORT=str(admin_port(LIMITED_PORT)),
        RATE_LIMIT_PER_MINUTE="5",
    ) as url:
        yield url


def random_ip() -> str:
    return ".".join(str(random.randint(1, 254)) for _ in range(4))


def test_case_20_forwarded_for_does_not_change_the_rate_limit_key(limited_gateway):
    # Each request claims another address; all of them count against one budget.
    # The budget is per one-minute window (X-RateLimit-Reset names its end): if a
    # window closes mid-run the count starts again, so the check is per window.
    answers = [
        httpx.get(
            f"{limited_gateway}/api/v1/inventory/assets?limit=1",
            headers={"X-Forwarded-For": random_ip(), "X-Real-IP": random_ip()},
        )
        for _ in range(12)  # five a window: at least one window runs out, whenever we start
    ]
    assert {a.headers["x-ratelimit-limit"] for a in answers} == {"5"}
    assert_one_budget_per_window(answers)
    assert 429 in [a.status_code for a in answers]
    refused = httpx.get(
        f"{limited_gateway}/api/v1/inventory/assets", headers={"X-Forwarded-For": random_ip()}
    )
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-remaining"] == "0"
    # Health stays answerable for probes.
    assert httpx.get(f"{limited_gateway}/health").status_code == 200


def test_public_and_protected_responses_carry_request_id_and_cors(gateway_url, alice):
    response = alice.get(
        "/balance",
        headers={"X-Request-ID": "client-chosen-id.42", "Origin": ORIGIN},
    )
    assert response.headers["x-request-id"] == "client-chosen-id.42"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    bad_id = httpx.get(
        f"{gateway_url}/api/v1/inventory/assets?limit=1",
        headers={"X-Request-ID": "bad id with spaces"},
    )
    assert bad_id.headers["x-request-id"] != "bad id with spaces"
    assert len(bad_id.headers["x-request-id"]) == 32
    foreign = httpx.get(
        f"{gateway_url}/api/v1/inventory/assets?limit=1", headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in foreign.headers
    preflight = httpx.options(
        f"{gateway_url}/api/v1/orders",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    denied = httpx.options(f"{gateway_url}/api/v1/orders", headers={"Origin": "https://x.io"})
    assert denied.status_code == 403


def test_ready_and_preflights_count_against_the_callers_budget(limited_gateway):
    # Issue 12 #7: /ready (which asks four upstreams) and OPTIONS were free to send
    # without limit. From an address of its own, this test has a budget of its own.
    # Checked per one-minute window (X-RateLimit-Reset names its end), so no wait
    # for a window's start: 14 requests against a budget of 5 run one window out.
    transport = httpx.HTTPTransport(local_address="127.6.0.1")
    with httpx.Client(base_url=limited_gateway, transport=transport, trust_env=False) as client:
        preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
        answers = [
            client.options("/api/v1/orders", headers=preflight)
            if index % 2
            else client.get("/ready")
            for index in range(14)
        ]
        assert_one_budget_per_window(answers)
        assert any(a.status_code == 429 for a in answers)
        assert client.get("/health").status_code == 200  # the liveness probe is never limited


@pytest.mark.parametrize(
    ("path", "expected"), [("/api/v1/inventory/assets", 200), ("/ws", 404), ("/", 404)]
)
def test_a_websocket_upgrade_is_an_ordinary_request_never_a_bare_500(gateway_url, path, expected):
    # Issue 12 #6: an upgrade request got a plain-text 500 outside the error format.
    upgrade = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]
    status, body = send_raw(gateway_url, "GET", path, upgrade)
    assert status == expected
    answer = json.loads(body)
    if status >= 400:
        assert answer["code"] == "ROUTE_NOT_FOUND"
