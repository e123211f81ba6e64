"""`make up` semantics: up twice starts nothing new; down leaves nothing running."""

import os
import socket
from pathlib import Path

import httpx
import pytest

from cnop_platform.local.ports import PLATFORMS
from cnop_platform.local.runner import LocalPlatform, down, running_pid, up

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def test_up_is_idempotent_and_down_stops_everything():
    platform = LocalPlatform(
        root=REPO / "var" / "test" / "runner",
        port_offset=PLATFORMS["runner test"],
        monitoring=False,
    )
    down(platform)
    try:
        up(platform)
        pids = {name: running_pid(platform, name) for name in platform.names()}
        assert all(pids.values())
        up(platform)
        assert {name: running_pid(platform, name) for name in platform.names()} == pids
        for name in ("user", "inventory", "order"):
            assert httpx.get(f"{platform.url(name)}/ready").status_code == 200
    finally:
        stopped = down(platform)
    assert sorted(stopped) == sorted(platform.names())
    for name, pid in pids.items():
        assert pid is not None
        assert running_pid(platform, name) is None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        with pytest.raises(ConnectionRefusedError):  # nothing listens on its port any more
            socket.create_connection(("127.0.0.1", platform.port(name)), timeout=1).close()


def test_ports_in_the_ephemeral_range_are_refused(tmp_path):
    with pytest.raises(ValueError, match="ephemeral"):
        LocalPlatform(root=tmp_path, port_offset=30_000)
