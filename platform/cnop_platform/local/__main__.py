"""`python -m cnop_platform.local up|down|status|env <component>`: the local platform.

`env <component>` prints the settings `make up` gives that component (its ports,
its peers' URLs, the store, the keys), as `export` lines: run one service alone
with `eval "$(.venv/bin/python -m cnop_platform.local env user)"`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from cnop_catalogue import COMPONENTS
from cnop_platform.local.runner import (
    LocalPlatform,
    StartupError,
    down,
    is_ready,
    running_pid,
    up,
)

DEFAULT_ROOT = Path("var")


def main(argv: list[str] | None = None) -> int:
    """Run the verb; exit 1 when a process does not come up."""
    parser = argparse.ArgumentParser(prog="cnop-local", description=__doc__)
    parser.add_argument("verb", choices=("up", "down", "status", "env"))
    parser.add_argument("component", nargs="?", help="for env: whose settings to print")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args(argv)
    platform = LocalPlatform(root=args.root.resolve())
    if args.verb == "env":
        if args.component not in {c.name for c in COMPONENTS}:
            names = ", ".join(c.name for c in COMPONENTS)
            parser.error(f"env needs a component: one of {names}")
        print_environment(platform, args.component)
        return 0
    if args.verb == "up":
        try:
            up(platform)
        except StartupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            print("stopping what was started", file=sys.stderr)
            down(platform)
            return 1
        print_status(platform)
        return 0
    if args.verb == "down":
        stopped = down(platform)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    print_status(platform)
    return 0


def print_environment(platform: LocalPlatform, name: str) -> None:
    """The settings `make up` gives `name`, beyond this shell's own, as export lines."""
    for key, value in sorted(platform.environment(name).items()):
        if os.environ.get(key) != value:
            print(f"export {key}={shlex.quote(value)}")


def print_status(platform: LocalPlatform) -> None:
    """One line per process: name, URL, state, log file."""
    for name in platform.names():
        pid = running_pid(platform, name)
        state = "ready" if pid and is_ready(platform, name) else ("starting" if pid else "stopped")
        print(f"{name:<12} {platform.url(name):<24} {state:<8} logs: {platform.output_file(name)}")


if __name__ == "__main__":
    sys.exit(main())
