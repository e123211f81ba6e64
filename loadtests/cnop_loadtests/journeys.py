"""User journeys through the public API, one HttpUser per journey, checking what comes back.

A trader keeps a model of its own account (cash, holdings, how many orders
and ledger entries) and compares every answer with it: after a buy the cash
fell by the order total and the portfolio holds the asset. Each virtual user
owns its account, so the model is exact unless a write's outcome is unknown
(a 5xx or a dropped connection), and then the user re-reads its account
before it checks again. A wrong answer is a failure, never a warning.
"""

from __future__ import annotations

import random
import secrets
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import gevent
from locust import HttpUser, constant_throughput, task
from locust.exception import RescheduleTask

from cnop_loadtests import recorder
from cnop_loadtests.plans import USER_RATE

API = "/api/v1"
CENT = Decimal("0.01")
MIN_QUANTITY = Decimal("0.001")
FIRST_DEPOSIT = Decimal("2000.00")
TOP_UP = Decimal("200.00")
DAILY_DEPOSIT_LIMIT = Decimal("10000.00")
ORDER_VALUE = Decimal("40")  # dollars per order, so cash lasts the run
REVOCATION_BOUND_SECONDS = 5  # the gateway's AUTH_CACHE_SECONDS default
# Requests a trader's task makes on average (weights below): sets its think time.
TRADER_REQUESTS_PER_TASK = 1.4
NEWCOMER_REQUESTS_PER_TASK = 5


class WrongAnswer(Exception):  # noqa: N818 - it names what the platform gave, not a bug here
    """The platform answered, but not what the journey's model says it must."""


def new_account() -> dict[str, str]:
    """A registration body with a fresh username and a strong random password."""
    username = f"lt{secrets.token_hex(6)}"
    return {
        "username": username,
        "email": f"{username}@loadtest.example.com",
        "password": f"Lt-{secrets.token_urlsafe(12)}-9a",
        "first_name": "Load",
        "last_name": "Test",
    }


def money(value: Any) -> Decimal:
    """A decimal from the API's fixed-scale strings; a malformed one is a wrong answer."""
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise WrongAnswer(f"not a decimal: {value!r}") from exc


class ApiUser(HttpUser):
    """Common plumbing: its own source address, checked requests."""

    abstract = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The pool must exist before HttpUser builds its client.
        self.pool_manager = recorder.pool_manager_for_next_user(
            args[0] if args else kwargs["environment"]
        )
        super().__init__(*args, **kwargs)
        self.token = ""

    @property
    def auth(self) -> dict[str, str]:
        """The bearer token header of this user's session."""
        return {"Authorization": f"Bearer {self.token}"}

    def call(
        self,
        method: str,
        path: str,
        expect: int | tuple[int, ...],
        name: str | None = None,
        *,
        accept: Any = None,
        what: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """One request; its JSON body when the status is expected and `accept` (if any) takes it.

        A 429 ends the task quietly (the recorder counts it apart). Any other
        status, or a body `accept` refuses (by raising WrongAnswer), is a
        failure, and a write's outcome is then unknown.
        """
        expected = (expect,) if isinstance(expect, int) else expect
        label = name or f"{API}{path}"
        with self.client.request(
            method, f"{API}{path}", name=label, catch_response=True, **kwargs
        ) as response:
            status = response.status_code
            if status == 429:
                response.success()  # the rate limit at work, counted apart
                raise RescheduleTask
            if status not in expected:
                response.failure(
                    f"{what or label}: expected {expected}, got {status}: {response.text[:200]}"
                )
                self.on_unknown_outcome(method)
                raise RescheduleTask
            try:
                body = response.json() if response.content else None
                if accept is not None:
                    accept(body)
            except (ValueError, KeyError, TypeError, WrongAnswer) as exc:
                response.failure(f"{what or label}: {exc}")
                self.on_unknown_outcome(method)
                raise RescheduleTask from None
            response.success()
            return body

    def check(
        self, what: str, method: str, path: str, expect: int, check: Any, **kwargs: Any
    ) -> Any:
        """A request whose body `check` must accept; `what` names it in failures."""
        return self.call(method, path, expect, accept=check, what=what, **kwargs)

    def on_unknown_outcome(self, method: str) -> None:
        """A request failed and its effect is unknown (traders re-read their account)."""

    def sign_up(self) -> dict[str, str]:
        """Register a new account and log in to it."""
        account = new_account()
        self.call("POST", "/auth/register", 201, json=account)
        recorder.ACCOUNTS.append({"username": account["username"], "password": account["password"]})
        body = self.check(
            "login",
            "POST",
            "/auth/login",
            200,
            lambda b: require(bool(b["access_token"]), "empty token"),
            json={"username": account["username"], "password": account["password"]},
        )
        self.token = body["access_token"]
        return account


def require(condition: bool, message: str) -> None:
    """Refuse an answer unless `condition` holds."""
    if not condition:
        raise WrongAnswer(message)


class Browser(ApiUser):
    """An anonymous visitor looking at the catalogue."""

    weight = 3
    wait_time = constant_throughput(USER_RATE)

    def on_start(self) -> None:
        """Nothing to set up: browsing needs no account."""
        self.asset_ids: list[str] = []

    @task(3)
    def asset_list(self) -> None:
        """The active catalogue, sorted by market cap."""

        def valid(body: Any) -> None:
            if not body["data"] or len(body["data"]) > 50:
                raise WrongAnswer(f"{len(body['data'])} assets for limit=50")
            if not all(asset["is_active"] for asset in body["data"]):
                raise WrongAnswer("an inactive asset in an active_only list")

        body = self.check(
            "asset list", "GET", "/inventory/assets?active_only=true&limit=50", 200, valid
        )
        self.asset_ids = [asset["asset_id"] for asset in body["data"]]

    @task(2)
    def asset_detail(self) -> None:
        """One asset's details."""
        if not self.asset_ids:
            self.asset_list()
        wanted = random.choice(self.asset_ids)
        self.check(
            "asset detail",
            "GET",
            f"/inventory/assets/{wanted}",
            200,
            lambda b: require(b["data"]["asset_id"] == wanted, f"asked {wanted}, got {b['data']}"),
            name=f"{API}/inventory/assets/[asset_id]",
        )


class Newcomer(ApiUser):
    """Signs up, logs in, looks at the profile, logs out, and finds the token refused."""

    weight = 1
    wait_time = constant_throughput(USER_RATE / NEWCOMER_REQUESTS_PER_TASK)

    @task
    def sign_up_and_leave(self) -> None:
        """The whole first visit of a new customer."""
        account = self.sign_up()
        self.check(
            "profile",
            "GET",
            "/auth/profile",
            200,
            lambda b: require(b["username"] == account["username"], "someone else's profile"),
            headers=self.auth,
        )
        self.call("POST", "/auth/logout", 200, json={}, headers=self.auth)
        # Refused at once by the replica that logged out, and by every other one
        # within the gateway's validation cache bound (5 s by default).
        for attempt in range(REVOCATION_BOUND_SECONDS + 1):
            with self.client.get(
                f"{API}/portfolio",
                headers=self.auth,
                name=f"{API}/portfolio (after logout)",
                catch_response=True,
            ) as response:
                if response.status_code == 401:
                    response.success()
                    break
                if response.status_code == 200 and attempt < REVOCATION_BOUND_SECONDS:
                    response.success()
                elif response.status_code == 200:
                    response.failure("a revoked token still works after the cache bound")
                    break
                elif response.status_code != 429:
                    response.failure(f"expected 401, got {response.status_code}")
                    break
            gevent.sleep(1)
        self.token = ""


class Trader(ApiUser):
    """Deposits, buys, sells and looks at its account, checking each answer against its model."""

    weight = 6
    wait_time = constant_throughput(USER_RATE / TRADER_REQUESTS_PER_TASK)

    def on_start(self) -> None:
        """An account of its own, with cash, and the catalogue's prices."""
        self.prices: dict[str, Decimal] = {}
        self.cash = Decimal("0.00")
        self.deposited = Decimal("0.00")
        self.holdings: dict[str, Decimal] = {}
        self.in_doubt = False

    def ready(self) -> None:
        """Set up on first use (and again if setting up was cut short by a 429 or 5xx)."""
        if not self.prices:
            body = self.call("GET", "/inventory/assets?active_only=true&limit=250", 200)
            self.prices = {a["asset_id"]: money(a["price_usd"]) for a in body["data"]}
        if not self.token:
            self.sign_up()
        if self.deposited == 0:
            self.deposit_cash(FIRST_DEPOSIT)

    def on_unknown_outcome(self, method: str) -> None:
        """After a failed write the model may be wrong: re-read before the next check."""
        if method != "GET":
            self.in_doubt = True

    def resync(self) -> None:
        """Take the account as the platform has it (only after an unknown outcome)."""
        body = self.call(
            "GET", "/portfolio", 200, headers=self.auth, name=f"{API}/portfolio (resync)"
        )
        self.cash = money(body["cash_balance"])
        self.holdings = {a["asset_id"]: money(a["quantity"]) for a in body["assets"]}
        self.in_doubt = False

    def deposit_cash(self, amount: Decimal) -> None:
        """Deposit and expect the message to name the amount."""
        expected = f"Successfully deposited ${amount}"
        self.check(
            "deposit",
            "POST",
            "/balance/deposit",
            201,
            lambda b: require(b["message"] == expected, f"{b['message']!r} != {expected!r}"),
            json={"amount": str(amount)},
            headers={**self.auth, "Idempotency-Key": secrets.token_hex(16)},
        )
        self.cash += amount
        self.deposited += amount

    def compare_portfolio(self, body: Any) -> None:
        """The portfolio must show exactly the modelled cash and holdings."""
        cash = money(body["cash_balance"])
        if cash != self.cash:
            raise WrongAnswer(f"cash {cash}, expected {self.cash}")
        held = {a["asset_id"]: money(a["quantity"]) for a in body["assets"]}
        expected = {k: v for k, v in self.holdings.items() if v > 0}
        if held != expected:
            raise WrongAnswer(f"holdings {held}, expected {expected}")

    def trade(self, side: str, asset_id: str, quantity: Decimal) -> None:
        """Place a market order, then check cash and holding moved by exactly its amounts."""
        price = self.prices[asset_id]

        def valid(body: Any) -> None:
            order = body["data"]
            if (order["order_type"], order["asset_id"], order["status"]) != (
                side,
                asset_id,
                "completed",
            ):
                raise WrongAnswer(f"order came back as {order}")
            if money(order["quantity"]) != quantity or money(order["price"]) != price:
                raise WrongAnswer(
                    f"{order['quantity']} at {order['price']}, asked {quantity} at {price}"
                )
            # The total is quantity × price rounded to the cent, whichever way the platform rounds.
            if abs(money(order["total_amount"]) - quantity * price) >= CENT:
                raise WrongAnswer(f"total {order['total_amount']} for {quantity} × {price}")

        body = self.check(
            side,
            "POST",
            "/orders",
            201,
            valid,
            json={"order_type": side, "asset_id": asset_id, "quantity": str(quantity)},
            headers={**self.auth, "Idempotency-Key": secrets.token_hex(16)},
        )
        total = money(body["data"]["total_amount"])
        sign = -1 if side == "market_buy" else 1
        self.cash += sign * total
        self.holdings[asset_id] = self.holdings.get(asset_id, Decimal(0)) - sign * quantity
        self.check(
            "portfolio after the order",
            "GET",
            "/portfolio",
            200,
            self.compare_portfolio,
            headers=self.auth,
        )

    @task(3)
    def buy(self) -> None:
        """Buy about ORDER_VALUE dollars of a random asset."""
        self.ready()
        if self.in_doubt:
            self.resync()
        asset_id = random.choice(list(self.prices))
        quantity = max(MIN_QUANTITY, (ORDER_VALUE / self.prices[asset_id]).quantize(MIN_QUANTITY))
        if quantity * self.prices[asset_id] + CENT > self.cash:
            self.top_up()
            return
        self.trade("market_buy", asset_id, quantity)

    @task(2)
    def sell(self) -> None:
        """Sell half of something held (all of it when half is below the minimum)."""
        self.ready()
        if self.in_doubt:
            self.resync()
        held = [(a, q) for a, q in self.holdings.items() if q >= MIN_QUANTITY]
        if not held:
            self.buy()
            return
        asset_id, quantity = random.choice(held)
        half = (quantity / 2).quantize(MIN_QUANTITY, rounding=ROUND_DOWN)
        amount = half if half >= MIN_QUANTITY and half * self.prices[asset_id] >= CENT else quantity
        self.trade("market_sell", asset_id, amount)

    @task(3)
    def portfolio(self) -> None:
        """The portfolio matches the model."""
        self.ready()
        if self.in_doubt:
            self.resync()
            return
        self.check("portfolio", "GET", "/portfolio", 200, self.compare_portfolio, headers=self.auth)

    @task(2)
    def order_history(self) -> None:
        """The latest orders are this user's and newest first."""
        self.ready()

        def valid(body: Any) -> None:
            stamps = [order["created_at"] for order in body["data"]]
            if stamps != sorted(stamps, reverse=True) or len(stamps) > 10:
                raise WrongAnswer("order history not newest first within the limit")

        self.check("order history", "GET", "/orders?limit=10", 200, valid, headers=self.auth)

    @task(2)
    def transaction_history(self) -> None:
        """The ledger's deposits add up to what this user deposited."""
        self.ready()

        def valid(body: Any) -> None:
            if len(body["transactions"]) > 100:
                raise WrongAnswer("more transactions than the limit")
            if not body["has_more"] and not self.in_doubt:
                deposits = sum(
                    (
                        money(t["amount"])
                        for t in body["transactions"]
                        if t["transaction_type"] == "deposit"
                    ),
                    Decimal(0),
                )
                if deposits != self.deposited:
                    raise WrongAnswer(f"ledger deposits {deposits}, deposited {self.deposited}")

        self.check(
            "transactions", "GET", "/balance/transactions?limit=100", 200, valid, headers=self.auth
        )

    @task(1)
    def top_up(self) -> None:
        """Deposit a little more, within the daily limit."""
        self.ready()
        if self.deposited + TOP_UP <= DAILY_DEPOSIT_LIMIT:
            self.deposit_cash(TOP_UP)

    def on_stop(self) -> None:
        """Log out, so no session outlives the run."""
        if self.token:
            self.call("POST", "/auth/logout", (200, 401), json={}, headers=self.auth)
