"""Security cases 25–27: the gateway fails closed when auth or a backend is away.

These stop, freeze and restart real processes, so they use a platform of
their own: the cache is off (every request asks auth), the auth timeout is
0.5 s, the breaker opens after 3 failures and probes after 2 s.
"""

import os
import re
import secrets
import signal
import statistics
import time
from pathlib import Path

import httpx
import pytest

from cnop_platform.local.runner import running_pid, start, stop, wait_ready
from cnop_platform.testing import assert_never_reached, gateway_user, running_platform

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
AUTH_TIMEOUT = 0.5
RESET = 2.0


@pytest.fixture(scope="module")
def faults():
    with running_platform(
        REPO / "var" / "test" / "faults",
        21_000,
        env={
            "AUTH_CACHE_SECONDS": "0",
            "AUTH_TIMEOUT_SECONDS": str(AUTH_TIMEOUT),
            "BREAKER_FAILURE_THRESHOLD": "3",
            "BREAKER_RESET_SECONDS": str(RESET),
            "RATE_LIMIT_PER_MINUTE": "1000000",
        },
    ) as platform:  # fmt: skip
        yield platform


def breaker_state(platform, upstream: str) -> float:
    admin = f"http://127.0.0.1:{9080 + platform.port_offset}/metrics"
    match = re.search(
        rf'^gateway_circuit_breaker_state\{{upstream="{upstream}"\}} (\S+)$',
        httpx.get(admin).text,
        re.MULTILINE,
    )
    assert match is not None
    return float(match.group(1))


# One pooled client: a fresh one per request costs tens of milliseconds to
# build, which would swamp the gateway's own answer time being measured.
_CLIENT = httpx.Client(timeout=10, trust_env=False)


def timed_get(url: str, **kwargs) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = _CLIENT.get(url, **kwargs)
    return response, time.perf_counter() - started


def test_case_25_auth_down_fails_closed_and_public_routes_live(faults):
    gateway = faults.url("gateway")
    user = gateway_user(gateway, "down", deposit="5")
    stop(faults, "auth")
    try:
        request_id = f"authdown-{secrets.token_hex(6)}"
        headers = {**user.auth, "X-Request-ID": request_id}
        response, elapsed = timed_get(f"{gateway}/api/v1/balance", headers=headers)
        assert response.status_code == 503
        assert response.json()["code"] == "AUTH_UNAVAILABLE"
        assert int(response.headers["retry-after"]) >= 1
        assert elapsed < 1.0
        assert_never_reached(faults, "user", request_id)
        public = httpx.get(f"{gateway}/api/v1/inventory/assets/BTC")
        assert public.status_code == 200
        assert httpx.get(f"{gateway}/ready").status_code == 503
    finally:
        start(faults, "auth")
        wait_ready(faults, "auth")
    time.sleep(RESET + 0.2)
    assert user.get("/balance").status_code == 200
    user.close()


def test_case_26_slow_auth_times_out_opens_the_breaker_then_one_probe_closes_it(faults):
    gateway = faults.url("gateway")
    user = gateway_user(gateway, "slow")
    assert breaker_state(faults, "auth") == 0
    pid = running_pid(faults, "auth")
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        for _ in range(3):
            response, elapsed = timed_get(f"{gateway}/api/v1/balance", headers=user.auth)
            assert response.status_code == 503
            assert response.json()["code"] == "AUTH_UNAVAILABLE"
            assert elapsed < AUTH_TIMEOUT + 0.1
        assert breaker_state(faults, "auth") == 1
        fast = []
        for _ in range(5):
            response, elapsed = timed_get(f"{gateway}/api/v1/balance", headers=user.auth)
            assert response.status_code == 503
            fast.append(elapsed)
        assert statistics.median(fast) < 0.010
    finally:
        os.kill(pid, signal.SIGCONT)
    time.sleep(RESET + 0.2)
    # The next request is the one probe; auth answers, the breaker closes.
    assert user.get("/balance").status_code == 200
    assert breaker_state(faults, "auth") == 0
    user.close()


def test_case_27_a_backend_down_takes_only_its_routes(faults):
    gateway = faults.url("gateway")
    user = gateway_user(gateway, "partial", deposit="5")
    stop(faults, "order")
    try:
        orders = user.get("/orders")
        assert orders.status_code == 503
        assert orders.json()["code"] == "UPSTREAM_UNAVAILABLE"
        assert "retry-after" in orders.headers
        assert user.get("/balance").status_code == 200
        assert user.get("/portfolio").status_code == 200
        assert httpx.get(f"{gateway}/api/v1/inventory/assets?limit=1").status_code == 200
    finally:
        start(faults, "order")
        wait_ready(faults, "order")
    time.sleep(RESET + 0.2)
    assert user.get("/orders").status_code == 200
    user.close()
