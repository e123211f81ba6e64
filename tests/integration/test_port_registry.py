"""No two local platforms or extra processes share a port (admin ports included).

`make up`, `make bench` and every test platform can run at once on one machine;
a shared port makes one of them talk to the other's process. The registry is
cnop_platform/local/ports.py; this proves it is collision-free and that the
code starting platforms and extra processes takes its ports from it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from cnop_platform.local.ports import (
    EPHEMERAL_PORTS_START,
    EXTRA_PROCESSES,
    NOTHING_LISTENS,
    PLATFORMS,
    admin_port,
    base_ports,
    platform_ports,
)

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
# Where platforms and extra processes are started from.
SOURCES = [
    REPO / "conftest.py",
    REPO / "tests",
    REPO / "loadtests",
    *(REPO / "services").glob("*/tests"),
]


def _owners() -> dict[int, list[str]]:
    owners: dict[int, list[str]] = defaultdict(list)
    for platform, offset in PLATFORMS.items():
        for what, port in platform_ports(offset).items():
            owners[port].append(f"{platform} platform: {what}")
    for name, port in EXTRA_PROCESSES.items():
        owners[port].append(name)
        owners[admin_port(port)].append(f"{name} (admin)")
    for name, port in NOTHING_LISTENS.items():
        owners[port].append(name)
    return owners


def test_no_two_platforms_or_processes_share_a_port():
    shared = {port: who for port, who in _owners().items() if len(who) > 1}
    assert shared == {}


def test_every_port_is_a_plain_port_below_the_ephemeral_range():
    ports = _owners()
    assert min(ports) >= 1024
    assert max(ports) < EPHEMERAL_PORTS_START


def test_a_platform_is_every_catalogue_port_moved_by_its_offset():
    # The check above is only as good as this list: admin ports and stores included.
    names = set(base_ports())
    assert {"store", "limits-store", "prometheus", "alertmanager", "gateway admin"} <= names
    assert platform_ports(10_000)["gateway admin"] == base_ports()["gateway admin"] + 10_000


def _port_literals() -> list[str]:
    """Calls that start a platform or a process with a port written as a number."""
    found = []
    files = [
        p for source in SOURCES for p in ([source] if source.is_file() else source.rglob("*.py"))
    ]
    highest = max(base_ports().values())
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            arguments = {
                "extra_process": node.args[2:3],
                "running_platform": node.args[1:2],
                "LocalPlatform": [k.value for k in node.keywords if k.arg == "port_offset"],
            }.get(name, [])
            for argument in arguments:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, int):
                    # An offset that can never run (a test of the refusal) is not a port.
                    if (
                        name == "LocalPlatform"
                        and argument.value + highest >= EPHEMERAL_PORTS_START
                    ):
                        continue
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {name}({argument.value})")
    return found


def test_platforms_and_processes_take_their_ports_from_the_registry():
    assert _port_literals() == []
