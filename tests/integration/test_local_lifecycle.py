"""`make up` as a user lives it: data that survives `make down`, processes that come back
after `kill -9`, `make status` telling what happened, and `make reset` starting empty.

One persistent platform (DynamoDB Local with its tables on disk), run through the
same verbs `make` runs (cnop_platform.local's main), on ports of its own.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path

import httpx
import psutil
import pytest

from cnop_platform.local.__main__ import main as local
from cnop_platform.local.ports import PLATFORMS
from cnop_platform.local.runner import LocalPlatform, is_ready, running_pid, supervisor
from cnop_platform.local.supervision import Supervisor
from tests.helpers import GatewayUser, eventually, gateway_user, login

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "var" / "test" / "lifecycle"
# Every process a user could lose; each is killed once (well under the restart cap).
KILLED = ("store", "limits-store", "auth", "user", "inventory", "order", "gateway", "web")
# Back within this (JVM start included), on a slow shared CI machine.
BACK_WITHIN_SECONDS = 45.0


OPTIONS = ["--root", str(ROOT), "--port-offset", str(PLATFORMS["lifecycle"]), "--no-monitoring"]


def _verb(verb: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = local([verb, *OPTIONS])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def _account(base_url: str, username: str) -> GatewayUser:
    answer = login(base_url, username)
    assert answer.status_code == 200, answer.text
    return GatewayUser(base_url, username, answer.json()["access_token"])


def _books(user: GatewayUser) -> tuple[str, list[tuple[str, str]], int]:
    """Cash, holdings (asset, quantity) and the number of orders of an account."""
    balance = user.get("/balance")
    portfolio = user.get("/portfolio")
    orders = user.get("/orders")
    for answer in (balance, portfolio, orders):
        assert answer.status_code == 200, answer.text
    holdings = [(a["asset_id"], a["quantity"]) for a in portfolio.json()["assets"]]
    return balance.json()["current_balance"], holdings, len(orders.json()["data"])


def _buy(user: GatewayUser, quantity: str = "0.001") -> None:
    answer = user.post(
        "/orders", json={"asset_id": "BTC", "order_type": "market_buy", "quantity": quantity}
    )
    assert answer.status_code == 201, answer.text


@pytest.fixture
def lifecycle():
    platform = LocalPlatform(root=ROOT, port_offset=PLATFORMS["lifecycle"], monitoring=False)
    assert platform.persistent_store  # what `make up` runs
    local(["down", *OPTIONS])
    shutil.rmtree(ROOT / "data", ignore_errors=True)
    shutil.rmtree(ROOT / "log", ignore_errors=True)
    yield platform
    local(["down", *OPTIONS])


def test_data_survives_down_and_up_and_reset_starts_empty(lifecycle, capsys):
    gateway = lifecycle.url("gateway")
    _verb("up", capsys)
    user = gateway_user(gateway, "keep", deposit="1000.00")
    _buy(user)
    before = _books(user)
    assert before[1]
    assert before[2] == 1
    keeper = supervisor(lifecycle)
    pids = {name: running_pid(lifecycle, name) for name in lifecycle.names()}
    daemon = keeper.pid()

    assert "stopped: " in _verb("down", capsys)
    assert daemon is not None
    assert keeper.pid() is None
    for pid in [daemon, *pids.values()]:
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

    _verb("up", capsys)
    assert _books(_account(gateway, user.username)) == before

    out = _verb("reset", capsys)
    assert "deleted the local data" in out
    assert keeper.pid() is None
    assert not (ROOT / "data").exists()
    _verb("up", capsys)
    assert login(gateway, user.username).status_code == 401  # the account is gone


def test_a_killed_process_comes_back_with_its_data_and_trading_works(lifecycle, capsys):
    gateway = lifecycle.url("gateway")
    _verb("up", capsys)
    assert all(entry["restarts"] == 0 for entry in supervisor(lifecycle).restarts().values())
    user = gateway_user(gateway, "kill", deposit="1000.00")
    for name in KILLED:
        pid = running_pid(lifecycle, name)
        assert pid is not None, name
        os.kill(pid, signal.SIGKILL)
        assert eventually(partial(_back, lifecycle, name, pid), timeout=BACK_WITHIN_SECONDS), name
        # The gateway's breaker may still count the outage for a moment: poll the trade,
        # under one idempotency key, so that a retry can never buy twice.
        key = f"after-kill-{name}"
        assert eventually(
            partial(_trade_succeeds, gateway, user.username, key), timeout=BACK_WITHIN_SECONDS
        )
    _, holdings, orders = _books(_account(gateway, user.username))
    assert orders == len(KILLED)
    assert holdings == [("BTC", f"{Decimal('0.001') * len(KILLED):.8f}")]

    restarts = supervisor(lifecycle).restarts()
    for name in KILLED:
        assert restarts[name]["restarts"] == 1, (name, restarts[name])
        assert restarts[name]["last_exit"] == "terminated by SIGKILL; not expected"
    logged = [
        json.loads(line) for line in supervisor(lifecycle).restart_log.read_text().splitlines()
    ]
    assert sorted(r["process"] for r in logged if r["event"] == "restart") == sorted(KILLED)

    status = _verb("status", capsys)
    for name in KILLED:
        line = next(row for row in status.splitlines() if row.startswith(f"{name} "))
        assert " ready " in line, line
        assert "terminated by SIGKILL" in line, line
        assert line.split()[4] == "1", line  # the restarts column


def _back(platform: LocalPlatform, name: str, killed: int) -> bool:
    """A new process of that name runs and answers."""
    return running_pid(platform, name) not in (None, killed) and is_ready(platform, name)


@dataclass(frozen=True)
class Attempt:
    """One try at a trade: truthy when it went through, and what was answered if not
    (eventually() returns the last one, so a failing test says why)."""

    ok: bool
    detail: str

    def __bool__(self) -> bool:
        return self.ok


def _trade_succeeds(gateway: str, username: str, key: str) -> Attempt:
    try:
        answer = login(gateway, username)
        if answer.status_code != 200:
            return Attempt(False, f"login: {answer.status_code} {answer.text[:300]}")
        user = GatewayUser(gateway, username, answer.json()["access_token"])
        bought = user.post(
            "/orders",
            json={"asset_id": "BTC", "order_type": "market_buy", "quantity": "0.001"},
            headers={"Idempotency-Key": key},
        )
        return Attempt(
            bought.status_code in (200, 201), f"order: {bought.status_code} {bought.text[:300]}"
        )
    except httpx.HTTPError as exc:
        return Attempt(False, f"{type(exc).__name__}: {exc}")


def test_the_store_is_reachable_from_loopback_only(local_platform):
    port = local_platform.port("store")
    listening = _listening_addresses(port)
    assert listening, f"nothing listens on {port}"
    assert listening <= {"127.0.0.1"}, listening
    for address in _non_loopback_addresses():
        with pytest.raises(ConnectionRefusedError):
            _connect(address, port)


def _connect(address: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect((address, port))


def _non_loopback_addresses() -> list[str]:
    found = []
    for addresses in psutil.net_if_addrs().values():
        for entry in addresses:
            if entry.family.name not in ("AF_INET", "AF_INET6"):
                continue
            address = entry.address.split("%")[0]
            ip = ipaddress.ip_address(address)
            if not ip.is_loopback and not ip.is_link_local:
                found.append(address)
    return found


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the listening TCP sockets on `port`, read from /proc/net/tcp{,6}."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for row in Path(table).read_text().splitlines()[1:]:
            local_address, state = row.split()[1], row.split()[3]
            hex_address, hex_port = local_address.split(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(hex_address)
            # The kernel prints each 32-bit word in host (little-endian) order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            ip = ipaddress.ip_address(words) if width == 8 else ipaddress.IPv6Address(words)
            mapped = getattr(ip, "ipv4_mapped", None)
            found.add(str(mapped or ip))
    return found


def test_supervisor_answers_only_on_its_own_socket(lifecycle, capsys):
    _verb("up", capsys)
    keeper: Supervisor = supervisor(lifecycle)
    assert keeper.answers()
    assert oct(keeper.socket.stat().st_mode & 0o777) == "0o700"
