"""Security cases 25–27: the gateway fails closed when auth or a backend is away.

These stop, freeze and restart real processes, so they use a platform of
their own: the cache is off (every request asks auth), the breaker opens
after 3 failures and lets one probe through after RESET seconds.

The cases share that platform, so none of them trusts what the one before left
behind: each starts from a state it checks (`steady`: every process running and
ready, every breaker closed with no failure counted against it) and reads its
counters after that. Whatever a case stops or freezes it brings back in a
`finally`; `steady` brings back what a case that failed halfway still left.
Every effect that a cache, a timeout or a breaker's reset time stands in front
of is polled for within that documented bound, never asserted on first sight.
"""

import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cnop_gateway.readiness import READY_CACHE_SECONDS
from cnop_platform.local.ports import PLATFORMS
from cnop_platform.local.runner import running_pid, start, stop, wait_ready
from tests.helpers import (
    GatewayUser,
    assert_never_reached,
    eventually,
    gateway_user,
    metric_sample,
    restore_processes,
    running_platform,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
# Long enough that a busy machine never times out a live auth (case 27 needs it
# answering while the order service is away); only a frozen one reaches it.
AUTH_TIMEOUT = 2.0
# Long enough that case 26's refusals, each answered by the gateway alone in
# milliseconds, all fall inside one open period on a slow, shared machine.
RESET = 5.0
UPSTREAMS = ("auth", "user", "inventory", "order")
# Slack over a documented bound for one more poll on a busy machine.
MARGIN = 5.0
# Longest a breaker that a case opened takes to close again, once its upstream is
# back: the reset time, then the probe (itself bounded by the upstream timeout).
SETTLE_SECONDS = RESET + 30 + MARGIN


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
            # Each gateway worker has breakers of its own (test_gateway_workers.py
            # covers several workers): the cases count one process's failures.
            "WORKERS": "1",
        },
    ) as platform:
        yield platform


@pytest.fixture(scope="module")
def regular(faults) -> Iterator[GatewayUser]:
    """An account whose requests prove the platform is whole before each case."""
    user = gateway_user(faults.url("gateway"), "regular", deposit="1")
    yield user
    user.close()


@pytest.fixture(autouse=True)
def steady(faults, regular) -> None:
    """Start every case from a whole platform: every process running (and none
    frozen), the gateway ready, every breaker closed and its failure count zero."""
    restore_processes(faults)
    assert eventually(lambda: whole(faults, regular), timeout=SETTLE_SECONDS, every=0.2), (
        f"the platform did not settle: breakers {breakers(faults)}"
    )


def whole(platform, user: GatewayUser) -> bool:
    """Every upstream answered a request through the gateway and every breaker is closed.

    An answered request resets its breaker's count of consecutive failures (the
    one thing the breaker gauge cannot show), so one per upstream, auth included
    (its cache is off: each of these asks it), leaves every count at zero."""
    answers = [
        user.get("/balance"),  # auth and user
        user.get("/orders"),  # auth and order
        httpx.get(f"{user.base_url}/api/v1/inventory/assets/BTC", trust_env=False),
    ]
    closed = all(state == 0 for state in breakers(platform).values())
    return closed and all(answer.status_code == 200 for answer in answers)


def breakers(platform) -> dict[str, float]:
    """Each upstream's breaker state as the gateway reports it (0 closed, 1 open)."""
    return {name: breaker_state(platform, name) for name in UPSTREAMS}


def breaker_state(platform, upstream: str) -> float:
    return metric_sample(
        platform.admin_url("gateway"), f'gateway_circuit_breaker_state{{upstream="{upstream}"}}'
    )


def attempts_at(platform, upstream: str) -> float:
    """Requests the gateway sent to `upstream` that failed (an open breaker sends none)."""
    sample = f'gateway_upstream_duration_seconds_count{{outcome="error",upstream="{upstream}"}}'
    return metric_sample(platform.admin_url("gateway"), sample)


def answered_after_reset(user: GatewayUser, path: str) -> int:
    """Poll `path` until the breaker's reset time has passed and it answers; its status.

    Until then the open breaker answers 503 at once; the first request after it is
    the one probe."""

    def answered() -> int:
        status = int(user.get(path).status_code)
        return 0 if status == 503 else status

    return eventually(answered, timeout=RESET + 30, every=0.1) or 503


def gateway_readiness(gateway: str) -> httpx.Response:
    return httpx.get(f"{gateway}/ready", trust_env=False, timeout=30)


def test_case_25_auth_down_fails_closed_and_public_routes_live(faults):
    gateway = faults.url("gateway")
    user = gateway_user(gateway, "down", deposit="5")
    assert gateway_readiness(gateway).status_code == 200
    stop(faults, "auth")
    try:
        request_id = f"authdown-{secrets.token_hex(6)}"
        headers = {**user.auth, "X-Request-ID": request_id}
        response = httpx.get(f"{gateway}/api/v1/balance", headers=headers, trust_env=False)
        assert response.status_code == 503
        assert response.json()["code"] == "AUTH_UNAVAILABLE"
        assert int(response.headers["retry-after"]) >= 1
        assert_never_reached(faults, "user", request_id)
        public = httpx.get(f"{gateway}/api/v1/inventory/assets/BTC", trust_env=False)
        assert public.status_code == 200
        # /ready answers from one look at the upstreams a READY_CACHE_SECONDS:
        # it says "not ready" by the end of the look that was current when auth went.
        not_ready = eventually(
            lambda: (answer := gateway_readiness(gateway)).status_code == 503 and answer,
            timeout=READY_CACHE_SECONDS + MARGIN,
            every=0.1,
        )
        assert not_ready, "the gateway still said ready after its readiness cache ran out"
        assert not_ready.json()["checks"]["auth"] == "down"
    finally:
        start(faults, "auth")
        wait_ready(faults, "auth")
    assert answered_after_reset(user, "/balance") == 200
    user.close()


def test_case_26_slow_auth_times_out_opens_the_breaker_then_one_probe_closes_it(faults):
    gateway = faults.url("gateway")
    user = gateway_user(gateway, "slow")
    pid = running_pid(faults, "auth")
    assert pid is not None
    balance = f"{gateway}/api/v1/balance"
    os.kill(pid, signal.SIGSTOP)
    try:
        before = attempts_at(faults, "auth")  # `steady` left the breaker closed at zero
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
            assert 1 <= int(response.headers["retry-after"]) <= RESET
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
        public = httpx.get(f"{gateway}/api/v1/inventory/assets?limit=1", trust_env=False)
        assert public.status_code == 200
    finally:
        start(faults, "order")
        wait_ready(faults, "order")
    assert answered_after_reset(user, "/orders") == 200
    user.close()


def test_steady_state_check_sees_a_breaker_left_open(faults, regular):
    """The guard every case starts behind can fail: while a breaker is open, `whole`
    says no; once its upstream is back and the probe has closed it, yes."""
    stop(faults, "order")
    try:
        for _ in range(3):  # refused connections: the three failures that open it
            assert regular.get("/orders").status_code == 503
        assert breaker_state(faults, "order") == 1
        assert not whole(faults, regular)
    finally:
        start(faults, "order")
        wait_ready(faults, "order")
    assert eventually(lambda: whole(faults, regular), timeout=SETTLE_SECONDS, every=0.2)
    assert breaker_state(faults, "order") == 0
