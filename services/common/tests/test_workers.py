"""The worker supervisor's restart budget (cnop_common/workers.py); the processes
themselves are tested in tests/integration/test_gateway_workers.py."""

import socket
from pathlib import Path

import pytest

from cnop_common.workers import RESTARTS_PER_MINUTE, Pool

pytestmark = pytest.mark.unit


def test_more_than_the_budget_of_exits_within_a_minute_stops_restarting(tmp_path: Path):
    with socket.socket() as listener:
        pool = Pool("cnop_gateway", listener, tmp_path, count=2)
        for second in range(RESTARTS_PER_MINUTE):
            assert not pool.too_many_exits(1000.0 + second)
        assert pool.too_many_exits(1000.0 + RESTARTS_PER_MINUTE)


def test_exits_older_than_a_minute_no_longer_count(tmp_path: Path):
    with socket.socket() as listener:
        pool = Pool("cnop_gateway", listener, tmp_path, count=2)
        for second in range(RESTARTS_PER_MINUTE):
            assert not pool.too_many_exits(1000.0 + second)
        # Sixty seconds after the first, it has left the window: still five in it.
        assert not pool.too_many_exits(1060.5)
        assert len(pool.exits) == RESTARTS_PER_MINUTE
        # Exactly sixty seconds after the second one: it still counts (the bound is closed).
        assert pool.too_many_exits(1061.0)
