"""Auth policy: every protected route refuses every bad token; identity cannot be claimed; the
internal surface is not reachable; the limits answer 429 with Retry-After.

Black-box: nothing here knows the signing keys, so the bad tokens are the ones
an outsider can make (forged, tampered, alg=none) plus a real token revoked by
logging out. The per-reason cases with the keyring are tests/security/.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import eventually
from tests.postdeploy.support import Member, Target, log_in, new_member

pytestmark = [pytest.mark.e2e, pytest.mark.postdeploy]

ROUTES = (
    Path(__file__).resolve().parents[2] / "services" / "gateway" / "cnop_gateway" / "routes.toml"
)
SAMPLE_PARAMETERS = {"asset_id": "BTC", "order_id": "ord_0123456789abcdef"}
# How long a revoked token may still pass on another gateway replica (its cache bound).
REVOCATION_BOUND_SECONDS = 6.0
INTERNAL_PATHS = [
    ("POST", "/auth/tokens"),
    ("POST", "/auth/validate-jwt"),
    ("POST", "/auth/revoke"),
    ("POST", "/api/v1/auth/tokens"),
    ("POST", "/api/v1/auth/validate-jwt"),
    ("POST", "/api/v1/auth/revoke"),
    ("GET", "/internal/balance"),
    ("GET", "/api/v1/internal/balance"),
    ("POST", "/api/v1/internal/trades"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/metrics"),
    ("POST", "/api/v1/inventory/../auth/tokens"),
    ("POST", "/api/v1/inventory/%2e%2e/%2e%2e/auth/tokens"),
    ("POST", "/api/v1//auth/tokens"),
]


def protected_routes() -> list[tuple[str, str]]:
    """(method, concrete path) of every protected route in the gateway's route table."""
    table = tomllib.loads(ROUTES.read_text())["route"]
    routes = []
    for route in table:
        if route["auth"] == "protected":
            path = route["path"].format(**SAMPLE_PARAMETERS)
            routes.append((route["method"], path))
    return routes


def b64(data: bytes | dict[str, object]) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forged(header: dict[str, object], payload: dict[str, object]) -> str:
    """A token signed with a key only this test knows."""
    key = secrets.token_bytes(32)
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def claims(username: str, **changes: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": "cnop-auth",
        "aud": "cnop-platform",
        "sub": username,
        "role": "customer",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": secrets.token_hex(8),
    }
    base.update(changes)
    return base


def tampered(token: str, username: str) -> str:
    """A real token whose payload now names someone else (the signature no longer fits)."""
    header, payload, signature = token.split(".")
    padded = payload + "=" * (-len(payload) % 4)
    body = json.loads(base64.urlsafe_b64decode(padded))
    body["sub"] = username
    body["role"] = "admin"
    return f"{header}.{b64(body)}.{signature}"


@pytest.fixture(scope="module")
def member(target: Target) -> Member:
    return new_member(target)


@pytest.fixture(scope="module")
def bad_tokens(target: Target, member: Member) -> dict[str, str | None]:
    """Every kind of token the gateway must refuse, by name (None: no Authorization header)."""
    header = json.loads(base64.urlsafe_b64decode(member.token.split(".")[0] + "=="))
    victim = new_member(target)
    revoked = new_member(target)
    logout = httpx.post(
        f"{target.api}/auth/logout", json={}, headers=revoked.auth, timeout=30, trust_env=False
    )
    assert logout.status_code == 200, logout.text
    return {
        "missing": None,
        "malformed": "not-a-jwt",
        "bearer without a token": "",
        "tampered": tampered(member.token, victim.username),
        "forged": forged(header, claims(victim.username)),
        "expired": forged(header, claims(victim.username, exp=int(time.time()) - 60)),
        "wrong issuer": forged(header, claims(victim.username, iss="someone-else")),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(victim.username))}.",
        "revoked": revoked.token,
    }


@pytest.mark.parametrize(("method", "path"), protected_routes())
def test_every_protected_route_refuses_every_bad_token(target, bad_tokens, method, path):
    accepted = {}
    with httpx.Client(timeout=30, trust_env=False) as http:
        for name, token in bad_tokens.items():
            headers = {} if token is None else {"Authorization": f"Bearer {token}".strip()}

            def refused(headers: dict[str, str] = headers) -> bool:
                response = http.request(method, f"{target.gateway}{path}", headers=headers, json={})
                return response.status_code == 401

            # A revoked token may pass another replica until its cache bound ends; no longer.
            timeout = REVOCATION_BOUND_SECONDS if name == "revoked" else 0.0
            if not eventually(refused, timeout=timeout):
                accepted[name] = path
    assert accepted == {}, f"{method} {path} did not answer 401 for: {sorted(accepted)}"


def test_the_list_of_protected_routes_was_read():
    routes = protected_routes()
    assert ("GET", "/api/v1/portfolio") in routes
    assert ("POST", "/api/v1/orders") in routes
    assert len(routes) >= 10


@pytest.mark.parametrize(
    "spoof",
    [
        {"X-User-ID": "{victim}"},
        {"x-user-id": "{victim}"},
        {"X-USER-ID": "{victim}", "X-User-Role": "admin"},
        {"X-User-ID": "{victim}", "X-Source": "gateway", "X-Auth-Service": "auth-service"},
        {"X-Forwarded-User": "{victim}", "X-Remote-User": "{victim}"},
    ],
)
def test_identity_headers_never_change_who_the_caller_is(target, member, spoof):
    victim = new_member(target)
    headers = {name: value.format(victim=victim.username) for name, value in spoof.items()}
    with httpx.Client(timeout=30, trust_env=False) as http:
        mine = http.get(f"{target.api}/auth/profile", headers={**member.auth, **headers})
        assert mine.status_code == 200, mine.text
        assert mine.json()["username"] == member.username
        anonymous = http.get(f"{target.api}/auth/profile", headers=headers)
        assert anonymous.status_code == 401


@pytest.mark.parametrize(("method", "path"), INTERNAL_PATHS)
def test_internal_routes_are_not_reachable_through_the_gateway(target, member, method, path):
    with httpx.Client(timeout=30, trust_env=False) as http:
        response = http.request(
            method,
            f"{target.gateway}{path}",
            headers={**member.auth, "X-Source": "user"},
            json={"username": member.username, "role": "admin", "token": member.token},
        )
    assert response.status_code in (400, 404), f"{method} {path}: {response.status_code}"


def test_metrics_are_served_on_the_admin_port_only(target):
    public = httpx.get(f"{target.gateway}/metrics", timeout=10, trust_env=False)
    assert public.status_code == 404
    assert target.admin is not None, "the target names no admin port to check"
    if target.admin_exposed:
        # Locally (loopback) the admin port answers, with the metrics the public port hides.
        admin = httpx.get(f"{target.admin}/metrics", timeout=10, trust_env=False)
        assert admin.status_code == 200
        assert "http_requests_total" in admin.text
        return
    parts = urlsplit(target.admin)
    with pytest.raises(OSError, match=r"refused|timed out|unreachable"):
        socket.create_connection((parts.hostname, parts.port), timeout=3).close()


def test_the_login_guard_answers_429_with_retry_after(target):
    member = new_member(target)
    with httpx.Client(timeout=30, trust_env=False) as http:
        wrong = {"username": member.username, "password": member.password + "x"}
        statuses = [http.post(f"{target.api}/auth/login", json=wrong).status_code for _ in range(5)]
        assert statuses == [401] * 5
        blocked = http.post(
            f"{target.api}/auth/login",
            json={"username": member.username, "password": member.password},
        )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


def test_the_rate_limit_answers_429_with_retry_after(target):
    # Locally from an address of its own, so no other suite is slowed by the limit.
    transport = httpx.HTTPTransport(local_address="127.5.0.1") if target.on_loopback else None
    with httpx.Client(timeout=30, trust_env=False, transport=transport) as http:
        first = http.get(f"{target.api}/inventory/assets/BTC")
        assert first.status_code == 200
        # A fixed one-minute window: start the count well inside one.
        left = int(first.headers["X-RateLimit-Reset"]) - time.time()
        if left < 15:
            time.sleep(left + 0.5)
            first = http.get(f"{target.api}/inventory/assets/BTC")
        limit = int(first.headers["X-RateLimit-Limit"])
        for _ in range(limit + 5):
            response = http.get(f"{target.api}/inventory/assets/BTC")
            if response.status_code == 429:
                break
        assert response.status_code == 429, f"no 429 after {limit + 5} requests"
        wait = int(response.headers["Retry-After"])
        assert 0 < wait <= 60
        if not target.on_loopback:
            time.sleep(wait)  # leave the address unthrottled for the suites after this one


def test_a_fresh_login_works_after_all_of_this(target, member):
    # The checks above must not have broken the accounts they did not attack.
    token = log_in(target, member.username, member.password)
    assert (
        httpx.get(
            f"{target.api}/portfolio", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).status_code
        == 200
    )
