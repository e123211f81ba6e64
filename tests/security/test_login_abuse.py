"""Security cases 22–24: brute force, account enumeration, password storage."""

import asyncio
import json
import time

import boto3
import httpx
import pytest
from argon2 import extract_parameters
from argon2.low_level import Type

from cnop_platform.local.ports import admin_port, extra
from tests.helpers import (
    PASSWORD,
    extra_process,
    gateway_user,
    login,
    metric_sample,
    unique_username,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GUARDED_PORT = extra("login abuse: guarded gateway")
GUARDED_ADMIN = f"http://127.0.0.1:{admin_port(GUARDED_PORT)}"
BLOCK_SECONDS = 3


@pytest.fixture(scope="module")
def guarded_gateway(local_platform):
    # The api.md defaults for the guard (5 per user, 20 per IP), a short block.
    with extra_process(
        local_platform,
        "gateway",
        GUARDED_PORT,
        ADMIN_PORT=str(GUARDED_PORT + 1000),
        LOGIN_MAX_FAILURES_PER_USER="5",
        LOGIN_MAX_FAILURES_PER_IP="20",
        LOGIN_BLOCK_SECONDS=str(BLOCK_SECONDS),
        LOGIN_WINDOW_SECONDS="60",
    ) as url:
        yield url


def login_from(address: str, base_url: str, username: str, password: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(transport=transport, trust_env=False) as client:
        return client.post(
            f"{base_url}/api/v1/auth/login", json={"username": username, "password": password}
        )


def test_case_22_five_failures_from_several_ips_block_the_account(guarded_gateway):
    user = gateway_user(guarded_gateway, "brute")
    blocks_before = metric_sample(GUARDED_ADMIN, 'gateway_login_blocks_total{scope="user"}')
    for index in range(5):
        wrong = login_from(f"127.0.0.{20 + index}", guarded_gateway, user.username, "Wr0ng!pass-xx")
        assert wrong.status_code == 401
    blocked = login_from("127.0.0.30", guarded_gateway, user.username, PASSWORD)
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "LOGIN_BLOCKED"
    assert 1 <= int(blocked.headers["retry-after"]) <= BLOCK_SECONDS
    assert metric_sample(GUARDED_ADMIN, 'gateway_login_blocks_total{scope="user"}') == (
        blocks_before + 1
    )
    assert metric_sample(GUARDED_ADMIN, "gateway_login_failures_total") >= 5
    # Another account from the same addresses is not affected.
    other = gateway_user(guarded_gateway, "bystander")
    assert login_from("127.0.0.20", guarded_gateway, other.username, PASSWORD).status_code == 200
    # The block ends on its own: poll (a refused attempt does not extend it).
    deadline = time.monotonic() + BLOCK_SECONDS + 30
    while (
        again := login_from("127.0.0.30", guarded_gateway, user.username, PASSWORD)
    ).status_code == 429:
        assert time.monotonic() < deadline, "the block outlived its BLOCK_SECONDS"
        time.sleep(0.25)
    assert again.status_code == 200
    user.close()
    other.close()


def test_case_20_and_22_twenty_failures_from_one_ip_block_it_whatever_forwarded_for_says(
    guarded_gateway,
):
    victim = gateway_user(guarded_gateway, "ipvictim")
    address = "127.0.0.41"
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address)) as client:
        for index in range(20):
            response = client.post(
                f"{guarded_gateway}/api/v1/auth/login",
                json={"username": unique_username("ghost"), "password": "Wr0ng!pass-xx"},
                headers={"X-Forwarded-For": f"10.9.{index}.1"},
            )
            assert response.status_code == 401
    blocked = login_from(address, guarded_gateway, victim.username, PASSWORD)
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "LOGIN_BLOCKED"
    assert login_from("127.0.0.42", guarded_gateway, victim.username, PASSWORD).status_code == 200
    victim.close()


def test_case_23_unknown_user_and_wrong_password_look_the_same(gateway_url):
    member = gateway_user(gateway_url, "enum")
    unknown = login(gateway_url, unique_username("nobody"), "Wr0ng!pass-xx")
    wrong = login(gateway_url, member.username, "Wr0ng!pass-xx")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda r: {k: v for k, v in r.json().items() if k != "request_id"}  # noqa: E731
    assert (
        strip(unknown)
        == strip(wrong)
        == {"detail": "Invalid username or password.", "code": "INVALID_CREDENTIALS"}
    )
    assert set(unknown.headers) - {
        "x-request-id",
        "traceparent",
        "date",
        "x-ratelimit-remaining",
    } == set(wrong.headers) - {"x-request-id", "traceparent", "date", "x-ratelimit-remaining"}
    member.close()


def test_login_is_case_insensitive_and_returns_a_bearer_token(gateway_url):
    member = gateway_user(gateway_url, "Case")
    response = login(gateway_url, member.username.upper())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].count(".") == 2
    member.close()


def test_case_24_stored_hashes_are_argon2id_with_strong_parameters(local_platform, gateway_url):
    member = gateway_user(gateway_url, "hash")
    client = boto3.client(
        "dynamodb",
        endpoint_url=local_platform.url("store"),
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    item = client.get_item(TableName="cnop-users", Key={"username": {"S": member.username}})
    stored = item["Item"]["password_hash"]["S"]
    assert PASSWORD not in json.dumps(item)
    params = extract_parameters(stored)
    assert params.type is Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    member.close()


def _burst(base_url: str, address: str, attempts: list[tuple[str, str]]) -> list[int]:
    """Send every login at once from one address; their statuses."""

    async def send_all() -> list[int]:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        async with httpx.AsyncClient(transport=transport, trust_env=False, timeout=60) as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        f"{base_url}/api/v1/auth/login",
                        json={"username": name, "password": password},
                    )
                    for name, password in attempts
                )
            )
        return [answer.status_code for answer in answers]

    return asyncio.run(send_all())


def test_concurrent_guesses_for_one_account_reach_auth_at_most_five_times(guarded_gateway):
    # Issue 12 #1: 30 wrong passwords sent at once all reached auth (30 × 401).
    victim = gateway_user(guarded_gateway, "burst")
    statuses = _burst(guarded_gateway, "127.0.0.51", [(victim.username, "Wr0ng!pass-xx")] * 30)
    assert statuses.count(401) <= 5
    assert statuses.count(429) >= 25
    assert set(statuses) <= {401, 429}
    victim.close()


def test_a_burst_holding_the_right_password_gets_no_more_tries_than_one_at_a_time(
    guarded_gateway,
):
    victim = gateway_user(guarded_gateway, "burstright")
    guesses = [(victim.username, f"Wr0ng!pass-{i:02d}") for i in range(24)]
    statuses = _burst(guarded_gateway, "127.0.0.52", [*guesses, (victim.username, PASSWORD)])
    reached_auth = [s for s in statuses if s in (200, 401)]
    assert len(reached_auth) <= 5  # as many as five sequential guesses would get
    assert statuses.count(429) >= 20
    victim.close()


def test_the_twenty_first_concurrent_attempt_from_one_address_is_refused(guarded_gateway):
    names = [(unique_username("spray"), "Wr0ng!pass-xx") for _ in range(30)]
    statuses = _burst(guarded_gateway, "127.0.0.53", names)
    assert statuses.count(401) <= 20
    assert statuses.count(429) >= 10
