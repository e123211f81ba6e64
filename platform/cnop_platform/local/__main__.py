"""`python -m cnop_platform.local up|down|reset|status|env <component>`: the local platform.

`reset` stops the platform and deletes its data (the store's tables, the
limits store's file): the next `up` starts empty.

`env <component>` prints the settings `make up` gives that component (its ports,
its peers' URLs, the store, the keys), as `export` lines: run one service alone
with `eval "$(.venv/bin/python -m cnop_platform.local env user)"`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path

from cnop_catalogue import COMPONENTS
from cnop_platform.local.monitoring import ALERTMANAGER, PROMETHEUS
from cnop_platform.local.runner import (
    LocalPlatform,
    StartupError,
    down,
    is_ready,
    running_pid,
    state,
    supervisor,
    up,
)

DEFAULT_ROOT = Path("var")


def main(argv: list[str] | None = None) -> int:
    """Run the verb; exit 1 when a process does not come up."""
    parser = argparse.ArgumentParser(prog="cnop-local", description=__doc__)
    parser.add_argument("verb", choices=("up", "down", "reset", "status", "env"))
    parser.add_argument("component", nargs="?", help="for env: whose settings to print")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    # Another copy beside `make up` (the tests run one): its ports moved by this much.
    parser.add_argument("--port-offset", type=int, default=0)
    parser.add_argument("--no-monitoring", action="store_true", help="no Prometheus/Alertmanager")
    parser.add_argument(
        "--workers",
        action="append",
        default=[],
        metavar="COMPONENT=N",
        help="worker processes of a component, instead of its footprint's (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        workers = parse_workers(args.workers)
    except ValueError as exc:
        parser.error(str(exc))
    platform = LocalPlatform(
        root=args.root.resolve(),
        port_offset=args.port_offset,
        monitoring=not args.no_monitoring,
        workers=workers,
    )
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
    if args.verb == "reset":
        stopped = down(platform)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        data = platform.root / "data"
        shutil.rmtree(data, ignore_errors=True)
        print(f"deleted the local data in {data}: accounts, balances, orders, limits")
        return 0
    print_status(platform)
    return 0


def parse_workers(values: list[str]) -> dict[str, int]:
    """`user=2`-style values as {component: workers}; ValueError names what is wrong."""
    names = {c.name for c in COMPONENTS if c.name != "auth"}  # auth runs one process
    workers = {}
    for value in values:
        name, _, count = value.partition("=")
        if name not in names:
            raise ValueError(f"--workers {value}: the component must be one of {sorted(names)}")
        if not count.isdigit() or not 1 <= int(count) <= 64:
            raise ValueError(f"--workers {value}: the count must be a whole number from 1 to 64")
        workers[name] = int(count)
    return workers


def print_environment(platform: LocalPlatform, name: str) -> None:
    """The settings `make up` gives `name`, beyond this shell's own, as export lines."""
    for key, value in sorted(platform.environment(name).items()):
        if os.environ.get(key) != value:
            print(f"export {key}={shlex.quote(value)}")


def print_status(platform: LocalPlatform) -> None:
    """One line per process: name, URL, state, restarts and last exit, log file."""
    keeper = supervisor(platform)
    if keeper.pid() is None:
        print("the local platform is not running (make up starts it)")
        return
    restarts = keeper.restarts()
    width = max(len(platform.page_url(name)) for name in platform.names()) + 2
    print(f"{'process':<14}{'open':<{width}}{'state':<11}{'pid':<8}{'restarts':<10}last exit")
    for name in platform.names():
        pid = running_pid(platform, name)
        if pid:
            shown = "ready" if is_ready(platform, name) else "starting"
        else:
            shown = state(platform, name).lower()
        record = restarts.get(name, {})
        last_exit = record.get("last_exit") or "-"
        if record.get("last_exit_at"):
            last_exit += f" at {record['last_exit_at']}"
        if record.get("state", "running") != "running":
            last_exit += f" [{record['state']}]"
        print(
            f"{name:<14}{platform.page_url(name):<{width}}{shown:<11}{pid or '-'!s:<8}"
            f"{record.get('restarts', 0):<10}{last_exit}"
        )
    print(f"logs: {platform.output_file('<process>')}; restarts: {keeper.restart_log}")
    for line in where_to_look(platform):
        print(line)


def where_to_look(platform: LocalPlatform) -> list[str]:
    """The pages and commands a person uses next (every URL here opens: a test fetches it)."""
    lines = [
        f"web UI:        {platform.page_url('web')}",
        f"API:           {platform.page_url('gateway')}   (every route: docs/api.md)",
    ]
    if platform.monitoring:
        prometheus = platform.url(PROMETHEUS)
        alertmanager = platform.url(ALERTMANAGER)
        lines += [
            f"Prometheus:    {prometheus}/classic/graph",
            f"alerts:        {prometheus}/classic/alerts",
            f"Alertmanager:  amtool --alertmanager.url={alertmanager} alert query"
            f"   (no web UI in Debian's package; its API: {alertmanager}/api/v2/alerts)",
        ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
