"""Limits that hold across gateway replicas: two replicas, one Redis (issue 12).

Before, each replica kept its own rate limit, login guard and revoked tokens:
with N replicas an attacker had N times each budget, and a token logged out
on one replica lived on for the cache bound on the others.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time

import httpx
import pytest

from cnop_gateway.revocations import STALE_SECONDS
from cnop_platform.local.ports import NOTHING_LISTENS, admin_port, extra
from tests.helpers import (
    PASSWORD,
    assert_one_budget_per_window,
    eventually,
    extra_process,
    gateway_user,
    metric_sample,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPLICA_PORTS = (extra("shared limits: first replica"), extra("shared limits: second replica"))
UNSHARED_PORT = extra("shared limits: gateway without its store")
DEAD_STORE = NOTHING_LISTENS["shared limits: a limits store that is down"]
LIMITS = {
    "RATE_LIMIT_PER_MINUTE": "10",
    "LOGIN_MAX_FAILURES_PER_USER": "5",
    "LOGIN_MAX_FAILURES_PER_IP": "20",
    "LOGIN_BLOCK_SECONDS": "30",
    "AUTH_CACHE_SECONDS": "5",
}


@pytest.fixture(scope="module")
def replicas(local_platform):
    # Both inherit the platform's LIMITS_STORE_URL: one Redis for the two.
    with (
        extra_process(local_platform, "gateway", REPLICA_PORTS[0], **LIMITS) as first,
        extra_process(local_platform, "gateway", REPLICA_PORTS[1], **LIMITS) as second,
    ):
        yield first, second


def _client(address: str) -> httpx.Client:
    return httpx.Client(
        transport=httpx.HTTPTransport(local_address=address), trust_env=False, timeout=30
    )


def test_the_combined_rate_budget_of_two_replicas_is_the_configured_one(replicas):
    # Alternating replicas, one address: every request counts against one budget
    # of ten a minute. The budget is per one-minute window (X-RateLimit-Reset names
    # its end), so the count is checked per window: 25 requests give one window at
    # least 13 of them, whenever the run starts.
    with _client("127.7.0.1") as client:
        alternating = itertools.cycle(replicas)
        answers = [
            client.get(f"{next(alternating)}/api/v1/inventory/assets?limit=1") for _ in range(25)
        ]
    windows = assert_one_budget_per_window(answers)
    # Ten in all across both replicas (not twenty), then 429 from either.
    full = max(windows, key=len)
    assert [a.status_code for a in full].count(200) == 10


def test_failed_logins_on_either_replica_block_the_account_on_both(replicas, gateway_url):
    # Accounts are made through the session's gateway: the replicas' small budget
    # (10 a minute) is this file's to spend, from addresses of its own.
    victim = gateway_user(gateway_url, "sharedguard")
    alternating = itertools.cycle(replicas)
    wrong_password = {"username": victim.username, "password": "Wr0ng!pass-xx"}
    right_password = {"username": victim.username, "password": PASSWORD}
    with _client("127.7.0.2") as client:
        for _ in range(5):
            wrong = client.post(f"{next(alternating)}/api/v1/auth/login", json=wrong_password)
            assert wrong.status_code == 401
        for replica in replicas:
            blocked = client.post(f"{replica}/api/v1/auth/login", json=right_password)
            assert blocked.status_code == 429
            assert blocked.json()["code"] == "LOGIN_BLOCKED"
    victim.close()


def test_a_concurrent_burst_over_both_replicas_reaches_auth_five_times_at_most(
    replicas, gateway_url
):
    victim = gateway_user(gateway_url, "sharedburst")

    async def burst() -> list[int]:
        transport = httpx.AsyncHTTPTransport(local_address="127.7.0.3")
        async with httpx.AsyncClient(transport=transport, trust_env=False, timeout=60) as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        f"{replicas[index % 2]}/api/v1/auth/login",
                        json={"username": victim.username, "password": "Wr0ng!pass-xx"},
                    )
                    for index in range(30)
                )
            )
        return [answer.status_code for answer in answers]

    statuses = asyncio.run(burst())
    assert statuses.count(401) <= 5
    assert statuses.count(429) >= 25
    victim.close()


def test_a_logout_on_one_replica_ends_the_token_on_the_other_within_the_feeds_bound(
    replicas, gateway_url
):
    # The other replica cached the token for 5 s; the logout reaches it on the
    # revocations channel (revocations.py), applied within STALE_SECONDS for sure
    # (in practice a millisecond): a request sent later than that is refused.
    user = gateway_user(gateway_url, "sharedlogout")
    with _client("127.7.0.4") as client:
        other = f"{replicas[1]}/api/v1/balance"
        assert client.get(other, headers=user.auth).status_code == 200  # now cached there
        logout = client.post(f"{replicas[0]}/api/v1/auth/logout", json={}, headers=user.auth)
        assert logout.status_code == 200
        logged_out_at = time.monotonic()
        while True:
            sent = time.monotonic()
            if client.get(other, headers=user.auth).status_code == 401:
                break
            assert sent - logged_out_at < STALE_SECONDS, "served a revoked token too long"
            time.sleep(0.02)
        assert client.get(other, headers=user.auth).status_code == 401
    user.close()


def test_under_a_small_budget_a_cached_request_costs_the_store_one_round_trip(
    replicas, gateway_url
):
    # A budget under 100 a minute is counted request by request (rate_batches.py):
    # the rate count is one script (ADMIT) per request, the revoked check is not
    # a second call (the channel tells, or ADMIT asks with the count).
    user = gateway_user(gateway_url, "sharedtrips")
    admin = f"http://127.0.0.1:{admin_port(REPLICA_PORTS[0])}"
    rate, revoked = (
        f'gateway_limits_store_round_trips_total{{operation="{operation}"}}'
        for operation in ("rate", "revoked")
    )
    with _client("127.7.0.5") as client:
        balance = f"{replicas[0]}/api/v1/balance"
        assert client.get(balance, headers=user.auth).status_code == 200  # validated, cached
        before = metric_sample(admin, rate), metric_sample(admin, revoked)
        statuses = [client.get(balance, headers=user.auth).status_code for _ in range(4)]
        after = metric_sample(admin, rate), metric_sample(admin, revoked)
    assert statuses == [200] * 4
    assert after[0] - before[0] == 4  # one admission each
    assert after[1] == before[1]  # and no separate revoked check
    user.close()


def test_under_a_large_budget_a_cached_request_mostly_costs_the_store_nothing(
    local_platform, gateway_url
):
    # The session's gateway: a budget of a million a minute, slack 64. With the
    # revocations channel live, a warm request is admitted from this process's
    # memory, and one in 64 carries the batch to the store.
    user = gateway_user(gateway_url, "batchedtrips")
    admin = local_platform.admin_url("gateway")
    rate = 'gateway_limits_store_round_trips_total{operation="rate"}'
    up = re.compile(r"^gateway_revocation_feed_up\{pid=\"\d+\"\} 1\.0$", re.MULTILINE)
    assert eventually(lambda: len(up.findall(httpx.get(f"{admin}/metrics").text)) == 2)
    with _client("127.7.0.6") as client:
        balance = f"{gateway_url}/api/v1/balance"
        assert client.get(balance, headers=user.auth).status_code == 200
        before = metric_sample(admin, rate)
        statuses = [client.get(balance, headers=user.auth).status_code for _ in range(128)]
        trips = metric_sample(admin, rate) - before
    assert statuses == [200] * 128
    # 128 requests on one connection (one worker): two batches of 64, give or take
    # the one the validation above started.
    assert 1 <= trips <= 3
    user.close()


def test_without_its_store_a_replica_keeps_serving_and_says_so(local_platform):
    with extra_process(
        local_platform,
        "gateway",
        UNSHARED_PORT,
        **LIMITS,
        LIMITS_STORE_URL=f"redis://127.0.0.1:{DEAD_STORE}/0",
    ) as url:
        admin = f"http://127.0.0.1:{admin_port(UNSHARED_PORT)}"
        assert (
            httpx.get(f"{url}/api/v1/inventory/assets?limit=1", trust_env=False).status_code == 200
        )
        assert metric_sample(admin, "gateway_limits_store_up") == 0
        assert metric_sample(admin, 'gateway_limits_store_fallbacks_total{operation="rate"}') >= 1
