"""The web UI in a real browser (Debian's chromium, driven by Playwright) against the real platform.

Every page is exercised as a user would: register, log in, deposit, trade,
look at the portfolio, log out; plus the ways it can go wrong, each of which
must end in a clear message on the page.
"""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.sync_api import Route, expect

from tests.e2e.web_user import log_in, registered_user
from tests.helpers import PASSWORD, registration, unique_username

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROTECTED = ["/dashboard", "/trade", "/portfolio", "/account"]


def test_a_new_user_registers_deposits_trades_and_logs_out(page, web):
    page.goto(f"{web}/")
    expect(page).to_have_url(f"{web}/login")
    page.click("nav >> text=Register")
    username = unique_username("ui")
    for name, value in registration(username).items():
        page.fill(f"#{name}", value)
    page.click("#register-form button[type=submit]")
    expect(page.get_by_role("status")).to_have_text("Account created. Log in to continue.")

    log_in(page, username)
    expect(page).to_have_url(f"{web}/dashboard")
    expect(page.locator("h1")).to_have_text("Welcome, Test")
    expect(page.locator("#cash")).to_have_text("$0.00")
    expect(page.locator("nav .who")).to_have_text(username)

    page.click("nav >> text=Account")
    page.fill("#deposit-amount", "1000")
    page.click("#deposit-form button")
    expect(page.get_by_role("status")).to_have_text("Deposited $1,000.00.")
    expect(page.locator("#balance")).to_have_text("$1,000.00")
    expect(page.locator("#transactions")).to_contain_text("deposit")

    page.click("nav >> text=Trade")
    page.select_option("#asset_id", "BTC")
    page.fill("#quantity", "0.001")
    page.click("#order-form button")
    expect(page.get_by_role("status")).to_contain_text("Bought 0.001 BTC at $")
    expect(page.locator("#orders tbody tr")).to_have_count(1)

    page.click("nav >> text=Portfolio")
    expect(page.locator("#holdings tbody tr")).to_have_count(2)  # BTC, and cash
    expect(page.locator("#holdings")).to_contain_text("BTC · Bitcoin")
    expect(page.locator("#holdings")).to_contain_text("0.001")

    page.click("#logout")
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    assert page.context.cookies() == []
    page.goto(f"{web}/portfolio")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fportfolio$"))


@pytest.mark.parametrize("path", PROTECTED)
def test_a_protected_page_sends_a_visitor_to_log_in_and_back(page, web, path):
    username = registered_user(web)
    page.goto(f"{web}{path}")
    expect(page).to_have_url(re.compile(rf"/login\?next=%2F{path[1:]}$"))
    log_in(page, username)
    expect(page).to_have_url(f"{web}{path}")


@pytest.mark.parametrize(
    "target", ["//evil.example/phish", "/%5Cevil.example", "https://evil.example"]
)
def test_after_login_the_page_never_leaves_the_site(page, web, target):
    username = registered_user(web)
    page.goto(f"{web}/login?next={target}")
    log_in(page, username)
    expect(page).to_have_url(f"{web}/dashboard")


def test_page_scripts_cannot_read_the_session_cookie(page, web):
    username = registered_user(web)
    page.goto(f"{web}/login")
    log_in(page, username)
    expect(page).to_have_url(f"{web}/dashboard")
    assert page.evaluate("document.cookie") == ""
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"


def test_a_wrong_password_says_so(page, web):
    username = registered_user(web)
    page.goto(f"{web}/login")
    log_in(page, username, PASSWORD + "x")
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
    expect(page).to_have_url(f"{web}/login")


def test_a_blocked_login_says_when_to_try_again(page, web):
    username = registered_user(web)
    page.goto(f"{web}/login")
    for _ in range(5):  # the gateway's default per-username budget
        log_in(page, username, PASSWORD + "x")
        expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
    log_in(page, username)  # the right password, but blocked
    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed attempts. Try again in 15 minutes."
    )


def test_registration_errors_name_the_field(page, web):
    page.goto(f"{web}/register")
    body = registration(unique_username("ui"), password="alllowercase-no-digits")
    for name, value in body.items():
        page.fill(f"#{name}", value)
    page.click("#register-form button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Check the field marked in red.")
    expect(page.locator("#password-error")).to_contain_text("A password has 12 to 128 characters")
    expect(page).to_have_url(f"{web}/register")


def test_an_order_without_the_cash_says_why(page, web):
    username = registered_user(web)
    page.goto(f"{web}/trade")
    log_in(page, username)
    expect(page).to_have_url(f"{web}/trade")
    page.select_option("#asset_id", "BTC")
    page.fill("#quantity", "0.01")
    page.click("#order-form button")
    expect(page.get_by_role("alert")).to_have_text(
        "You do not have enough cash for this order. Deposit on the Account page or buy less."
    )
    expect(page.locator("#orders")).to_have_text("No orders yet.")


def test_a_session_revoked_elsewhere_returns_tolog_in(page, web):
    username = registered_user(web)
    page.goto(f"{web}/login")
    log_in(page, username)
    expect(page).to_have_url(f"{web}/dashboard")
    # The dashboard has drawn with the live session (its own API calls are done):
    # revoking earlier would send it, not the click below, to the login page.
    expect(page.locator("#total-value")).to_be_visible()
    (cookie,) = page.context.cookies()
    # The same session logged out from another tab: the token is revoked.
    revoked = httpx.post(
        f"{web}/api/v1/auth/logout",
        json={},
        cookies={cookie["name"]: cookie["value"]},
        headers={"X-Requested-With": "cnop-web"},
        trust_env=False,
    )
    assert revoked.status_code == 200
    page.click("nav >> text=Portfolio")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fportfolio$"))


def test_a_lost_connection_is_a_readable_message(page, web):
    username = registered_user(web)
    page.goto(f"{web}/login")
    # The browser's request dies on the wire, as it would with the network down.
    page.route("**/api/v1/auth/login", lambda route: route.abort("connectionfailed"))
    log_in(page, username)
    expect(page.get_by_role("alert")).to_have_text(
        "Cannot reach the server. Check your connection and try again."
    )


def test_a_failed_logout_does_not_claim_success(page, web):
    username = registered_user(web)
    page.goto(f"{web}/login")
    log_in(page, username)
    expect(page).to_have_url(f"{web}/dashboard")
    page.route("**/api/v1/auth/logout", lambda route: route.abort("connectionfailed"))
    page.click("#logout")
    expect(page.get_by_role("alert")).to_have_text(
        "Logging out failed: Cannot reach the server. Check your connection and try again."
    )
    expect(page).to_have_url(f"{web}/dashboard")
    assert len(page.context.cookies()) == 1  # still logged in, and the page says so


def hold_in(held: list[Route]):
    """A route handler that keeps each request waiting until the test continues it."""

    # Playwright wants a Python function here: a bound list.append is refused.
    def hold(route: Route) -> None:
        held.append(route)

    return hold


def test_a_failed_logout_stays_on_screen_while_the_page_is_still_loading(page, web):
    # The dashboard's data is held back, so the logout fails while the page is
    # still drawing; the failure must survive the page finishing afterwards.
    held: list[Route] = []
    page.route("**/api/v1/portfolio", hold_in(held))
    username = registered_user(web)
    page.goto(f"{web}/login")
    log_in(page, username)
    expect(page).to_have_url(f"{web}/dashboard")
    page.route("**/api/v1/auth/logout", lambda route: route.abort("connectionfailed"))
    page.click("#logout")
    failed = "Logging out failed: Cannot reach the server. Check your connection and try again."
    expect(page.get_by_role("alert")).to_have_text(failed)
    for route in held:
        route.continue_()
    expect(page.locator("#cash")).to_have_text("$0.00")
    expect(page.get_by_role("alert")).to_have_text(failed)


def test_a_page_left_while_loading_never_draws_over_the_next(page, web):
    held: list[Route] = []
    page.route("**/api/v1/portfolio", hold_in(held))
    username = registered_user(web)
    page.goto(f"{web}/login")
    log_in(page, username)
    expect(page).to_have_url(f"{web}/dashboard")
    page.click("nav >> text=Trade")
    expect(page.locator("#order-form")).to_be_visible()
    # The dashboard's answer arrives only now; its render must see it was overtaken.
    with page.expect_console_message(
        lambda message: message.text == "render of /dashboard overtaken by a newer navigation"
    ):
        for route in held:
            route.continue_()
    expect(page).to_have_url(f"{web}/trade")
    expect(page.locator("h1")).to_have_text("Trade")
    expect(page.locator("#order-form")).to_be_visible()


def test_an_unknown_page_says_not_found(page, web):
    page.goto(f"{web}/nowhere-{secrets.token_hex(3)}")
    expect(page.locator("h1")).to_have_text("Page not found")


def test_the_browser_refuses_injected_inline_script(browser, web):
    # Proves the policy is live, and that the fixture above would see a violation.
    context = browser.new_context()
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(f"{web}/login")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = 1";
            document.body.append(script);
        }"""
    )
    assert page.evaluate("window.injected") is None
    context.close()
    assert any("Content Security Policy" in message for message in messages), messages


def test_a_price_under_a_cent_keeps_its_digits_on_the_trade_page(page, web):
    username = registered_user(web)
    page.goto(f"{web}/login")
    log_in(page, username)
    page.click("nav >> text=Trade")
    shib = page.locator("#asset_id option[value=SHIB]")
    expect(shib).to_have_text("SHIB — Shiba Inu ($0.0000245)")
    row = page.locator("table tr", has=page.get_by_role("link", name="SHIB · Shiba Inu"))
    expect(row.locator("td").nth(2)).to_have_text("$0.0000245")  # it read $0.00


def test_an_asset_page_shows_the_market_data_without_logging_in(page, web):
    detail = httpx.get(f"{web}/api/v1/inventory/assets/SHIB", trust_env=False).json()["data"]
    page.goto(f"{web}/assets/SHIB")
    expect(page.locator("h1")).to_have_text("Shiba Inu (SHIB)")
    expect(page.locator("#asset-price")).to_have_text("$0.0000245")
    market = page.locator("#asset table")
    expect(market).to_contain_text(f"+{detail['price_change_percentage_7d']}%")
    expect(market).to_contain_text(f"+{detail['price_change_percentage_30d']}%")
    expect(market).to_contain_text("$0.00002336 – $0.00002479")
    expect(market).to_contain_text(
        f"$0.00008616 {detail['ath_change_percentage']}% on Oct 28, 2021"
    )
    expect(market).to_contain_text("$0.000000000056366")
    expect(market).to_contain_text("on Nov 28, 2020")


def test_the_trade_page_links_each_asset_to_its_page(page, web):
    username = registered_user(web)
    page.goto(f"{web}/login")
    log_in(page, username)
    page.click("nav >> text=Trade")
    page.get_by_role("link", name="BTC · Bitcoin").click()
    expect(page).to_have_url(f"{web}/assets/BTC")
    expect(page.locator("h1")).to_have_text("Bitcoin (BTC)")


def test_an_unknown_asset_says_so_to_a_visitor_too(page, web):
    page.goto(f"{web}/assets/NOPE")
    expect(page.locator("h1")).to_have_text("Asset not found")
    page.click("#asset-missing >> text=See every asset and its price")
    # The assets are on the trade page, which asks a visitor to log in first.
    expect(page).to_have_url(re.compile(r"/login\?next=%2Ftrade$"))


@pytest.mark.parametrize("width", [390, 1280])
def test_after_registering_the_login_form_has_the_new_username(page, web, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{web}/register")
    username = unique_username("ui")
    for name, value in registration(username).items():
        page.fill(f"#{name}", value)
    page.click("#register-form button[type=submit]")
    expect(page.get_by_role("status")).to_have_text("Account created. Log in to continue.")
    expect(page.locator("#username")).to_have_value(username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(f"{web}/dashboard")


@pytest.mark.parametrize("width", [390, 1280])
def test_an_unknown_asset_says_so_and_leads_back_to_the_assets(page, web, width):
    page.set_viewport_size({"width": width, "height": 900})
    username = registered_user(web)
    page.goto(f"{web}/login")
    log_in(page, username)
    expect(page).to_have_url(f"{web}/dashboard")
    page.goto(f"{web}/assets/NOPE")
    expect(page.locator("h1")).to_have_text("Asset not found")
    expect(page.locator("#asset-missing")).to_contain_text("There is no asset called NOPE.")
    page.click("#asset-missing >> text=See every asset and its price")
    expect(page).to_have_url(f"{web}/trade")
    expect(page.locator("#asset_id option[value=BTC]")).to_have_count(1)
