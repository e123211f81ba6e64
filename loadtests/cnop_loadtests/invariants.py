"""After a run nothing was lost: every account the load created adds up (read through the API).

For every account: no negative cash or holding; cash = deposits − withdrawals
− buys + sells (the orders' totals); the ledger's order entries match the
orders; each holding = bought − sold; and no order's total was rounded in the
trader's favour (a buy never below quantity × price, a sell never above),
which a self-consistent ledger cannot show. A violation names the account.
"""

from __future__ import annotations

import ipaddress
import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

PAGE = 100
# The checker logs in once per account; spread over addresses so the per-address
# limits see many clients, as they did during the run.
CHECKER_NETWORK = "127.2.0.0/16"
MAX_RETRY_AFTER_SECONDS = 30
# How long one request may wait out 429s and 503s in all: a platform that stays down
# (auth stopped) must end the check, with the accounts unread counted as violations.
RETRY_BUDGET_SECONDS = 20
# The whole check, however many accounts: unread ones are reported, never skipped silently.
CHECK_BUDGET_SECONDS = 180


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant of one account."""

    username: str
    problem: str

    def __str__(self) -> str:
        return f"{self.username}: {self.problem}"


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, Decimal(0))


def check_account(
    username: str,
    portfolio: dict[str, Any],
    transactions: list[dict[str, Any]],
    orders: list[dict[str, Any]],
) -> list[Violation]:
    """Every invariant of one account, from what the API shows of it."""
    problems: list[str] = []
    cash = Decimal(portfolio["cash_balance"])
    holdings = {a["asset_id"]: Decimal(a["quantity"]) for a in portfolio["assets"]}
    if cash < 0:
        problems.append(f"negative cash {cash}")
    problems += [f"negative {asset} holding {q}" for asset, q in holdings.items() if q < 0]

    by_type: dict[str, Decimal] = {}
    for entry in transactions:
        kind = entry["transaction_type"]
        by_type[kind] = by_type.get(kind, Decimal(0)) + Decimal(entry["amount"])
    completed = [o for o in orders if o["status"] == "completed"]
    buys = _sum(Decimal(o["total_amount"]) for o in completed if o["order_type"] == "market_buy")
    sells = _sum(Decimal(o["total_amount"]) for o in completed if o["order_type"] == "market_sell")
    deposits = by_type.get("deposit", Decimal(0))
    withdrawals = -by_type.get("withdraw", Decimal(0))  # ledger amounts are signed
    expected_cash = deposits - withdrawals - buys + sells
    if cash != expected_cash:
        problems.append(
            f"cash {cash} != deposits {deposits} − withdrawals {withdrawals}"
            f" − buys {buys} + sells {sells} = {expected_cash}"
        )
    if -by_type.get("order_payment", Decimal(0)) != buys:
        problems.append(f"ledger order payments {by_type.get('order_payment')} != buys {buys}")
    if by_type.get("order_sale", Decimal(0)) != sells:
        problems.append(f"ledger order sales {by_type.get('order_sale')} != sells {sells}")

    problems += _favourable_roundings(completed)
    expected_holdings: dict[str, Decimal] = {}
    for order in completed:
        sign = 1 if order["order_type"] == "market_buy" else -1
        asset = order["asset_id"]
        expected_holdings[asset] = expected_holdings.get(asset, Decimal(0)) + sign * Decimal(
            order["quantity"]
        )
    expected_holdings = {a: q for a, q in expected_holdings.items() if q != 0}
    if holdings != expected_holdings:
        problems.append(f"holdings {holdings} != bought − sold {expected_holdings}")
    return [Violation(username, problem) for problem in problems]


def _favourable_roundings(orders: list[dict[str, Any]]) -> list[str]:
    """Orders whose cash total beats their exact value for the trader."""
    found = []
    for order in orders:
        if "price" not in order:
            continue
        exact = Decimal(order["quantity"]) * Decimal(order["price"])
        total = Decimal(order["total_amount"])
        buy = order["order_type"] == "market_buy"
        if (buy and total < exact) or (not buy and total > exact):
            side = "paid" if buy else "received"
            found.append(
                f"order {order.get('order_id', '?')} {side} {total} for {order['quantity']}"
                f" × {order['price']} = {exact}: rounded in the trader's favour"
            )
    return found


class AccountReader:
    """Reads accounts through a gateway: logs in as each, then pages through its history."""

    def __init__(self, gateway: str, source_network: str | None = CHECKER_NETWORK) -> None:
        self.api = f"{gateway.rstrip('/')}/api/v1"
        local = gateway.startswith(("http://127.", "http://localhost"))
        hosts = ipaddress.ip_network(source_network).hosts() if local and source_network else None
        self._addresses: Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address] | None = (
            itertools.cycle(itertools.islice(hosts, 4096)) if hosts else None
        )

    def _client(self) -> httpx.Client:
        address = str(next(self._addresses)) if self._addresses else None
        transport = httpx.HTTPTransport(local_address=address) if address else None
        return httpx.Client(base_url=self.api, timeout=30.0, trust_env=False, transport=transport)

    def violations(self, username: str, password: str) -> list[Violation]:
        """Every broken invariant of one account (a failure to read it is one too)."""
        with self._client() as http:
            login = _send(
                http, "POST", "/auth/login", json={"username": username, "password": password}
            )
            if login.status_code != 200:
                return [Violation(username, f"cannot log in to check it: {login.status_code}")]
            http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            try:
                portfolio = _get(http, "/portfolio")
                transactions = _pages(http, "/balance/transactions", "transactions")
                orders = _pages(http, "/orders", "data")
            except httpx.HTTPStatusError as exc:
                return [Violation(username, f"cannot read it: {exc.response.status_code}")]
            finally:
                _send(http, "POST", "/auth/logout", json={})
        return check_account(username, portfolio, transactions, orders)


def _send(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request that waits out a 429 or 503 (bounded): a limit or an open breaker is not a loss."""
    deadline = time.monotonic() + RETRY_BUDGET_SECONDS
    while True:
        response = http.request(method, path, **kwargs)
        if response.status_code not in (429, 503) or time.monotonic() > deadline:
            return response
        wait = min(float(response.headers.get("Retry-After", "1")), MAX_RETRY_AFTER_SECONDS)
        wait = min(wait, max(0.0, deadline - time.monotonic()))
        time.sleep(wait)


def _get(http: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    response = _send(http, "GET", path, params=params)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _pages(http: httpx.Client, path: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for offset in itertools.count(0, PAGE):
        body = _get(http, path, limit=PAGE, offset=offset)
        items += body[key]
        if not body["has_more"]:
            return items
    return items  # unreachable: count() never ends


def check_accounts(gateway: str, accounts: list[dict[str, str]]) -> list[Violation]:
    """Every violation in every account the run created."""
    reader = AccountReader(gateway)
    found: list[Violation] = []
    deadline = time.monotonic() + CHECK_BUDGET_SECONDS
    for checked, account in enumerate(accounts):
        if time.monotonic() > deadline:
            left = len(accounts) - checked
            found.append(Violation("(unchecked)", f"{left} accounts not read in time"))
            break
        found += reader.violations(account["username"], account["password"])
    return found
