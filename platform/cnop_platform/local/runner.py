"""Start, wait for and stop the local platform's processes.

Every process runs under the platform's own supervisord (supervision.py),
which restarts what dies (restarter.py) and keeps each one's output under
<root>/log. `down` stops exactly what `up` started, supervisord included,
and `up` run twice starts nothing new. The test fixtures use the same code
with other ports and another root, so tests never collide with a running
`make up`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cnop_catalogue import (
    ALERTMANAGER_PORT,
    COMPONENTS,
    LIMITS_STORE_PORT,
    PROMETHEUS_PORT,
    STORE_PORT,
    STORE_USERS,
    Component,
    local_web_origins,
)
from cnop_platform.environment import Site, service_environment
from cnop_platform.local import dynamodb_local, keys
from cnop_platform.local.monitoring import (
    ALERTMANAGER,
    PROMETHEUS,
    alertmanager_command,
    prometheus_command,
)
from cnop_platform.local.ports import EPHEMERAL_PORTS_START
from cnop_platform.local.processes import redis_answers
from cnop_platform.local.supervision import DOWN_STATES, UP_STATES, Program, Supervisor

HOST = "127.0.0.1"
LOCAL_KID = "local-1"
STORE = "store"
LIMITS_STORE = "limits-store"
# The web UI calls the gateway from this loopback address of its own, and the
# gateway trusts X-Forwarded-For only from it: the browser's address is kept,
# and no other local caller can claim one.
WEB_SOURCE_ADDRESS = "127.0.0.3"
# The store's JVM heap: `make up` (data on disk, the JVM caches pages) and a test platform.
STORE_HEAP_MB = 512
TEST_STORE_HEAP_MB = 256


def limits_store_command(port: int, data_dir: Path) -> list[str]:
    """Redis on loopback, persisting to an append-only file in `data_dir` (synced each
    second, as ElastiCache replicates in a cluster): a login block or failure count
    survives the store's restart, losing at most its last second."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        "redis-server",
        "--bind",
        HOST,
        "--port",
        str(port),
        "--protected-mode",
        "yes",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--dir",
        str(data_dir),
    ]


class StartupError(RuntimeError):
    """A process did not become ready in time."""


@dataclass(frozen=True)
class LocalPlatform:
    """Where one copy of the local platform lives: its folder and its ports."""

    root: Path
    port_offset: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    # Prometheus and Alertmanager; test platforms that do not look at metrics leave them off.
    monitoring: bool = True
    # < 1 shortens scrape and evaluation intervals and alert `for:` (test profiles).
    time_scale: float = 1.0
    # `make up` keeps the store's tables on disk (<root>/data/store); a test
    # platform keeps them in memory, so each run starts empty and fast.
    persistent_store: bool = True
    # Worker processes per component where they differ from the catalogue's footprint
    # (`--workers user=2`: what one more replica of a service buys, measured locally).
    workers: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Ports in the kernel's ephemeral range can be taken at any moment by
        # an outgoing connection's local port, so a server may fail to bind.
        highest = max(
            [
                STORE_PORT,
                LIMITS_STORE_PORT,
                PROMETHEUS_PORT,
                ALERTMANAGER_PORT,
                *(c.port for c in COMPONENTS),
                *(c.admin_port for c in COMPONENTS),
            ]
        )
        if highest + self.port_offset >= EPHEMERAL_PORTS_START:
            raise ValueError(
                f"port offset {self.port_offset} puts ports in the ephemeral range"
                f" (from {EPHEMERAL_PORTS_START})"
            )

    def port(self, name: str) -> int:
        """The port a component (or the store) listens on in this copy."""
        fixed = {
            STORE: STORE_PORT,
            LIMITS_STORE: LIMITS_STORE_PORT,
            PROMETHEUS: PROMETHEUS_PORT,
            ALERTMANAGER: ALERTMANAGER_PORT,
        }
        base = fixed[name] if name in fixed else _component(name).port
        return base + self.port_offset

    def address(self, name: str) -> str:
        """host:port of a process."""
        return f"{HOST}:{self.port(name)}"

    def url(self, name: str) -> str:
        """Base URL of a component (or a store)."""
        scheme = "redis" if name == LIMITS_STORE else "http"
        return f"{scheme}://{HOST}:{self.port(name)}"

    def page_url(self, name: str) -> str:
        """What to open for a process: a page that answers 200 (what `make up` prints).

        Debian's Prometheus 2.42 has no new UI (its JavaScript is not packaged):
        its pages are under /classic/. Debian's Alertmanager has no web UI at
        all: its API answers (amtool reads it). The gateway's root is no page;
        the catalogue is its first public answer. The stores are addresses to
        connect to, not pages."""
        base = self.url(name)
        pages = {
            PROMETHEUS: "/classic/graph",
            ALERTMANAGER: "/api/v2/status",
            "gateway": "/api/v1/inventory/assets",
            "web": "/",
        }
        if name in pages:
            return base + pages[name]
        if name in (STORE, LIMITS_STORE):
            return base
        return base + "/health"

    def admin_url(self, name: str) -> str:
        """Base URL of a component's admin port (/metrics)."""
        return f"http://{HOST}:{_component(name).admin_port + self.port_offset}"

    def store_data(self) -> Path:
        """Where a persistent store keeps its SQLite file (delete it to start empty)."""
        return self.root / "data" / STORE

    def limits_store_data(self) -> Path:
        """Where the limits store keeps its append-only file (delete it to start empty)."""
        return self.root / "data" / LIMITS_STORE

    def output_file(self, name: str) -> Path:
        """Where a process's stdout and stderr go."""
        return self.root / "log" / f"{name}.out"

    def log_file(self, name: str) -> Path:
        """Where a service writes its JSON log lines."""
        return self.root / "log" / f"{name}.jsonl"

    def command(self, name: str) -> list[str]:
        """The command line that runs a component (or the store)."""
        if name == STORE:
            data = self.store_data() if self.persistent_store else None
            if data is not None:
                data.mkdir(parents=True, exist_ok=True)
            # In memory, a test platform's heap is its whole database: small, bounded.
            heap = STORE_HEAP_MB if self.persistent_store else TEST_STORE_HEAP_MB
            return dynamodb_local.command(HOST, self.port(STORE), data_dir=data, max_heap_mb=heap)
        if name == LIMITS_STORE:
            return limits_store_command(self.port(LIMITS_STORE), self.limits_store_data())
        if name == PROMETHEUS:
            return prometheus_command(self)
        if name == ALERTMANAGER:
            return alertmanager_command(self)
        return [sys.executable, "-m", _component(name).module]

    def environment(self, name: str) -> dict[str, str]:
        """Environment of a process: settings flow in only through here."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        if name in (STORE, LIMITS_STORE, PROMETHEUS, ALERTMANAGER):
            return env
        component = _component(name)
        env.update(service_environment(component, self.site(), component.name in STORE_USERS))
        env["LOG_FILE"] = str(self.log_file(name))
        # A cluster reads it from the pod's CPU limit (the footprint's workers).
        workers = self.workers.get(name, component.footprint.workers)
        if workers > 1:
            env["WORKERS"] = str(workers)
        env.update(self.extra_env)
        return env

    def site(self) -> Site:
        """This copy as the services see it: loopback, offset ports, a keyring of its own."""
        return Site(
            environment="development",
            host=HOST,
            port_offset=self.port_offset,
            peer_url=self.url,
            trusted_networks=f"{HOST}/32",
            trusted_proxies=f"{WEB_SOURCE_ADDRESS}/32",
            store={"DYNAMODB_ENDPOINT_URL": self.url(STORE), "CREATE_TABLES": "true"},
            limits_store_url=f"{self.url(LIMITS_STORE)}/0",
            identity_key_files={name: str(path) for name, path in self.identity_keys().items()},
            identity_public_keys_file=str(self.identity_public_keys()),
            auth_keyring_file=str(self.signing_keys()),
            auth_active_kid=LOCAL_KID,
            web_source_address=WEB_SOURCE_ADDRESS,
            # A page served by this copy's web UI may call its gateway directly.
            cors_origins=",".join(local_web_origins(self.port_offset)),
        )

    def identity_public_keys(self) -> Path:
        """The public keys every checking service reads (written with the private ones)."""
        return keys.identity_public_keys(self.root)

    def identity_keys(self) -> dict[str, Path]:
        """Each signer's own private key file (generated on first use)."""
        return keys.identity_keys(self.root)

    def signing_keys(self) -> Path:
        """This copy's auth keyring (generated on first use)."""
        return keys.auth_keyring(self.root, LOCAL_KID)

    def names(self) -> list[str]:
        """Every process, in start order (the store, then peers before their callers)."""
        names = [STORE, LIMITS_STORE, *(component.name for component in COMPONENTS)]
        return [*names, ALERTMANAGER, PROMETHEUS] if self.monitoring else names


def _component(name: str) -> Component:
    for component in COMPONENTS:
        if component.name == name:
            return component
    raise KeyError(f"unknown component {name!r}")


def supervisor(platform: LocalPlatform) -> Supervisor:
    """The supervisord of this platform's root."""
    return Supervisor(platform.root)


def program(platform: LocalPlatform, name: str) -> Program:
    """A process as supervisord runs it."""
    return Program(
        name=name,
        argv=platform.command(name),
        env=platform.environment(name),
        output=platform.output_file(name),
    )


def state(platform: LocalPlatform, name: str) -> str:
    """supervisord's state of a process (RUNNING, STARTING, EXITED, ...), STOPPED without it."""
    info = supervisor(platform).info(name)
    return str(info["statename"]) if info else "STOPPED"


def running_pid(platform: LocalPlatform, name: str) -> int | None:
    """The pid of a process of this platform that is running or starting, if any."""
    info = supervisor(platform).info(name)
    if info is None or info["statename"] not in UP_STATES or not info["pid"]:
        return None
    return int(info["pid"])


def is_ready(platform: LocalPlatform, name: str) -> bool:
    """True when the process answers: the store any request, Redis a PING, a service /ready."""
    if name == LIMITS_STORE:
        return redis_answers(platform.port(LIMITS_STORE))
    try:
        if name == STORE:
            httpx.get(platform.url(STORE), timeout=1.0, trust_env=False)
            return True
        path = "/-/ready" if name in (PROMETHEUS, ALERTMANAGER) else "/ready"
        response = httpx.get(f"{platform.url(name)}{path}", timeout=2.0, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def start(platform: LocalPlatform, name: str) -> int:
    """Start one process unless it already runs; return its pid."""
    existing = running_pid(platform, name)
    if existing is not None:
        return existing
    keeper = supervisor(platform)
    if not keeper.answers():
        # Every program's command and environment, computed only when supervisord starts.
        keeper.ensure_running([program(platform, each) for each in platform.names()])
    keeper.write_launch_file(program(platform, name))
    keeper.start(name)
    pid = running_pid(platform, name)
    if pid is None:
        tail = _output_tail(platform, name)
        raise StartupError(f"{name} did not start: {state(platform, name)}\n{tail}")
    return pid


def wait_ready(platform: LocalPlatform, name: str, timeout: float = 60.0) -> None:
    """Block until the process is ready; raise StartupError with its last output if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_ready(platform, name):
            return
        if state(platform, name) in DOWN_STATES:
            break
        time.sleep(0.2)
    raise StartupError(
        f"{name} did not become ready on {platform.url(name)}"
        f" ({state(platform, name)})\n{_output_tail(platform, name)}"
    )


def _output_tail(platform: LocalPlatform, name: str) -> str:
    if not platform.output_file(name).exists():
        return ""
    lines = platform.output_file(name).read_text(errors="replace").splitlines()
    return "\n".join(lines[-20:])


def stop(platform: LocalPlatform, name: str) -> bool:
    """Stop one process (and its process group); True if it was running.

    A process stopped here stays stopped: the restarter brings back only those that die.
    (One that died a moment before, whose restart is still waiting out its backoff, is
    started by that pending restart: the restarter's timer cannot be cancelled from here.)"""
    info = supervisor(platform).info(name)
    if info is None or info["statename"] in DOWN_STATES:
        return False
    supervisor(platform).stop(name)
    return True


def up(platform: LocalPlatform, names: Iterable[str] | None = None) -> None:
    """Start every process in order, each ready before the next starts."""
    for name in names or platform.names():
        start(platform, name)
        wait_ready(platform, name)


def down(platform: LocalPlatform, names: Iterable[str] | None = None) -> list[str]:
    """Stop every process in reverse order; return the names that were running.

    Without `names`, supervisord goes too: nothing of the platform is left."""
    stopped = []
    for name in reversed(list(names or platform.names())):
        if stop(platform, name):
            stopped.append(name)
    if names is None:
        supervisor(platform).shutdown()
    return stopped
