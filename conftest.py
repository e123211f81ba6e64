"""Fixtures every test folder shares: a real local platform on test ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cnop_platform.local.runner import LocalPlatform
from cnop_platform.testing import Clients, register, running_platform

REPO = Path(__file__).resolve().parent
# Test ports are the real ones + 10000, so tests never touch a running `make up`.
TEST_PORT_OFFSET = 10_000


@pytest.fixture(scope="session")
def local_platform() -> Iterator[LocalPlatform]:
    """Store, inventory, user and order as real processes for the whole session."""
    with running_platform(REPO / "var" / "test" / "session", TEST_PORT_OFFSET) as platform:
        yield platform


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
