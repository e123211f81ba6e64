"""Security cases 13–15: revocation across replicas, key rotation, refusing weak keys."""

import json
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from cnop_platform.local.ports import admin_port, extra
from cnop_platform.local.runner import LocalPlatform
from tests.helpers import extra_process, gateway_user, signed_by

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
REPLICA_PORT = extra("revocation: second gateway")
ROTATION_AUTH_PORT = extra("revocation: auth with a rotated keyring")


def test_case_13_revoked_token_refused_here_at_once_and_on_other_replicas_within_bound(
    local_platform, gateway_url
):
    bound = 2.0  # AUTH_CACHE_SECONDS of the session platform
    with extra_process(
        local_platform, "gateway", REPLICA_PORT, ADMIN_PORT=str(admin_port(REPLICA_PORT))
    ) as replica:
        user = gateway_user(gateway_url, "revoke")
        auth = user.auth
        # Warm the other replica's cache with the token.
        assert httpx.get(f"{replica}/api/v1/balance", headers=auth).status_code == 200
        assert httpx.get(f"{replica}/api/v1/balance", headers=auth).status_code == 200
        logout = user.post("/auth/logout", json={})
        assert logout.status_code == 200
        assert logout.json() == {"message": "Logged out successfully"}
        logged_out_at = time.monotonic()
        # On the replica that handled the logout: refused immediately.
        refused = user.get("/balance")
        assert refused.status_code == 401
        assert refused.json()["code"] == "TOKEN_REVOKED"
        # Elsewhere: refused as soon as the cached validation runs out. The replica
        # cached the token before the logout, so only a request *sent* within the
        # bound after it may still pass; when the answer arrives does not matter
        # (a busy machine may deliver it late).
        while True:
            sent = time.monotonic()
            if httpx.get(f"{replica}/api/v1/balance", headers=auth).status_code != 200:
                break
            assert sent - logged_out_at < bound, "the replica served a revoked token too long"
            time.sleep(0.1)
        assert httpx.get(f"{replica}/api/v1/balance", headers=auth).status_code == 401
        user.close()


def _keyring(path, keys):
    path.write_text(json.dumps(keys))
    return str(path)


def _as(caller: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments of an httpx call as `caller` to auth: its marker and its
    signature over the request as sent (the session platform's keys)."""
    return {
        "headers": {**(headers or {}), "X-Source": caller},
        "auth": signed_by(_PLATFORM[0], caller, "auth"),
    }


_PLATFORM: list[LocalPlatform] = []  # the session platform, set by the fixture below


@pytest.fixture(autouse=True)
def _platform(local_platform):
    _PLATFORM[:] = [local_platform]


def _mint(auth_url):
    response = httpx.post(
        f"{auth_url}/auth/tokens",
        json={"username": "rotation_user", "role": "customer"},
        **_as("user"),
    )
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


def _validate(auth_url, token):
    return httpx.post(f"{auth_url}/auth/validate-jwt", json={"token": token}, **_as("gateway"))


def test_case_14_rotation_keeps_old_tokens_until_their_key_is_retired(local_platform, tmp_path):
    old, new = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    ring = tmp_path / "keys.json"
    with extra_process(
        local_platform,
        "auth",
        ROTATION_AUTH_PORT,
        SIGNING_KEYS_FILE=_keyring(ring, {"old": old}),
        ACTIVE_KID="old",
    ) as auth:
        old_token = _mint(auth)
    # Roll the new key in: it signs, the old one still validates.
    with extra_process(
        local_platform,
        "auth",
        ROTATION_AUTH_PORT,
        SIGNING_KEYS_FILE=_keyring(ring, {"new": new, "old": old}),
        ACTIVE_KID="new",
    ) as auth:
        answer = _validate(auth, old_token)
        assert answer.status_code == 200
        assert answer.json()["user"]["username"] == "rotation_user"
        new_token = _mint(auth)
        assert jwt.get_unverified_header(new_token)["kid"] == "new"
    # Retire the old key: its tokens die, the new ones live.
    only_new = _keyring(ring, {"new": new})
    with extra_process(
        local_platform, "auth", ROTATION_AUTH_PORT, SIGNING_KEYS_FILE=only_new, ACTIVE_KID="new"
    ) as auth:
        retired = _validate(auth, old_token)
        assert retired.status_code == 401
        assert retired.json() == {
            "valid": False,
            "error": "token_invalid",
            "message": "The token is not valid.",
        }
        assert _validate(auth, new_token).status_code == 200


def _reloads(admin_url, outcome):
    text = httpx.get(f"{admin_url}/metrics").text
    match = re.search(rf'^auth_keyring_reloads_total{{outcome="{outcome}"}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def _until(condition, timeout=20.0):
    # The service looks at its keyring file at most once a second: poll, never sleep blind.
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.2)


def test_case_14_a_rotated_keyring_file_is_taken_without_a_restart(local_platform, tmp_path):
    old, new = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    ring = tmp_path / "keys.json"
    first = _keyring(ring, {"old": old})
    with extra_process(
        local_platform, "auth", ROTATION_AUTH_PORT, SIGNING_KEYS_FILE=first, ACTIVE_KID="old"
    ) as auth:
        old_token = _mint(auth)
    both = _keyring(ring, {"new": new, "old": old})
    with extra_process(
        local_platform, "auth", ROTATION_AUTH_PORT, SIGNING_KEYS_FILE=both, ACTIVE_KID="new"
    ) as auth:
        admin = f"http://127.0.0.1:{ROTATION_AUTH_PORT + 1000}"
        new_token = _mint(auth)
        assert _validate(auth, old_token).status_code == 200
        # A broken keyring (the active key missing) is refused; the running keys stay.
        _keyring(ring, {"old": old})
        # The service looks at the file when tokens are checked: keep checking one.
        _until(
            lambda: (
                _validate(auth, new_token).status_code == 200 and _reloads(admin, "refused") == 1
            )
        )
        # The old key retired in the mounted file: its tokens die in the running process.
        _keyring(ring, {"new": new})
        _until(lambda: _validate(auth, old_token).status_code == 401)
        assert _reloads(admin, "loaded") == 1
        assert _validate(auth, new_token).status_code == 200
        assert _validate(auth, _mint(auth)).status_code == 200


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("Sh0rt-but-random-9x", "shorter than 32 bytes"),
        ("change-me-change-me-change-me-change-me", "placeholder"),
    ],
)
def test_case_15_auth_refuses_to_start_with_a_weak_key_outside_development(
    local_platform, key, expected
):
    env = {
        **local_platform.environment("auth"),
        "PORT": "18104",
        "ENVIRONMENT": "production",
        "SIGNING_KEYS": json.dumps({"k1": key}),
        "ACTIVE_KID": "k1",
    }
    env.pop("SIGNING_KEYS_FILE")
    finished = subprocess.run(
        [sys.executable, "-m", "cnop_auth"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert finished.returncode != 0
    assert expected in finished.stderr
    assert key not in finished.stderr + finished.stdout
    with pytest.raises(httpx.ConnectError):
        httpx.get("http://127.0.0.1:18104/health", timeout=1)


def test_tokens_endpoint_is_only_for_the_user_service(local_platform):
    auth = local_platform.url("auth")
    body = {"username": "mallory_x", "role": "admin"}
    for source in ({"X-Source": "gateway"}, {"X-Source": "order"}, {}):
        response = httpx.post(f"{auth}/auth/tokens", json=body, headers=source)
        assert response.status_code == 403
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.5")) as outside:
        response = outside.post(f"{auth}/auth/tokens", json=body, **_as("user"))
    assert response.status_code == 403
    # From a trusted address, naming the user service is not enough: only its own
    # signature obtains a token (before, any pod that reached auth could).
    unsigned: dict[str, Any] = {"headers": {"X-Source": "user"}}
    signed_by_another = {
        "headers": {"X-Source": "user"},
        "auth": signed_by(local_platform, "order", "auth"),
    }
    for call in (unsigned, signed_by_another):
        assert httpx.post(f"{auth}/auth/tokens", json=body, **call).status_code == 403
    assert httpx.post(f"{auth}/auth/tokens", json=body, **_as("user")).status_code == 201


def test_auth_is_not_reachable_through_the_gateway(gateway_url):
    for path in ("/api/v1/auth/tokens", "/api/v1/auth/validate-jwt", "/api/v1/auth/revoke"):
        assert httpx.post(f"{gateway_url}{path}", json={}).status_code == 404


JWT_IMPORT = re.compile(r"^\s*(import|from)\s+(jwt|jose|authlib|jwcrypto)\b", re.MULTILINE)


def test_no_backend_imports_a_jwt_library():
    backends = ["common", "user", "inventory", "order", "gateway"]
    sources = [
        path
        for name in backends
        for path in (REPO / "services" / name).rglob("*.py")
        if "tests" not in path.parts
    ]
    assert len(sources) > 20
    offenders = [str(p) for p in sources if JWT_IMPORT.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    # And the one service that may, does.
    assert JWT_IMPORT.search((REPO / "services/auth/cnop_auth/tokens.py").read_text())


def test_forward_auth_verify_endpoint(local_platform, gateway_url):
    auth = local_platform.url("auth")
    user = gateway_user(gateway_url, "verify")
    ok = httpx.get(f"{auth}/auth/verify", **_as("gateway", user.auth))
    assert ok.status_code == 200
    assert ok.headers["x-auth-user"] == user.username
    assert ok.headers["x-auth-role"] == "customer"
    bad = httpx.get(f"{auth}/auth/verify", **_as("gateway", {"Authorization": "Bearer x.y.z"}))
    assert bad.status_code == 401
    assert "x-auth-user" not in bad.headers
    assert httpx.get(f"{auth}/auth/verify", **_as("gateway")).status_code == 401
    # Naming the gateway without its signature, from a trusted address: refused.
    unsigned = httpx.get(f"{auth}/auth/verify", headers={**user.auth, "X-Source": "gateway"})
    assert unsigned.status_code == 403
    assert (
        httpx.get(f"{auth}/auth/verify", headers={**user.auth, "X-Source": "web"}).status_code
        == 403
    )
    user.close()
