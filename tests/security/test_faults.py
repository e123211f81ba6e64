"""Security cases 25–27: the gateway fails closed when auth or a backend is away.

These stop, freeze and restart real processes, so they use a platform of
their own: the cache is off (every request asks auth), the auth timeout is
0.5 s, the breaker opens after 3 failures and probes after 2 s.
"""

import os
import secrets
import signal
import time
from pathlib import Path

import httpx
import pytest

from cnop_platform.local.ports import PLATFORMS
from cnop_platform.local.runner import running_pid, start, stop, wait_ready
from tests.helpers import assert_never_reached, gateway_user, metric_sample, running_platform

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
AUTH_TIMEOUT = 0.5
RESET = 2.0


@pytest.fixture(scope="module")
def faults():
    with running_platform(
        REPO / "var" / "test" / "faults",
        PLATFORMS["faults"],
        env={
            "AUTH_CACHE_SECONDS": "0",
            "AUTH_TIMEOUT_SECONDS": str(AUTH_TIMEOUT),
            "BREAKER_FAILURE_THRESHOLD": "3",
            "BREAKER_RESET_SECONDS": str(RESET),
            "RATE_LIMIT_PER_MINUTE": "1000000",
        },
    ) as platform:
        yield platform


def breaker_state(platform, upstream: str) -> float:
    return metric_sample(
        platform.admin_url("gateway"), f'gateway_circuit_breaker_state{{upstream="{upstream}"}}'
    )


def attempts_at(platform, upstream: str) -> float:
    """Requests the gateway sent to `upstream` that failed (an open breaker sends none)."""
    sample = f'gateway_upstream_duration_seconds_count{{outcome="error",upstream="{upstream}"}}'
    return metric_sample(platform.admin_url("gateway"), sample)


def answered_after_reset(user, path: str) -> int:
    """Poll `path` until the breaker's reset time has passed and it answers; its status.

    Until then the open breaker answers 503 at once; the first request after it is
    the one probe."""
    deadline = time.monotonic() + RESET + 30
    while True:
        status = int(user.get(path).status_code)
        if status != 503 or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_case_25_auth_down_fails_closed_and_public_routes_live(faults):
    gateway = faults.url("gateway")
    user = gateway_user(gateway, "down", deposit="5")
    stop(faults, "auth")
    try:
        request_id = f"authdown-{secrets.token_hex(6)}"
        headers = {**user.auth, "X-Request-ID": request_id}
        response = httpx.get(f"{gateway}/api/v1/balance", headers=headers, trust_env=False)
        assert response.status_code == 503
        assert response.json()["code"] == "AUTH_UNAVAILABLE"
        assert int(response.headers["retry-after"]) >= 1
        assert_never_reached(faults, "user", request_id)
        public = httpx.get(f"{gateway}/api/v1/inventory/assets/BTC")
        assert public.status_code == 200
        assert httpx.get(f"{gateway}/ready").status_code == 503
    finally:
        start(faults, "auth")
        wait_ready(faults, "auth")
    assert answered_after_reset(user, "/balance") == 200
    user.close()


def test_case_26_slow_auth_times_out_opens_the_breaker_then_one_probe_closes_it(faults):
    gateway = faults.url("gateway")
    user = gateway_user(gateway, "slow")
    assert breaker_state(faults, "auth") == 0
    pid = running_pid(faults, "auth")
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    balance = f"{gateway}/api/v1/balance"
    try:
        before = attempts_at(faults, "auth")
        for _ in range(3):
            # A stopped process never answers: only the gateway's timeout ends these.
            response = httpx.get(balance, headers=user.auth, trust_env=False, timeout=30)
            assert response.status_code == 503
            assert response.json()["code"] == "AUTH_UNAVAILABLE"
        assert attempts_at(faults, "auth") == before + 3
        assert breaker_state(faults, "auth") == 1
        for _ in range(5):
            response = httpx.get(balance, headers=user.auth, trust_env=False, timeout=30)
            assert response.status_code == 503
        # Open: refused without trying auth (timing belongs in benchmarks, not here).
        assert attempts_at(faults, "auth") == before + 3
    finally:
        os.kill(pid, signal.SIGCONT)
    # After the reset time the next request is the one probe; auth answers, it closes.
    assert answered_after_reset(user, "/balance") == 200
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
    assert answered_after_reset(user, "/orders") == 200
    user.close()
