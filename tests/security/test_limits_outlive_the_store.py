"""Login blocks and failure counts outlive the limits store (issue 21 #4).

Before: a block made while Redis was down lived in that replica's memory only and
was forgotten 2 s after Redis came back (the replica asked Redis again, which
knew nothing); failures counted in Redis were lost when Redis was killed (it kept
no data). Now the replica writes what it counted alone into Redis when it
answers again (and keeps its own blocks until they run out), and the local
limits store keeps an append-only file.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from cnop_platform.local.ports import admin_port, extra
from cnop_platform.local.processes import end, redis_answers
from cnop_platform.local.runner import limits_store_command
from tests.helpers import PASSWORD, eventually, extra_process, gateway_user, metric_sample

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPLICA = extra("shared limits: replica whose store comes back")
PEER = extra("shared limits: its peer")
STORE = extra("shared limits: a store that goes and comes back")
GUARD = {
    "LOGIN_MAX_FAILURES_PER_USER": "5",
    "LOGIN_MAX_FAILURES_PER_IP": "1000",
    "LOGIN_BLOCK_SECONDS": "120",  # far longer than any wait below
    "LIMITS_STORE_URL": f"redis://127.0.0.1:{STORE}/0",
    # What one process counts alone while the store is away is the point here; with
    # several workers each counts alone (services/gateway/README.md).
    "WORKERS": "1",
}
WRONG = "Wr0ng!pass-xx"


@contextmanager
def limits_store(data_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The local limits store as the runner starts it, on this test's port."""
    process = subprocess.Popen(
        limits_store_command(STORE, data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert eventually(lambda: redis_answers(STORE), timeout=15, every=0.1)
        yield process
    finally:
        end(process)


def login(gateway: str, username: str, password: str) -> int:
    return httpx.post(
        f"{gateway}/api/v1/auth/login",
        json={"username": username, "password": password},
        trust_env=False,
        timeout=30,
    ).status_code


def store_up(admin: str) -> bool:
    return metric_sample(admin, "gateway_limits_store_up") == 1


def test_a_block_made_while_the_store_was_down_holds_after_it_returns(
    local_platform, gateway_url, tmp_path
):
    victim = gateway_user(gateway_url, "outage")
    with (
        limits_store(tmp_path / "first") as first,
        extra_process(local_platform, "gateway", REPLICA, **GUARD) as replica,
        extra_process(local_platform, "gateway", PEER, **GUARD) as peer,
    ):
        admin = f"http://127.0.0.1:{admin_port(REPLICA)}"
        end(first)  # the store goes away
        statuses = [login(replica, victim.username, WRONG) for _ in range(5)]
        assert statuses == [401] * 5
        assert store_up(admin) is False  # counted in the replica's own memory
        assert login(replica, victim.username, PASSWORD) == 429
        with limits_store(tmp_path / "second"):  # back, and empty
            # Within RETRY_SECONDS the replica asks the store again; any request will.
            assert eventually(
                lambda: (
                    httpx.get(f"{replica}/health", trust_env=False).status_code == 200
                    and login(replica, "someone_else", WRONG) == 401
                    and store_up(admin)
                ),
                timeout=30,
            ), "the replica did not use the store again"
            # The block outlives the outage, here and on the peer, which never saw it.
            assert login(replica, victim.username, PASSWORD) == 429
            assert login(peer, victim.username, PASSWORD) == 429
    victim.close()


def test_failures_counted_in_the_store_survive_its_restart(local_platform, gateway_url, tmp_path):
    victim = gateway_user(gateway_url, "restart")
    data = tmp_path / "limits-store"
    with ExitStack() as scope:
        store = scope.enter_context(limits_store(data))
        replica = scope.enter_context(extra_process(local_platform, "gateway", REPLICA, **GUARD))
        admin = f"http://127.0.0.1:{admin_port(REPLICA)}"
        assert [login(replica, victim.username, WRONG) for _ in range(4)] == [401] * 4
        assert store_up(admin)  # the four are in the store, not in the replica's memory
        store.kill()  # kill -9: no chance to write anything more
        store.wait()
        assert any(data.rglob("*.aof")), "the store kept no append-only file"
        with limits_store(data):  # the same data, read back at start
            assert eventually(
                lambda: login(replica, "someone_else", WRONG) == 401 and store_up(admin),
                timeout=30,
            ), "the replica did not use the store again"
            # The fifth failure completes the count the store kept on disk: blocked.
            assert login(replica, victim.username, WRONG) == 401
            assert login(replica, victim.username, PASSWORD) == 429
    victim.close()
