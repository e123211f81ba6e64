"""Operating-system helpers of the local runner: signals, liveness, a Redis ping.

Kept apart from runner.py, which decides what runs where.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from typing import Any

HOST = "127.0.0.1"


def redis_answers(port: int) -> bool:
    """True when a Redis server on this port answers PING."""
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def signal_group(pid: int, signum: int) -> None:
    """Signal a process and every process it started (its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def alive(pid: int) -> bool:
    """True while the process runs (a child of ours that ended is reaped)."""
    try:
        # Reap it if it is our child, so it does not linger as a zombie.
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but someone else's
    return True


def end(process: subprocess.Popen[Any], grace_seconds: float = 10.0) -> None:
    """Stop a process this program started: asked first, killed if it will not go."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
