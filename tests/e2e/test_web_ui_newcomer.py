"""A newcomer's first hour in the web UI (issue 24): a phone layout that fits,
sentences instead of validation text, one message per action, numbers written
one way everywhere, the limits beside the forms, and the small gaps (where to
deposit first, what an order will cost, cash in the portfolio's shares, a way
to trade from an asset's page). Each in Debian's Chromium at phone and desktop
width, against the real platform.
"""

from __future__ import annotations

import ast
import json
import random
import re
import secrets
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cnop_order.models import OrderRequest
from cnop_user.models import AmountRequest, ProfileUpdate, RegisterRequest
from cnop_web.assets import AssetBundle
from tests.e2e.web_user import log_in, registered_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PHONE, DESKTOP = 390, 1280
WIDTHS = [PHONE, DESKTOP]
SAME_SITE = {"X-Requested-With": "cnop-web", "Content-Type": "application/json"}
# The API's raw validation text, which must never reach the page.
RAW_VALIDATION = re.compile(r"Value error|Input should|plain decimal|loc|msg")


def _at(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})


def _logged_in(page: Page, web: str, width: int, path: str = "/dashboard") -> str:
    _at(page, width)
    username = registered_user(web)
    page.goto(f"{web}/login?next={path}")
    log_in(page, username)
    expect(page).to_have_url(f"{web}{path}")
    return username


def _call(page: Page, web: str, path: str, body: dict[str, str]) -> dict[str, Any]:
    """One API call with the page's session (its cookie), as the page's own script makes it."""
    response = page.request.post(
        f"{web}/api/v1{path}",
        data=json.dumps(body),
        headers={**SAME_SITE, "Idempotency-Key": secrets.token_hex(16)},
    )
    assert response.ok, response.text()
    result: dict[str, Any] = response.json()
    return result


def _holdings(page: Page, web: str) -> None:
    """$5,000 in, BTC and 20 million SHIB bought, $250 out: every table has rows."""
    _call(page, web, "/balance/deposit", {"amount": "5000"})
    _call(page, web, "/orders", {"order_type": "market_buy", "asset_id": "BTC", "quantity": "0.02"})
    order = {"order_type": "market_buy", "asset_id": "SHIB", "quantity": "20000000"}
    _call(page, web, "/orders", order)
    _call(page, web, "/balance/withdraw", {"amount": "250"})


def _module(page: Page, web: str, name: str) -> str:
    """The published (content-hashed) URL of a static module, as the server names it."""
    return f"{web}/static/{AssetBundle().public[name]}"


# --- layout -------------------------------------------------------------------

PAGES = {
    "/dashboard": "#total-value",
    "/trade": "#orders table",
    "/portfolio": "#holdings table",
    "/account": "#transactions table",
    "/assets/SHIB": "#asset-price",
}


@pytest.mark.parametrize("width", [360, PHONE, DESKTOP])
def test_every_page_fits_the_screen_and_wide_tables_scroll_inside_their_card(page, web, width):
    _logged_in(page, web, width)
    _holdings(page, web)
    for path, ready in PAGES.items():
        page.goto(f"{web}{path}")
        expect(page.locator(ready)).to_be_visible()
        layout = page.evaluate(
            """() => {
                const edge = (node) => node.getBoundingClientRect().right;
                return {
                    page: document.documentElement.scrollWidth,
                    screen: window.innerWidth,
                    header: document.querySelector("header.bar").getBoundingClientRect().width,
                    nav: [...document.querySelectorAll("nav a, nav button, nav .who")]
                        .map((node) => [node.textContent, edge(node)]),
                    tables: [...document.querySelectorAll(".scroll")].map((box) => ({
                        box: edge(box), card: edge(box.closest("section.card")),
                        inner: box.scrollWidth, outer: box.clientWidth,
                    })),
                };
            }"""
        )
        assert layout["page"] <= layout["screen"] == width, (path, layout)
        assert layout["header"] == width, (path, layout)  # its background spans the screen
        assert [name for name, right in layout["nav"] if right > width] == [], (path, layout)
        assert "Log out" in [name for name, _ in layout["nav"]]
        for table in layout["tables"]:
            assert table["box"] <= table["card"], (path, table)
        if width == 360 and path == "/account":
            # The transactions table is wider than a phone: it scrolls in its box.
            assert any(t["inner"] > t["outer"] for t in layout["tables"]), layout


# --- messages -------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_a_bad_amount_gets_a_sentence_under_its_field(page, web, width):
    _logged_in(page, web, width, "/account")
    page.fill("#deposit-amount", "abc")
    page.click("#deposit-form button")
    note = page.locator("#deposit-amount-error")
    expect(note).to_have_text(
        "Enter an amount in dollars above zero, like 250 or 99.95 "
        "(digits and at most two decimals, no commas)."
    )
    amount = page.locator("#deposit-amount")
    expect(amount).to_have_attribute("aria-describedby", "deposit-amount-error")
    expect(page.get_by_role("alert")).to_have_text("Check the field marked in red.")
    # Under the field, in the same card: no hunting for it.
    below = page.evaluate(
        """() => document.querySelector("#deposit-amount").getBoundingClientRect().bottom
                 <= document.querySelector("#deposit-amount-error").getBoundingClientRect().top"""
    )
    assert below
    assert not RAW_VALIDATION.search(page.locator("main").inner_text())


@pytest.mark.parametrize("width", WIDTHS)
def test_a_zero_quantity_gets_a_sentence_under_its_field(page, web, width):
    _logged_in(page, web, width, "/trade")
    page.fill("#quantity", "0")
    page.click("#order-form button")
    expect(page.locator("#quantity-error")).to_have_text(
        "Enter a quantity of at least 0.001, like 0.5 "
        "(digits and at most eight decimals, no commas)."
    )
    assert not RAW_VALIDATION.search(page.locator("main").inner_text())


@pytest.mark.parametrize("width", WIDTHS)
def test_registration_marks_each_field_it_refuses(page, web, width):
    _at(page, width)
    page.goto(f"{web}/register")
    page.fill("#username", "someone_new_" + secrets.token_hex(3))
    page.fill("#email", "someone@example.com")
    page.fill("#password", "alllowercase-no-digits")
    page.fill("#first_name", "Ann3")
    page.fill("#last_name", "Lee")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#password-error")).to_contain_text("12 to 128 characters, with an")
    expect(page.locator("#first_name-error")).to_contain_text("letters, spaces, apostrophes")
    expect(page.locator(".field-error")).to_have_count(2)
    expect(page.get_by_role("alert")).to_have_text("Check the fields marked in red.")


@pytest.mark.parametrize("width", WIDTHS)
def test_what_the_user_has_is_the_reason_given_first(page, web, width):
    _logged_in(page, web, width, "/account")
    _call(page, web, "/balance/deposit", {"amount": "663.75"})
    buy = {"order_type": "market_buy", "asset_id": "BTC", "quantity": "0.005"}
    _call(page, web, "/orders", buy)
    page.reload()
    page.fill("#withdraw-amount", "99999")
    page.click("#withdraw-form button")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("You cannot withdraw more than your cash balance.")

    page.goto(f"{web}/trade?asset=BTC&side=market_sell")
    page.fill("#quantity", "5")
    page.click("#order-form button")
    expect(alert).to_have_text("You hold less of this asset than you are trying to sell.")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_daily_limit_names_the_limit(page, web, width):
    _logged_in(page, web, width, "/account")
    _call(page, web, "/balance/deposit", {"amount": "6000"})
    page.reload()
    page.fill("#withdraw-amount", "5500")
    page.click("#withdraw-form button")
    expect(page.get_by_role("alert")).to_have_text(
        "This would take today's withdrawals over the daily limit of $5,000.00. "
        "Try a smaller amount, or tomorrow (days run on UTC)."
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_one_action_one_message(page, web, width):
    _logged_in(page, web, width, "/account")
    page.fill("#deposit-amount", "5000000")  # above the largest deposit
    page.click("#deposit-form button")
    expect(page.locator("#deposit-amount-error")).to_be_visible()
    page.fill("#deposit-amount", "20")
    page.click("#deposit-form button")
    expect(page.get_by_role("status")).to_have_text("Deposited $20.00.")
    page.fill("#withdraw-amount", "5")
    page.click("#withdraw-form button")
    expect(page.get_by_role("status")).to_have_text("Withdrew $5.00.")
    # Only the last action speaks: the deposit's notice and its old field error are gone.
    expect(page.locator("main .notice, main .error, main .field-error")).to_have_count(1)
    expect(page.locator("#deposit-amount")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#balance")).to_have_text("$15.00")


# --- limits, estimate and the small gaps ----------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_each_form_shows_the_limits_it_is_held_to(page, web, width):
    _logged_in(page, web, width, "/account")
    expect(page.locator("#deposit-form + .status + .rule")).to_have_text(
        "Up to $1,000,000.00 per deposit and $10,000.00 a day."
    )
    expect(page.locator("#withdraw-form + .status + .rule")).to_have_text(
        "Up to $5,000.00 a day, and no more than your cash balance. Days run on UTC."
    )
    page.click("nav >> text=Trade")
    expect(page.locator("#estimate")).to_contain_text("Orders are worth at most $10,000.00 each.")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_trade_form_estimates_the_order_before_it_is_placed(page, web, width):
    _logged_in(page, web, width, "/trade")
    btc = page.request.get(f"{web}/api/v1/inventory/assets/BTC").json()["data"]["price_usd"]
    assert Decimal(btc) == Decimal("67250.00")  # the seeded catalogue this reads from
    page.select_option("#asset_id", "BTC")
    page.fill("#quantity", "0.001")
    line = page.locator("#estimate")
    expect(line).to_contain_text("Estimated cost: $67.25 (0.001 × $67,250.00).")
    page.select_option("#order_type", "market_sell")
    expect(line).to_contain_text("Estimated proceeds: $67.25")
    page.fill("#quantity", "1")
    expect(line).to_contain_text("That is above the $10,000.00 limit per order.")
    page.fill("#quantity", "1,5")  # not a number the API takes: no estimate
    expect(line).to_have_text(
        "Enter a quantity to see what it pays. Orders are worth at most $10,000.00 each."
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_an_empty_dashboard_points_to_deposits(page, web, width):
    _logged_in(page, web, width)
    expect(page.locator("#get-started")).to_contain_text("Your account has no cash yet.")
    page.click("#get-started a")
    expect(page).to_have_url(f"{web}/account")
    expect(page.locator("#deposit-amount")).to_be_visible()
    _call(page, web, "/balance/deposit", {"amount": "1"})
    page.goto(f"{web}/dashboard")
    expect(page.locator("#cash")).to_have_text("$1.00")
    expect(page.locator("#get-started")).to_have_count(0)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_portfolio_shows_cash_in_the_share_column(page, web, width):
    _logged_in(page, web, width, "/portfolio")
    _holdings(page, web)
    portfolio = page.request.get(f"{web}/api/v1/portfolio").json()
    page.reload()
    rows = page.locator("#holdings tbody tr")
    expect(rows).to_have_count(3)
    cash = rows.filter(has_text="Cash").locator("td")
    expect(cash.nth(3)).to_have_text(f"${Decimal(portfolio['cash_balance']):,.2f}")
    share = (Decimal(portfolio["cash_balance"]) * 100 / Decimal(portfolio["total_value"])).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    expect(cash.nth(4)).to_have_text(f"{share}%")
    shib = rows.filter(has_text="SHIB").locator("td")
    expect(shib.nth(1)).to_have_text("20,000,000")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_asset_page_leads_to_trading_that_asset(page, web, width):
    _logged_in(page, web, width)
    page.goto(f"{web}/assets/ETH")
    page.click("#sell-asset")
    expect(page).to_have_url(f"{web}/trade?asset=ETH&side=market_sell")
    expect(page.locator("#asset_id")).to_have_value("ETH")
    expect(page.locator("#order_type")).to_have_value("market_sell")
    page.goto(f"{web}/assets/ETH")
    page.click("#buy-asset")
    expect(page.locator("#asset_id")).to_have_value("ETH")
    expect(page.locator("#order_type")).to_have_value("market_buy")


def test_a_visitor_who_clicks_buy_lands_on_that_asset_after_logging_in(page, web):
    username = registered_user(web)
    page.goto(f"{web}/assets/ETH")
    page.click("#buy-asset")
    expect(page).to_have_url(
        re.compile(r"/login\?next=%2Ftrade%3Fasset%3DETH%26side%3Dmarket_buy$")
    )
    log_in(page, username)
    expect(page).to_have_url(f"{web}/trade?asset=ETH&side=market_buy")
    expect(page.locator("#asset_id")).to_have_value("ETH")


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_and_messages_write_numbers_one_way(page, web, width):
    _logged_in(page, web, width, "/account")
    _holdings(page, web)
    page.reload()
    transactions = page.locator("#transactions")
    expect(transactions).to_contain_text("-$490.00")  # the SHIB order's payment
    expect(transactions).to_contain_text("$5,000.00")
    page.fill("#deposit-amount", "5000")
    page.click("#deposit-form button")
    expect(page.get_by_role("status")).to_have_text("Deposited $5,000.00.")
    page.goto(f"{web}/trade")
    page.select_option("#asset_id", "SHIB")
    page.fill("#quantity", "1000000")
    page.click("#order-form button")
    bought = "Bought 1,000,000 SHIB at $0.0000245 for $24.50."
    expect(page.get_by_role("status")).to_have_text(bought)
    expect(page.locator("#orders")).to_contain_text("20,000,000")
    page.goto(f"{web}/assets/SHIB")
    # How far SHIB is above its all-time low:
    expect(page.locator("#asset")).to_contain_text("+43,465,819.17%")


# --- the modules themselves, in the browser ------------------------------------------


def _in_browser(page: Page, web: str, module: str, calls: list[list[Any]]) -> list[Any]:
    """Each [function, *arguments] run against the published module; their results."""
    page.goto(f"{web}/login")
    return list(
        page.evaluate(
            """async ([url, calls]) => {
                const module = await import(url);
                return calls.map(([name, ...args]) => module[name](...args));
            }""",
            [_module(page, web, module), calls],
        )
    )


FORMATS: list[tuple[list[Any], object]] = [
    (["money", "-490"], "-$490.00"),
    (["money", "5000"], "$5,000.00"),
    (["money", "1234567.891"], "$1,234,567.89"),
    (["money", "0.005"], "$0.01"),
    (["money", "-0.004"], "$0.00"),
    (["money", "abc"], "abc"),
    (["price", "0.0000245"], "$0.0000245"),
    (["price", "0.5"], "$0.50"),
    (["price", "-0.25"], "-$0.25"),
    (["price", "67250"], "$67,250.00"),
    (["price", "1"], "$1.00"),
    (["quantity", "20000000.00000000"], "20,000,000"),
    (["quantity", "0.00100000"], "0.001"),
    (["quantity", "1234.5000"], "1,234.5"),
    (["quantity", "0"], "0"),
    (["percent", "43465819.17"], "+43,465,819.17%"),
    (["percent", "-0.62"], "-0.62%"),
    (["percent", "0.00"], "+0.00%"),
    (["percent", "12.50", False], "12.50%"),
    (["estimate", "0.001", "67250.00", "market_buy"], "67.25"),
    (["estimate", "0.0015", "0.333", "market_buy"], "0.01"),  # 0.0004995 rounds up for a buy
    (["estimate", "0.0015", "0.333", "market_sell"], "0.00"),  # and down for a sell
    (["estimate", "0.123456789", "1", "market_buy"], None),  # nine decimals: the API refuses
    (["estimate", "0", "1", "market_buy"], None),
    (["estimate", "-1", "1", "market_buy"], None),
    (["estimate", "1e3", "1", "market_buy"], None),
    (["share", "2915.00", "4750.00"], "61.37"),
    (["share", "1", "3"], "33.33"),
    (["share", "2", "3"], "66.67"),
    (["share", "1", "0"], None),
    (["compare", "10000.01", "10000.00"], 1),
    (["compare", "9999.99", "10000"], -1),
    (["compare", "10000", "10000.00"], 0),
    (["compare", "-1", "0.5"], -1),
    (["count", "1204"], "1,204"),
]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_formatting_module(page, web, width):
    _at(page, width)
    calls = [call for call, _ in FORMATS]
    assert _in_browser(page, web, "format.js", calls) == [want for _, want in FORMATS]


def test_money_rounds_half_up_to_the_cent_like_decimal(page, web):
    rng = random.Random(24)
    values = []
    for _ in range(300):
        whole = str(rng.randrange(10 ** rng.randrange(1, 16)))
        fraction = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 19)))
        sign = rng.choice(["", "-"])
        values.append(f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}")
    got = _in_browser(page, web, "format.js", [["money", v] for v in values])
    for value, text in zip(values, got, strict=True):
        cents = Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)
        want = f"-${-cents:,.2f}" if cents < 0 else f"${cents:,.2f}"
        assert text == want, value


def _error_codes() -> set[str]:
    """Every UPPER_SNAKE string in the services' code that is an error code."""
    not_codes = {
        "OTEL_EXPORTER_OTLP_ENDPOINT", "PAY_PER_REQUEST", "PROMETHEUS_MULTIPROC_DIR",
        "WORKER_FD", "WORKER_SUPERVISOR_PID",
    }  # fmt: skip
    snake = re.compile(r"^[A-Z]+(?:_[A-Z]+)+$")
    found = {"CONFLICT"}  # the one code of a single word
    for path in REPO.glob("services/*/cnop_*/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and snake.match(text):
                found.add(text)
    return found - not_codes


def test_every_error_code_the_services_send_has_a_sentence(page, web):
    codes = _error_codes()
    assert {"INSUFFICIENT_BALANCE", "LOGIN_BLOCKED", "VALIDATION_ERROR"} <= codes
    page.goto(f"{web}/login")
    said = page.evaluate(
        """async (url) => {
            const { CODE_SENTENCES } = await import(url);
            return Object.fromEntries(Object.entries(CODE_SENTENCES).map(
                ([code, say]) => [code, say({ action: "withdraw", limits: {
                    order_value_cap: "10000.00", daily_deposit_limit: "10000.00",
                    daily_withdraw_limit: "5000.00" }, retryAfter: 61 })]));
        }""",
        _module(page, web, "messages.js"),
    )
    assert sorted(codes - said.keys()) == []
    for code, text in said.items():
        assert text.endswith("."), (code, text)
        assert not re.search(r"undefined|NaN|null", text), (code, text)
    assert said["LOGIN_BLOCKED"] == "Too many failed attempts. Try again in 2 minutes."
    assert said["DAILY_LIMIT_EXCEEDED"].startswith(
        "This would take today's withdrawals over the daily limit of $5,000.00."
    )


def test_every_field_a_form_sends_has_a_sentence(page, web):
    fields = set()
    for model in (RegisterRequest, ProfileUpdate, AmountRequest, OrderRequest):
        fields |= set(model.model_fields)
    fields -= {"marketing_emails_consent"}  # no form sends it: false by default
    page.goto(f"{web}/login")
    named = page.evaluate(
        "async (url) => Object.keys((await import(url)).FIELD_SENTENCES)",
        _module(page, web, "messages.js"),
    )
    assert sorted(fields - set(named)) == []
