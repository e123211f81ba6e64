"""Locust hooks: the run's options, what every request did, and the files the analysis reads.

The same hooks work in one process and as a master with workers: workers
record and send their windows and new accounts with each report; the master
merges them and, when Locust quits, writes `timeline.json`, `phases.json` and
`accounts.json` into `--cnop-out`.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner
from urllib3 import PoolManager

from cnop_loadtests.stats import Timeline, Window, outcome

TIMELINE = Timeline()
ACCOUNTS: list[dict[str, str]] = []  # every account this process created (username, password)
_addresses: Iterator[str] | None = None
# Each worker takes its own slice of the source network, so no two share an address.
ADDRESSES_PER_WORKER = 4096


def _options(parser: Any) -> None:
    group = parser.add_argument_group("cnop")
    group.add_argument("--cnop-out", default="", help="folder for timeline/phases/accounts JSON")
    group.add_argument(
        "--cnop-source-network",
        default="",
        help="CIDR on this machine; each virtual user sends from its own address in it",
    )
    for name, kind, default in (
        ("steady-rps", float, 10.0),
        ("step-rps", float, 10.0),
        ("step-seconds", float, 20.0),
        ("max-steps", int, 10),
        ("spike-factor", float, 4.0),
        ("stress-factor", float, 2.0),
        ("stress-seconds", float, 30.0),
        ("recovery-seconds", float, 60.0),
        ("soak-seconds", float, 600.0),
        ("smoke-seconds", float, 20.0),
        ("knee-rps", float, 0.0),
    ):
        group.add_argument(f"--cnop-{name}", type=kind, default=default)


def _on_request(
    response_time: float,
    response: Any = None,
    exception: BaseException | None = None,
    start_time: float | None = None,
    **_: Any,
) -> None:
    TIMELINE.add(start_time or time.time(), response_time, outcome(response, exception))


def _send(client_id: str, data: dict[str, Any]) -> None:
    data["cnop_seconds"] = {str(k): w.to_json() for k, w in TIMELINE.drain().items()}
    data["cnop_accounts"] = ACCOUNTS[:]
    ACCOUNTS.clear()


def _receive(client_id: str, data: dict[str, Any]) -> None:
    TIMELINE.merge({int(k): Window.from_json(v) for k, v in data.get("cnop_seconds", {}).items()})
    ACCOUNTS.extend(data.get("cnop_accounts", []))


def _write(environment: Environment, **_: Any) -> None:
    out = environment.parsed_options.cnop_out if environment.parsed_options else ""
    if not out or isinstance(environment.runner, WorkerRunner):
        return
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timeline.json").write_text(json.dumps(TIMELINE.to_json()))
    shape = environment.shape_class
    phases = getattr(shape, "phases", [])
    (folder / "phases.json").write_text(json.dumps(phases))
    # Throwaway load-test accounts, but still credentials: only the owner reads them.
    accounts = folder / "accounts.json"
    accounts.touch(mode=0o600)
    accounts.write_text(json.dumps(ACCOUNTS))


def pool_manager_for_next_user(environment: Environment) -> PoolManager | None:
    """A connection pool bound to the next free source address, if a source network is set."""
    global _addresses  # noqa: PLW0603 - one sequence per process, shared by its users
    options = environment.parsed_options
    network = getattr(options, "cnop_source_network", "") if options else ""
    if not network:
        return None
    if _addresses is None:
        _addresses = _address_sequence(network, environment)
    return PoolManager(source_address=(next(_addresses), 0))


def _address_sequence(network: str, environment: Environment) -> Iterator[str]:
    hosts = ipaddress.ip_network(network).hosts()
    index = environment.runner.worker_index if isinstance(environment.runner, WorkerRunner) else 0
    start = max(0, index) * ADDRESSES_PER_WORKER
    return (
        str(address)
        for address in itertools.cycle(itertools.islice(hosts, start, start + ADDRESSES_PER_WORKER))
    )


for event, listener in (
    (events.init_command_line_parser, _options),
    (events.request, _on_request),
    (events.report_to_master, _send),
    (events.worker_report, _receive),
    (events.quitting, _write),
):
    event.add_listener(listener)
