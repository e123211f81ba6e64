"""One supervisord per local platform: it starts, reaps, stops and logs every process.

The runner writes, under <root>/run, a launch file per process (its command
line and its whole environment, read again at every start) and a
supervisord.conf naming them, then talks to supervisord over a Unix socket
in the same folder: nothing listens on a port. Programs do not start with
supervisord: the runner starts them in order, each ready before the next.
When one dies on its own, the restarter (cnop_platform.local.restarter, an
event listener of the same supervisord) brings it back.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

from cnop_platform.local.processes import alive

# Longest path a Unix socket may have (sun_path, less its terminating NUL).
SOCKET_PATH_MAX = 107
LISTENER = "restarter"
# supervisord's process states a running (or starting) process is in.
UP_STATES = ("STARTING", "RUNNING")
# ...and those it leaves a process in when it will not come back by itself.
DOWN_STATES = ("STOPPED", "FATAL", "UNKNOWN")


class SupervisorError(RuntimeError):
    """supervisord did not start, or refused a request."""


@dataclass(frozen=True)
class Program:
    """One process under supervision."""

    name: str
    argv: list[str]
    env: dict[str, str]
    output: Path


class Supervisor:
    """The supervisord of one platform root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.run_dir = root / "run"
        self.socket = self.run_dir / "supervisor.sock"
        self.config = self.run_dir / "supervisord.conf"
        self.pid_file = self.run_dir / "supervisord.pid"
        self.log = root / "log" / "supervisord.log"
        self.restarts_file = self.run_dir / "restarts.json"
        self.restart_log = root / "log" / "restarts.jsonl"
        if len(str(self.socket)) > SOCKET_PATH_MAX:
            raise ValueError(f"{self.socket} is too long for a Unix socket: use a shorter root")

    def launch_file(self, name: str) -> Path:
        """The command line and environment a program starts with."""
        return self.run_dir / "launch" / f"{name}.json"

    # -- the daemon -------------------------------------------------------

    def pid(self) -> int | None:
        """supervisord's pid while it runs."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if alive(pid) else None

    def answers(self) -> bool:
        """True when supervisord runs and answers on its socket."""
        if self.pid() is None:
            return False
        try:
            return bool(self._rpc().supervisor.getState()["statename"] == "RUNNING")
        except (OSError, HTTPException, xmlrpc.client.Error):
            return False

    def ensure_running(self, programs: list[Program], timeout: float = 30.0) -> None:
        """Start supervisord with these programs unless it already runs (none starts yet)."""
        if self.answers():
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        # A new supervisor counts restarts from nothing.
        self.restarts_file.unlink(missing_ok=True)
        # The launch files are written by each start (write_launch_file), not here.
        self.config.write_text(self._config_text(programs))
        with (self.root / "log" / "supervisord.out").open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.config)],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Not in the group of the shell that ran `make up`: Ctrl-C there stops nothing.
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answers():
                return
            if process.poll() is not None:
                break
            time.sleep(0.1)
        raise SupervisorError(f"supervisord did not start; see {self.log} and supervisord.out")

    def shutdown(self, timeout: float = 60.0) -> bool:
        """Stop every program and supervisord itself; True if it was running."""
        pid = self.pid()
        if pid is None:
            return False
        try:
            # Everything first, in one call (the restarter last): supervisord's own
            # shutdown stops one group per turn of its loop, a second each when idle.
            self._rpc().supervisor.stopAllProcesses(True)
            self._rpc().supervisor.shutdown()
        except (OSError, HTTPException, xmlrpc.client.Error):
            os.kill(pid, 15)  # it does not answer: SIGTERM stops it and its programs too
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.1)
        if alive(pid):
            raise SupervisorError(f"supervisord (pid {pid}) did not stop in {timeout:.0f} s")
        self.pid_file.unlink(missing_ok=True)
        return True

    # -- programs ---------------------------------------------------------

    def write_launch_file(self, program: Program) -> None:
        """Written before every start, so a start always uses today's settings."""
        path = self.launch_file(program.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        program.output.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        # Owner-only: the environment names key files and may hold settings worth keeping.
        temporary.touch(mode=0o600)
        temporary.write_text(json.dumps({"argv": program.argv, "env": program.env}))
        temporary.replace(path)

    def info(self, name: str) -> dict[str, Any] | None:
        """supervisord's view of a program (state, pid, exit status), or None if it is not up."""
        if self.pid() is None:
            return None
        try:
            return dict(self._rpc().supervisor.getProcessInfo(name))
        except (OSError, HTTPException, xmlrpc.client.Error):
            return None

    def pids(self) -> dict[str, int]:
        """The pid of every running program (the restarter excluded), by name."""
        if self.pid() is None:
            return {}
        try:
            every = self._rpc().supervisor.getAllProcessInfo()
        except (OSError, HTTPException, xmlrpc.client.Error):
            return {}
        return {
            str(info["name"]): int(info["pid"])
            for info in every
            if info["statename"] in UP_STATES and info["pid"] and info["name"] != LISTENER
        }

    def start(self, name: str) -> None:
        """Start a program that is not running (no-op when it is, or is being restarted)."""
        try:
            self._rpc().supervisor.startProcess(name, False)
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" not in fault.faultString:
                raise SupervisorError(f"cannot start {name}: {fault.faultString}") from fault

    def stop(self, name: str) -> None:
        """Stop a program and wait for it to end; it is not restarted."""
        try:
            self._rpc().supervisor.stopProcess(name, True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString:
                raise SupervisorError(f"cannot stop {name}: {fault.faultString}") from fault

    def restarts(self) -> dict[str, dict[str, Any]]:
        """What the restarter recorded: restarts, the last exit and whether it gave up, by name."""
        try:
            return dict(json.loads(self.restarts_file.read_text()))
        except (FileNotFoundError, ValueError):
            return {}

    # -- internals --------------------------------------------------------

    def _rpc(self) -> Any:
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def _config_text(self, programs: list[Program]) -> str:
        listener = [
            sys.executable,
            "-m",
            "cnop_platform.local.restarter",
            "--state",
            str(self.restarts_file),
            "--log",
            str(self.restart_log),
            "--supervisor-log",
            str(self.log),
        ]
        sections = [
            "[unix_http_server]",
            f"file={_value(str(self.socket))}",
            "chmod=0700",
            "",
            "[supervisord]",
            f"logfile={_value(str(self.log))}",
            "logfile_maxbytes=10MB",
            "logfile_backups=2",
            f"pidfile={_value(str(self.pid_file))}",
            "nodaemon=true",
            f"identifier=cnop-{_value(self.root.name)}",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            f"[eventlistener:{LISTENER}]",
            f"command={_command(listener)}",
            "events=PROCESS_STATE_EXITED,PROCESS_STATE_FATAL,PROCESS_STATE_RUNNING",
            "autostart=true",
            "autorestart=true",
            f"stderr_logfile={_value(str(self.root / 'log' / 'restarter.err'))}",
            "",
        ]
        for program in programs:
            sections += _program_section(program, self.launch_file(program.name))
        return "\n".join(sections) + "\n"


def _program_section(program: Program, launch_file: Path) -> list[str]:
    launch = [sys.executable, "-m", "cnop_platform.local.launch", str(launch_file)]
    return [
        f"[program:{program.name}]",
        f"command={_command(launch)}",
        # The runner starts programs in order; the restarter brings back the ones that die.
        "autostart=false",
        "autorestart=false",
        # Up for a second counts as started; a process that dies sooner is retried by
        # supervisord itself (1 s, 2 s, 3 s apart) and then left FATAL.
        "startsecs=1",
        "startretries=3",
        "stopsignal=TERM",
        "stopwaitsecs=10",
        "stopasgroup=true",
        "killasgroup=true",
        "redirect_stderr=true",
        f"stdout_logfile={_value(str(program.output))}",
        "stdout_logfile_maxbytes=20MB",
        "stdout_logfile_backups=2",
        "",
    ]


def _value(text: str) -> str:
    """A value in supervisord's ini: '%' starts an expansion there."""
    return text.replace("%", "%%")


def _command(argv: list[str]) -> str:
    return _value(shlex.join(argv))
