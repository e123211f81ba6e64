"""The restart policy under a real supervisord: backoff, a cap per minute, stops left alone.

No port is involved: each test runs a supervisord of its own on a Unix socket
under tmp_path, with small Python programs that die on cue.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from datetime import datetime
from pathlib import Path

import pytest

from cnop_platform.local.restarter import BACKOFF_SECONDS, MAX_RESTARTS
from cnop_platform.local.supervision import Program, Supervisor
from tests.helpers import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Up past startsecs (1 s), so supervisord counts it as started, then dies with 3.
DIES_AFTER_A_WHILE = "import time; time.sleep(1.5); raise SystemExit(3)"
RUNS = "import time; time.sleep(600)"


def _program(root: Path, name: str, code: str) -> Program:
    return Program(
        name=name,
        argv=[sys.executable, "-c", code],
        env={"PATH": os.environ.get("PATH", "")},
        output=root / "log" / f"{name}.out",
    )


def _started(keeper: Supervisor, root: Path, name: str, code: str) -> Program:
    """A supervisord with one program, started."""
    program = _program(root, name, code)
    keeper.ensure_running([program])
    keeper.write_launch_file(program)
    keeper.start(name)
    return program


@pytest.fixture
def keeper(tmp_path):
    supervisor = Supervisor(tmp_path)
    yield supervisor
    supervisor.shutdown()


def _spawn_times(keeper: Supervisor, name: str) -> list[datetime]:
    stamp = re.compile(rf"^(\S+ \S+) INFO spawned: '{name}' with pid")
    found = []
    for line in keeper.log.read_text().splitlines():
        match = stamp.match(line)
        if match:
            found.append(datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f"))
    return found


def test_a_process_that_keeps_dying_backs_off_then_is_left_stopped(keeper, tmp_path):
    _started(keeper, tmp_path, "crasher", DIES_AFTER_A_WHILE)

    def gave_up() -> bool:
        state = str(keeper.restarts().get("crasher", {}).get("state", ""))
        return state.startswith("gave up")

    # 5 restarts (0+1+2+4+8 s of backoff, 1.5 s of life each) and supervisord's ticks.
    assert eventually(gave_up, timeout=120, every=1.0)
    record = keeper.restarts()["crasher"]
    assert record["restarts"] == MAX_RESTARTS
    assert record["last_exit"] == "exit status 3; not expected"
    info = keeper.info("crasher")
    assert info is not None
    assert info["statename"] == "EXITED"

    lines = [json.loads(line) for line in keeper.restart_log.read_text().splitlines()]
    restarts = [line for line in lines if line["event"] == "restart"]
    assert [line["delay_seconds"] for line in restarts] == list(BACKOFF_SECONDS)
    assert lines[-1]["event"] == "gave_up"
    # The backoff really happened: each start waited at least its delay after the
    # previous life (1.5 s) ended.
    spawns = _spawn_times(keeper, "crasher")
    assert len(spawns) == MAX_RESTARTS + 1
    for delay, earlier, later in zip(BACKOFF_SECONDS, spawns[:-1], spawns[1:], strict=True):
        assert (later - earlier).total_seconds() >= 1.5 + delay - 0.2


def test_a_process_stopped_on_purpose_stays_stopped(keeper, tmp_path):
    _started(keeper, tmp_path, "sleeper", RUNS)
    assert eventually(lambda: (keeper.info("sleeper") or {}).get("statename") == "RUNNING")
    pid = keeper.pids()["sleeper"]
    keeper.stop("sleeper")
    info = keeper.info("sleeper")
    assert info is not None
    assert info["statename"] == "STOPPED"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # The restarter heard only the start: no exit, no restart.
    assert keeper.restarts()["sleeper"] == {
        "restarts": 0,
        "recent": [],
        "last_exit": None,
        "state": "running",
    }
    assert not keeper.restart_log.exists()


def test_shutdown_leaves_nothing_running(keeper, tmp_path):
    _started(keeper, tmp_path, "sleeper", RUNS)
    pid = keeper.pids()["sleeper"]
    daemon = keeper.pid()
    assert daemon is not None
    assert keeper.shutdown() is True
    for gone in (pid, daemon):
        with pytest.raises(ProcessLookupError):
            os.kill(gone, 0)
    assert keeper.shutdown() is False  # a second down finds nothing


def test_a_killed_supervisord_takes_its_programs_with_it(keeper, tmp_path):
    sleeper = _started(keeper, tmp_path, "sleeper", RUNS)
    pid = keeper.pids()["sleeper"]
    daemon = keeper.pid()
    assert daemon is not None
    os.kill(daemon, signal.SIGKILL)

    def gone(process: int) -> bool:
        # Ended, or a zombie waiting for whoever adopts orphans on this machine to reap it.
        try:
            stat = Path(f"/proc/{process}/stat").read_text()
        except FileNotFoundError:
            return True
        return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")

    # supervisord was started by this test process: reap it, or it lingers as a zombie.
    assert eventually(lambda: keeper.pid() is None)
    assert eventually(lambda: gone(pid), timeout=15), "the program outlived its supervisord"
    # ...and the next start brings everything up again.
    keeper.ensure_running([sleeper])
    keeper.start("sleeper")
    assert keeper.pids()["sleeper"] != pid
