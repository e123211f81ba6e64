"""The environment under test: a deployed stack (CNOP_TARGET_* variables) or a platform of our own.

`make verify` (and the PostSync Job in a cluster) set the variables; `make
test` sets none, and the suites then run against a local platform started for
them, with the gateway's default limits, Prometheus on a fast profile and
nothing else sharing its ports.

The suites only touch accounts they create, so they are safe on prod.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cnop_platform.local.ports import PLATFORMS
from tests.helpers import running_platform
from tests.postdeploy.support import Target, target_from_environment

REPO = Path(__file__).resolve().parents[2]
PORT_OFFSET = PLATFORMS["postdeploy"]


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    """The environment the policy suites check."""
    given = target_from_environment()
    if given is not None:
        yield given
        return
    with running_platform(
        REPO / "var" / "test" / "postdeploy", PORT_OFFSET, monitoring=True, time_scale=0.05
    ) as platform:
        yield Target(
            gateway=platform.url("gateway"),
            prometheus=platform.url("prometheus"),
            admin=platform.admin_url("gateway"),
            log_dir=platform.root / "log",
            wait_seconds=60.0,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The observability suite first among these suites: it must find every panel with data
    (0 where all is well) before the auth suite provokes failed logins on the same platform.

    The hook sees the whole session's items; only this folder's are reordered, in place.
    """
    mine = [n for n, item in enumerate(items) if "tests/postdeploy/" in item.nodeid]
    ordered = sorted(
        (items[n] for n in mine), key=lambda item: "test_observability_policy" not in item.nodeid
    )
    for position, item in zip(mine, ordered, strict=True):
        items[position] = item
