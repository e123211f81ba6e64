"""Security case 28: the data store goes away and comes back.

These tests stop and freeze the store, so they run against a platform of
their own (other ports, other folder) and never disturb the session's.
"""

import os
import signal
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from cnop_platform.local.ports import PLATFORMS
from cnop_platform.local.runner import running_pid, start, stop, wait_ready
from tests.helpers import Clients, register, running_platform

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def outage_platform():
    with running_platform(
        REPO / "var" / "test" / "outage",
        PLATFORMS["store outage"],
        env={"STORE_TIMEOUT_SECONDS": "1"},
    ) as platform:
        yield platform


def wait_until_ready(platform, service, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{platform.url(service)}/ready").status_code == 200:
            return
        time.sleep(0.3)
    raise AssertionError(f"{service} did not become ready again")


def test_store_down_gives_503_and_service_resumes_without_restart(outage_platform):
    user_pid = running_pid(outage_platform, "user")
    clients = register(outage_platform, "outage", deposit="10.00")
    stop(outage_platform, "store")
    try:
        response = clients.user.post("/balance/deposit", json={"amount": "5"})
        assert response.status_code == 503
        assert response.json()["code"] == "STORE_UNAVAILABLE"
        assert "Retry-After" in response.headers
        assert "moto" not in response.text
        assert "Traceback" not in response.text
        order = clients.order.post(
            "/orders", json={"order_type": "market_buy", "asset_id": "USDT", "quantity": "1"}
        )
        assert order.status_code == 503
        assert order.json()["code"] == "STORE_UNAVAILABLE"
        assert httpx.get(f"{outage_platform.url('user')}/ready").status_code == 503
        # Public routes that need no store keep working.
        assert clients.inventory.get("/inventory/assets/BTC").status_code == 200
    finally:
        start(outage_platform, "store")
        wait_ready(outage_platform, "store")
    # The local store keeps data in memory: it comes back empty, the services
    # recreate their tables and carry on, with the same processes.
    wait_until_ready(outage_platform, "user")
    wait_until_ready(outage_platform, "order")
    assert running_pid(outage_platform, "user") == user_pid
    again = register(outage_platform, "after", deposit="20.00")
    assert again.user.get("/balance").json()["current_balance"] == "20.00"
    buy = again.order.post(
        "/orders", json={"order_type": "market_buy", "asset_id": "USDT", "quantity": "2"}
    )
    assert buy.status_code == 201, buy.text
    clients.close()
    again.close()


def test_frozen_store_gives_503_and_never_a_partial_write(outage_platform):
    clients = register(outage_platform, "frozen", deposit="100.00")
    pid = running_pid(outage_platform, "store")
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = clients.order.post(
            "/orders", json={"order_type": "market_buy", "asset_id": "USDT", "quantity": "3"}
        )
        assert response.status_code == 503
        assert response.json()["code"] == "STORE_UNAVAILABLE"
        assert time.monotonic() - started < 10
    finally:
        os.kill(pid, signal.SIGCONT)
    # The store may still apply the timed-out transaction after it wakes, but
    # only whole: cash, holding, order and ledger agree either way.
    time.sleep(1)
    check_books(clients)
    clients.close()


def check_books(clients: Clients) -> None:
    cash = Decimal(clients.user.get("/balance").json()["current_balance"])
    entries = clients.user.get("/balance/transactions").json()["transactions"]
    orders = clients.order.get("/orders").json()["data"]
    holding = clients.user.get("/balance/asset/USDT")
    held = Decimal(holding.json()["quantity"]) if holding.status_code == 200 else Decimal(0)
    assert sum(Decimal(e["amount"]) for e in entries) == cash
    assert held == sum(Decimal(o["quantity"]) for o in orders)
    assert len([e for e in entries if e["reference_id"]]) == len(orders)
