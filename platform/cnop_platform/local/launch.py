"""`python -m cnop_platform.local.launch <launch file>`: become the process it describes.

supervisord runs every local program through this: the launch file (JSON,
written by the runner before each start) holds the command line and the
whole environment, so no setting has to survive supervisord's ini quoting,
and a restart uses the same settings as the first start. The process
replaces this one (exec): supervisord's pid is the program's own.

Before the exec, the kernel is asked to send SIGTERM when supervisord
(the parent) ends, however it ends: a `kill -9` of supervisord leaves no
program running on without its supervisor.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from pathlib import Path

# prctl(2) option: the signal this process gets when its parent dies (kept across exec).
PR_SET_PDEATHSIG = 1


def end_with_parent() -> None:
    """Have SIGTERM sent when the parent dies; exit now if it already has."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    # supervisord may have died while this interpreter started, before the request
    # above: then the parent is already whoever adopts orphans, and no signal comes.
    if not parent_is_supervisord():
        sys.exit("supervisord ended before this program started")


def parent_is_supervisord() -> bool:
    """True while this process's parent is a supervisord."""
    try:
        command = Path(f"/proc/{os.getppid()}/cmdline").read_bytes()
    except OSError:
        return False
    return b"supervisord" in command


def main(argv: list[str] | None = None) -> None:
    """Exec the command of the launch file with exactly its environment."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m cnop_platform.local.launch <launch file>")
    spec = json.loads(Path(args[0]).read_text())
    command = [str(part) for part in spec["argv"]]
    env = {str(key): str(value) for key, value in spec["env"].items()}
    end_with_parent()
    # The command comes from the runner's own launch file, never from outside input.
    os.execvpe(command[0], command, env)  # noqa: S606


if __name__ == "__main__":
    main()
