"""A real capacity run: Locust against a test platform, gated on the SLOs, with its reports.

Short by design (a smoke shape of about 20 s): it proves the journeys, the
recorder, the analysis, the invariant checker and the gate work end to end.
A second run against a deliberately slowed backend must fail the gate.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from cnop_platform.local.ports import PLATFORMS
from cnop_platform.local.runner import LocalPlatform, running_pid
from tests.helpers import running_platform

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PORT_OFFSET = PLATFORMS["capacity"]


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with running_platform(REPO / "var" / "test" / "capacity", PORT_OFFSET) as running:
        yield running


def capacity_run(platform: LocalPlatform, reports: Path, *extra: str) -> tuple[int, Path, str]:
    command = [
        sys.executable,
        "-m",
        "cnop_loadtests.run",
        f"--target={platform.url('gateway')}",
        "--shape=smoke",
        "--smoke-seconds=20",
        f"--local-root={platform.root}",
        f"--reports={reports}",
        "--run-id=run",
        *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    return done.returncode, reports / "run", done.stdout + done.stderr


def test_a_smoke_run_passes_the_gate_and_writes_every_report(platform, tmp_path):
    code, folder, output = capacity_run(platform, tmp_path)
    assert code == 0, output
    figures = json.loads((folder / "summary.json").read_text())
    assert figures["passed"] is True
    (smoke,) = figures["steps"]
    assert smoke["requests"] > 50
    assert smoke["wrong_answers"] == 0
    # Every platform process was sampled, and the load generator too.
    assert {"store", "gateway", "auth", "user", "inventory", "order", "locust-0"} <= set(
        smoke["cpu_percent"]
    )
    accounts = json.loads((folder / "accounts.json").read_text())
    assert len(accounts) >= 5  # each trader and newcomer signed up
    assert figures["violations"] == []
    suite = ET.parse(folder / "junit.xml").getroot()  # noqa: S314 - our own report
    assert suite.get("failures") == "0"
    assert int(suite.get("tests", "0")) >= 3
    assert "<svg" in (folder / "capacity.html").read_text()
    assert (folder / "locust.html").stat().st_size > 0
    assert "pass  invariants of every account: 0 violations" in output


@contextmanager
def slowed(pid: int, stopped: float = 0.7, period: float = 0.8) -> Iterator[None]:
    """Freeze a process for `stopped` of every `period` seconds: a backend gone slow."""
    done = threading.Event()

    def cycle() -> None:
        while not done.is_set():
            os.kill(pid, signal.SIGSTOP)
            done.wait(stopped)
            os.kill(pid, signal.SIGCONT)
            done.wait(period - stopped)

    thread = threading.Thread(target=cycle, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        os.kill(pid, signal.SIGCONT)


def test_a_slowed_backend_fails_the_latency_gate(platform, tmp_path):
    pid = running_pid(platform, "inventory")
    assert pid is not None
    with slowed(pid):
        code, folder, output = capacity_run(platform, tmp_path)
    assert code == 1, output
    checks = {c["name"]: c for c in json.loads((folder / "summary.json").read_text())["checks"]}
    assert checks["smoke: p99 latency"]["passed"] is False
    assert "FAIL  smoke: p99 latency" in output
    failures = ET.parse(folder / "junit.xml").getroot().get("failures")  # noqa: S314
    assert failures is not None
    assert int(failures) >= 1
