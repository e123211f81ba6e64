"""Security case 28: the data store goes away and comes back.

These tests stop and freeze the store, so they run against a platform of
their own (other ports, other folder) and never disturb the session's. Each
starts from a state it checks (`steady`: every process running, none frozen,
every service ready), not from what the case before it left.
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
from tests.helpers import Clients, eventually, register, restore_processes, running_platform

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


@pytest.fixture(autouse=True)
def steady(outage_platform):
    """Every process running and not frozen, every service ready (the store
    comes back empty: ready means its tables were made again)."""
    restore_processes(outage_platform)


def wait_until_ready(platform, service, timeout=30.0):
    ready = eventually(
        lambda: httpx.get(f"{platform.url(service)}/ready").status_code == 200,
        timeout=timeout,
        every=0.3,
    )
    assert ready, f"{service} did not become ready again"


def test_store_down_gives_503_and_service_resumes_without_restart(outage_platform):
    user_pid = running_pid(outage_platform, "user")
    clients = register(outage_platform, "outage", deposit="10.00")
    stop(outage_platform, "store")
    try:
        response = clients.user.post("/balance/deposit", json={"amount": "5"})
        assert response.status_code == 503
        assert response.json()["code"] == "STORE_UNAVAILABLE"
        assert "Retry-After" in response.headers
        # Nothing of the store's address or the client library's error leaks out.
        leaks = ("botocore", "endpoint", str(outage_platform.port("store")), "traceback")
        assert not [word for word in leaks if word in response.text.lower()], response.text
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
    # only whole: cash, holding, order and ledger agree either way. The books are
    # read in four calls, and one may land on each side of that late write: poll
    # until one reading agrees (a partial write would never agree).
    books = eventually(lambda: books_agree(clients), timeout=30, every=0.2)
    assert books, f"the books never agreed: {read_books(clients)}"
    clients.close()


def read_books(clients: Clients) -> dict[str, Decimal]:
    """Cash, the ledger's sum, the USDT held, the orders' sum and the count of each."""
    cash = Decimal(clients.user.get("/balance").json()["current_balance"])
    entries = clients.user.get("/balance/transactions").json()["transactions"]
    orders = clients.order.get("/orders").json()["data"]
    holding = clients.user.get("/balance/asset/USDT")
    held = Decimal(holding.json()["quantity"]) if holding.status_code == 200 else Decimal(0)
    return {
        "cash": cash,
        "ledger": sum((Decimal(e["amount"]) for e in entries), Decimal(0)),
        "held": held,
        "ordered": sum((Decimal(o["quantity"]) for o in orders), Decimal(0)),
        "trade_entries": Decimal(len([e for e in entries if e["reference_id"]])),
        "orders": Decimal(len(orders)),
    }


def books_agree(clients: Clients) -> bool:
    books = read_books(clients)
    return (
        books["cash"] == books["ledger"]
        and books["held"] == books["ordered"]
        and books["trade_entries"] == books["orders"]
    )
