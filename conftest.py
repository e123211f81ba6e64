"""Fixtures every test folder shares: a real local platform on test ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cnop_platform.local.ports import PLATFORMS
from cnop_platform.local.runner import LocalPlatform
from tests.helpers import Clients, register, running_platform

REPO = Path(__file__).resolve().parent
# Test ports are the real ones moved by the registry's offset: never `make up`'s.
TEST_PORT_OFFSET = PLATFORMS["session"]
# The whole suite calls from 127.0.0.1: per-IP limits are raised so one test's
# deliberate failures cannot block the next; the limit tests use replicas of
# their own with the defaults. A short cache bound keeps case 13 quick.
SESSION_GATEWAY_ENV = {
    "RATE_LIMIT_PER_MINUTE": "1000000",
    "LOGIN_MAX_FAILURES_PER_IP": "1000000",
    "AUTH_CACHE_SECONDS": "2",
}


@pytest.fixture(scope="session")
def local_platform() -> Iterator[LocalPlatform]:
    """Store, inventory, user and order as real processes for the whole session."""
    with running_platform(
        REPO / "var" / "test" / "session", TEST_PORT_OFFSET, env=SESSION_GATEWAY_ENV
    ) as platform:
        yield platform


@pytest.fixture(scope="session")
def gateway_url(local_platform: LocalPlatform) -> str:
    """The public API's base URL (without /api/v1)."""
    return local_platform.url("gateway")


@pytest.fixture
def alice(local_platform: LocalPlatform) -> Iterator[Clients]:
    """A freshly registered user with no money."""
    clients = register(local_platform, "alice")
    yield clients
    clients.close()


@pytest.fixture
def funded(local_platform: LocalPlatform) -> Iterator[Clients]:
    """A freshly registered user with 1,000.00 in cash."""
    clients = register(local_platform, "funded", deposit="1000.00")
    yield clients
    clients.close()


@pytest.fixture
def anonymous(local_platform: LocalPlatform) -> Iterator[Clients]:
    """Clients with the gateway markers but no user (public routes)."""
    clients = Clients(local_platform, "")
    yield clients
    clients.close()
