"""The local platform's restart policy: a supervisord event listener.

A program that dies on its own (a crash, `kill -9`, the OOM killer) is
started again, as Kubernetes restarts a pod's container: at once the first
time, then after a delay that doubles (1, 2, 4, 8 s) while it keeps dying,
and not at all once it has died MAX_RESTARTS times within a minute: a
process that cannot stay up is left stopped, and `make status` says so,
instead of burning the machine. A program stopped on purpose (`make down`,
a test's stop) ends STOPPED, not EXITED, and is left alone.

Each restart and each give-up is one JSON line in <root>/log/restarts.jsonl;
the counts, the last exit reason and the state are kept in
<root>/run/restarts.json for `make status`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
import xmlrpc.client
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supervisor import childutils

from cnop_platform.local.supervision import LISTENER

WINDOW_SECONDS = 60.0
MAX_RESTARTS = 5
# Delay before the n-th restart within the window (n counted from 0).
BACKOFF_SECONDS = (0.0, 1.0, 2.0, 4.0, 8.0)


def restart_delay(recent: list[float], now: float) -> float | None:
    """Seconds to wait before the next restart, or None to give up.

    `recent` holds the times of earlier restarts; only those within the last
    WINDOW_SECONDS count.
    """
    within = [moment for moment in recent if now - moment < WINDOW_SECONDS]
    if len(within) >= MAX_RESTARTS:
        return None
    return BACKOFF_SECONDS[min(len(within), len(BACKOFF_SECONDS) - 1)]


def exit_reason(supervisor_log: Path, name: str) -> str:
    """supervisord's own words for the program's last exit ("terminated by SIGKILL; ...")."""
    pattern = re.compile(rf"exited: {re.escape(name)} \((.*)\)$")
    try:
        lines = supervisor_log.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "unknown"
    for line in reversed(lines[-500:]):
        match = pattern.search(line)
        if match:
            return match.group(1)
    return "unknown"


class Restarter:
    """Decides on each event; restarts run later, on timers, so events keep flowing."""

    def __init__(self, rpc: Any, state_file: Path, log_file: Path, supervisor_log: Path) -> None:
        self.rpc = rpc
        self.state_file = state_file
        self.log_file = log_file
        self.supervisor_log = supervisor_log
        self.book: dict[str, dict[str, Any]] = {}

    def on_event(self, event: str, name: str, now: float) -> None:
        """Handle one PROCESS_STATE_* event of program `name`."""
        if name == LISTENER:
            return  # supervisord restarts its listener itself
        entry = self.book.setdefault(
            name, {"restarts": 0, "recent": [], "last_exit": None, "state": "running"}
        )
        if event == "PROCESS_STATE_RUNNING":
            entry["state"] = "running"
        elif event == "PROCESS_STATE_FATAL":
            entry["state"] = "failed to start (supervisord gave up its retries)"
            self._log({"event": "fatal", "process": name})
        elif event == "PROCESS_STATE_EXITED":
            self._on_exit(entry, name, now)
        self._save()

    def _on_exit(self, entry: dict[str, Any], name: str, now: float) -> None:
        reason = self._reason(name)
        entry["last_exit"] = reason
        entry["last_exit_at"] = _iso(now)
        entry["recent"] = [t for t in entry["recent"] if now - t < WINDOW_SECONDS]
        delay = restart_delay(entry["recent"], now)
        if delay is None:
            entry["state"] = f"gave up: {MAX_RESTARTS} restarts within {WINDOW_SECONDS:.0f} s"
            self._log({"event": "gave_up", "process": name, "exit": reason})
            return
        entry["recent"].append(now)
        entry["restarts"] += 1
        entry["state"] = f"restarting (after {delay:.0f} s)"
        self._log(
            {
                "event": "restart",
                "process": name,
                "exit": reason,
                "delay_seconds": delay,
                "restart": entry["restarts"],
            }
        )
        timer = threading.Timer(delay, self._start, args=(name,))
        timer.daemon = True
        timer.start()

    def _reason(self, name: str) -> str:
        # supervisord writes its "exited:" line in the same turn as it sends the
        # event; a short wait covers a log flush that lags behind.
        for _ in range(10):
            reason = exit_reason(self.supervisor_log, name)
            if reason != "unknown":
                return reason
            time.sleep(0.05)
        return "unknown"

    def _start(self, name: str) -> None:
        try:
            self.rpc().supervisor.startProcess(name, False)
        except (OSError, xmlrpc.client.Error) as exc:
            # Started meanwhile by someone else, or supervisord is shutting down.
            self._log({"event": "restart_skipped", "process": name, "why": str(exc)})

    def _save(self) -> None:
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.book, indent=1))
        temporary.replace(self.state_file)

    def _log(self, record: dict[str, Any]) -> None:
        with self.log_file.open("a") as log:
            log.write(json.dumps({"time": _iso(time.time()), **record}) + "\n")


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")


def main(argv: list[str] | None = None) -> None:
    """Serve supervisord's events forever (supervisord starts and stops this)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--supervisor-log", type=Path, required=True)
    args = parser.parse_args(argv)
    restarter = Restarter(
        lambda: childutils.getRPCInterface(os.environ), args.state, args.log, args.supervisor_log
    )
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        fields = childutils.get_headers(payload.split("\n", 1)[0])
        restarter.on_event(headers["eventname"], fields["processname"], time.time())
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
