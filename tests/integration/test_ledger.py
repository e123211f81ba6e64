"""Security cases 29–32: money under concurrency.

Every case runs against the real services and the real local store; the
threads are released together by a barrier so the requests truly overlap.
"""

import random
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.helpers import Clients, register, registration, unique_username

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ZERO = Decimal(0)


def together(count: int, call):
    """Run `call(i)` on `count` threads released at the same instant; results in order."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def cash(clients: Clients) -> Decimal:
    return Decimal(clients.user.get("/balance").json()["current_balance"])


def held(clients: Clients, asset: str) -> Decimal:
    response = clients.user.get(f"/balance/asset/{asset}")
    return Decimal(response.json()["quantity"]) if response.status_code == 200 else ZERO


def test_case_29_fifty_concurrent_buys_with_cash_for_ten(local_platform):
    buyer = register(local_platform, "buyer", deposit="100.00")
    body = {"order_type": "market_buy", "asset_id": "USDT", "quantity": "10"}
    responses = together(50, lambda _: buyer.order.post("/orders", json=body))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 10
    assert statuses.count(422) == 40
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {"INSUFFICIENT_BALANCE"}
    assert all(
        r.json()["data"]["total_amount"] == "10.00" for r in responses if r.status_code == 201
    )
    assert cash(buyer) == Decimal("0.00")
    assert held(buyer, "USDT") == Decimal(100)
    assert len(buyer.order.get("/orders", params={"limit": 100}).json()["data"]) == 10


def test_case_31_one_idempotency_key_five_times_at_once(funded: Clients):
    body = {"order_type": "market_buy", "asset_id": "ETH", "quantity": "0.01"}
    headers = {"Idempotency-Key": "same-key-31"}
    responses = together(5, lambda _: funded.order.post("/orders", json=body, headers=headers))
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.text for r in responses}) == 1
    orders = funded.order.get("/orders").json()["data"]
    assert len(orders) == 1
    assert orders[0] == responses[0].json()["data"]
    payments = [
        t
        for t in funded.user.get("/balance/transactions").json()["transactions"]
        if t["transaction_type"] == "order_payment"
    ]
    assert len(payments) == 1
    assert cash(funded) == Decimal("1000.00") - Decimal(orders[0]["total_amount"])
    other = funded.order.post("/orders", json={**body, "quantity": "0.02"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_case_31_deposits_with_one_key_at_once(alice: Clients):
    headers = {"Idempotency-Key": "dep-31"}
    responses = together(
        5, lambda _: alice.user.post("/balance/deposit", json={"amount": "7.5"}, headers=headers)
    )
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.text for r in responses}) == 1
    assert cash(alice) == Decimal("7.50")


@pytest.mark.parametrize("shared", ["username", "email"])
def test_case_32_concurrent_registrations_one_wins(anonymous: Clients, shared):
    for _ in range(3):
        name = unique_username("race")
        bodies = [
            registration(name if shared == "username" else unique_username("race")),
            registration(name if shared == "username" else unique_username("race")),
        ]
        if shared == "email":
            for body in bodies:
                body["email"] = f"{name}@example.com"
        else:
            bodies[1]["email"] = f"other.{name}@example.com"
        responses = together(
            2, lambda i, bodies=bodies: anonymous.user.post("/auth/register", json=bodies[i])
        )
        assert sorted(r.status_code for r in responses) == [201, 409]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["code"] == "USER_EXISTS"


class Book:
    """What the test itself saw succeed, per user: the truth the ledger must match."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cash: defaultdict[str, Decimal] = defaultdict(Decimal)
        self.holdings: defaultdict[str, defaultdict[str, Decimal]] = defaultdict(
            lambda: defaultdict(Decimal)
        )

    def record(self, user, cash_change=ZERO, asset=None, quantity_change=ZERO):
        with self.lock:
            self.cash[user] += cash_change
            if asset is not None:
                self.holdings[user][asset] += quantity_change


def random_operation(clients: Clients, book: Book, rng: random.Random) -> None:
    kind = rng.choice(["deposit", "withdraw", "buy", "sell", "buy", "sell"])
    user = clients.username
    if kind in ("deposit", "withdraw"):
        amount = Decimal(rng.randint(100, 5000)) / 100
        response = clients.user.post(f"/balance/{kind}", json={"amount": str(amount)})
        assert response.status_code in (201, 422), response.text
        if response.status_code == 201:
            book.record(user, amount if kind == "deposit" else -amount)
        else:
            assert response.json()["code"] in ("INSUFFICIENT_BALANCE", "DAILY_LIMIT_EXCEEDED")
        return
    asset = rng.choice(["USDT", "ETH", "SOL", "ADA"])
    quantity = Decimal(rng.randint(1, 300)) / 100
    order_type = "market_buy" if kind == "buy" else "market_sell"
    response = clients.order.post(
        "/orders", json={"order_type": order_type, "asset_id": asset, "quantity": str(quantity)}
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        total = Decimal(response.json()["data"]["total_amount"])
        if kind == "buy":
            book.record(user, -total, asset, quantity)
        else:
            book.record(user, total, asset, -quantity)
    else:
        assert response.json()["code"] in (
            "INSUFFICIENT_BALANCE",
            "INSUFFICIENT_ASSET_BALANCE",
            "ORDER_VALUE_TOO_SMALL",
            "ORDER_VALUE_EXCEEDED",
        )
    # After every step: nothing this user has is negative.
    assert cash(clients) >= 0
    assert held(clients, asset) >= 0


def check_invariants(users: list[Clients], book: Book) -> None:
    for clients in users:
        user = clients.username
        balance = cash(clients)
        assert balance == book.cash[user]
        ledger = clients.user.get("/balance/transactions", params={"limit": 100}).json()
        entries = ledger["transactions"]
        offset = len(entries)
        while ledger["has_more"]:
            ledger = clients.user.get(
                "/balance/transactions", params={"limit": 100, "offset": offset}
            ).json()
            entries += ledger["transactions"]
            offset += len(ledger["transactions"])
        assert sum(Decimal(e["amount"]) for e in entries) == balance
        orders = []
        offset = 0
        while True:
            page = clients.order.get("/orders", params={"limit": 100, "offset": offset}).json()
            orders += page["data"]
            offset += len(page["data"])
            if not page["has_more"]:
                break
        # Every order has exactly one ledger entry, for its exact total.
        by_reference = {e["reference_id"]: e for e in entries if e["reference_id"]}
        assert len(by_reference) == len(orders)
        for order in orders:
            entry = by_reference[order["order_id"]]
            sign = -1 if order["order_type"] == "market_buy" else 1
            assert Decimal(entry["amount"]) == sign * Decimal(order["total_amount"])
        # The server's holdings are the model's, asset by asset, and none is negative.
        for asset, quantity in book.holdings[user].items():
            assert held(clients, asset) == quantity
        portfolio = clients.user.get("/portfolio").json()["assets"]
        on_server = {a["asset_id"]: Decimal(a["quantity"]) for a in portfolio}
        assert all(quantity > 0 for quantity in on_server.values())
        expected = {a: q for a, q in book.holdings[user].items() if q != 0}
        assert on_server == expected


def test_case_30_random_operations_from_sixteen_workers_keep_the_books(local_platform):
    users = [register(local_platform, "books", deposit="2000.00") for _ in range(4)]
    book = Book()
    for clients in users:
        book.record(clients.username, Decimal("2000.00"))
    rng = random.Random(30)
    plan = [(rng.choice(users), rng.randrange(1 << 30)) for _ in range(1000)]
    for round_start in range(0, 1000, 250):
        batch = plan[round_start : round_start + 250]
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda p: random_operation(p[0], book, random.Random(p[1])), batch))
        # A quiet moment between rounds: every book must balance exactly.
        check_invariants(users, book)
