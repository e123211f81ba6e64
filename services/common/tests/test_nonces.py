"""The replay cache every replica shares (cnop_common/nonces.py), against a real redis-server.

A nonce is claimed once per service, for as long as its signature lives; a
second claim anywhere is a replay. When the store does not answer, a receiver
relies on its own memory, counts the fallback and leaves the store alone for
RETRY_SECONDS (the monotonic clock is moved by hand to cross that edge).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from types import SimpleNamespace

import pytest
import redis

from cnop_common.nonces import FALLBACKS, PREFIX, RETRY_SECONDS, TIMEOUT_SECONDS, NonceStore
from cnop_platform.local.ports import extra
from tests.limits_store import limits_store

pytestmark = pytest.mark.integration

PORT = extra("nonces: a limits store of its own")


@pytest.fixture
def url(tmp_path):
    with limits_store(PORT, tmp_path) as address:
        yield address


def _fallbacks(service: str) -> float:
    value: float = FALLBACKS.labels(service)._value.get()
    return value


def test_a_nonce_is_claimed_once_per_service(url):
    nonce = secrets.token_hex(8)

    async def claims() -> list[bool]:
        here, there = NonceStore(url, "user"), NonceStore(url, "user")
        other = NonceStore(url, "order")
        until = time.time() + 10
        return [
            await here.first_use(nonce, until),
            await there.first_use(nonce, until),  # another replica: a replay
            await here.first_use(nonce, until),
            await other.first_use(nonce, until),  # another service: its own
        ]

    before = _fallbacks("user")
    assert asyncio.run(claims()) == [True, False, False, True]
    assert _fallbacks("user") == before  # the store answered every time


@pytest.mark.parametrize("seconds", [10, 1_000])
def test_a_claim_lives_as_long_as_the_signature(url, seconds):
    nonce = secrets.token_hex(8)
    until = time.time() + seconds
    assert asyncio.run(NonceStore(url, "user").first_use(nonce, until))
    with redis.Redis.from_url(url) as admin:
        assert admin.get(f"{PREFIX}user:{nonce}") == b"1"
        left = admin.pttl(f"{PREFIX}user:{nonce}")
    # To the millisecond (half a second for the round trips): not 0.1 % short.
    assert seconds * 1_000 - 500 < left <= seconds * 1_000


def test_the_store_is_given_a_quarter_second_and_rested_two():
    assert (TIMEOUT_SECONDS, RETRY_SECONDS) == (0.25, 2.0)


def test_a_signature_already_expired_is_still_claimed_in_the_store(url):
    # Its time-to-live is at least a millisecond (never 0, which Redis refuses).
    service = f"late-{secrets.token_hex(3)}"
    assert asyncio.run(NonceStore(url, service).first_use("n", time.time() - 5))
    assert _fallbacks(service) == 0


def test_without_the_store_a_receiver_trusts_its_memory_and_rests_the_store(tmp_path, monkeypatch):
    service = f"down-{secrets.token_hex(3)}"
    moment = [1000.0]
    # The module's clock only: the event loop keeps the real one.
    clock = SimpleNamespace(monotonic=lambda: moment[0], time=time.time)
    monkeypatch.setattr("cnop_common.nonces.time", clock)
    store = NonceStore(f"redis://127.0.0.1:{PORT}/0", service)  # nothing listens yet

    async def claim(nonce: str) -> bool:
        return await store.first_use(nonce, time.time() + 10)

    async def scenario() -> list[object]:
        seen: list[object] = [await claim("a"), _fallbacks(service)]
        with limits_store(PORT, tmp_path) as address:
            moment[0] += RETRY_SECONDS - 0.001  # still resting: the store is not asked
            seen += [await claim("a"), _fallbacks(service)]
            moment[0] += 0.001  # the rest is over: asked again, and it answers
            seen += [await claim("b"), await claim("b"), _fallbacks(service)]
            with redis.Redis.from_url(address) as admin:
                seen.append(admin.exists(f"{PREFIX}{service}:a", f"{PREFIX}{service}:b"))
        return seen

    assert asyncio.run(scenario()) == [True, 1.0, True, 2.0, True, False, 2.0, 1]
