"""`make screenshots`: the web UI's main pages at phone and desktop width, in docs/screenshots/.

Needs the platform `make up` runs. A demo user of its own is registered (a
fresh name each time), given cash, two holdings and a withdrawal, so that every
page has something to show: the dashboard, the trade form with its estimate,
the portfolio with cash in its share column, the account page with the limits
beside its forms. Each page is opened in Debian's Chromium at 390 px and 1280
px wide and saved whole (full page). docs/screenshots.md, written last, shows
them side by side; nothing here is edited by hand.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from cnop_platform.local.ports import base_ports
from tests.e2e.chromium import launch

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
INDEX = REPO / "docs" / "screenshots.md"
WIDTHS = (390, 1280)
PASSWORD = "Screenshot-Pass-2026!"  # noqa: S105 (a throwaway local demo account)
# (file name, path, what the page must show before it is taken, caption)
PAGES = [
    ("login", "/login", "#login-form", "Log in"),
    ("dashboard", "/dashboard", "#total-value", "Dashboard"),
    ("trade", "/trade", "#estimate strong", "Trade, with the estimate of the order typed in"),
    ("portfolio", "/portfolio", "#holdings table", "Portfolio, cash in the share column"),
    ("account", "/account", "#transactions table", "Account, the limits beside the forms"),
    ("asset", "/assets/BTC", "#asset-price", "An asset's page"),
]
SAME_SITE = {"X-Requested-With": "cnop-web"}


def demo_user(web: str) -> str:
    """A registered user with cash, two holdings and a withdrawal: what each page shows."""
    username = f"demo_{secrets.token_hex(4)}"
    with httpx.Client(base_url=web, trust_env=False, timeout=20) as http:
        register = {
            "username": username,
            "email": f"{username}@example.com",
            "password": PASSWORD,
            "first_name": "Dana",
            "last_name": "Demo",
        }
        _ok(http.post("/api/v1/auth/register", json=register, headers=SAME_SITE))
        login = {"username": username, "password": PASSWORD}
        _ok(http.post("/api/v1/auth/login", json=login, headers=SAME_SITE))
        for path, body in [
            ("/api/v1/balance/deposit", {"amount": "5000"}),
            ("/api/v1/orders", {"order_type": "market_buy", "asset_id": "BTC", "quantity": "0.02"}),
            (
                "/api/v1/orders",
                {"order_type": "market_buy", "asset_id": "SHIB", "quantity": "20000000"},
            ),
            ("/api/v1/balance/withdraw", {"amount": "250"}),
        ]:
            key = {"Idempotency-Key": secrets.token_hex(16)}
            _ok(http.post(path, json=body, headers={**SAME_SITE, **key}))
    return username


def _ok(response: httpx.Response) -> None:
    if response.status_code >= 400:
        sys.exit(f"{response.request.method} {response.request.url.path}: {response.text}")


def shoot(page: Page, web: str, name: str, path: str, ready: str, *, width: int, out: Path) -> Path:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{web}{path}")
    if name == "trade":
        page.select_option("#asset_id", "ETH")
        page.fill("#quantity", "1.5")
    page.locator(ready).first.wait_for()
    target = out / f"{name}-{width}.png"
    page.screenshot(path=str(target), full_page=True)
    return target


def index_text() -> str:
    """docs/screenshots.md: each page at both widths, side by side."""
    rows = [
        "# The web UI, page by page",
        "",
        "Written by `make screenshots` (tools/screenshots.py) from the platform `make up`",
        "runs, at a phone's width (390 px) and a desktop's (1280 px). Do not edit by hand.",
        "",
    ]
    for name, path, _ready, caption in PAGES:
        rows += [
            f"## {caption} (`{path}`)",
            "",
            "| 390 px | 1280 px |",
            "|---|---|",
            f"| ![{name} at 390 px](screenshots/{name}-390.png) "
            f"| ![{name} at 1280 px](screenshots/{name}-1280.png) |",
            "",
        ]
    return "\n".join(rows)


def take_all(web: str, out: Path) -> list[Path]:
    """Every page at every width, as a new demo user; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    username = demo_user(web)
    taken = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(service_workers="block").new_page()
        (login, *pages) = PAGES
        for width in WIDTHS:  # logged out
            taken.append(shoot(page, web, *login[:3], width=width, out=out))
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(f"{web}/dashboard")
        for width in WIDTHS:
            for name, path, ready, _caption in pages:
                taken.append(shoot(page, web, name, path, ready, width=width, out=out))
        browser.close()
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    default = f"http://127.0.0.1:{base_ports()['web']}"
    parser.add_argument("--web", default=default, help=f"the web UI (default {default})")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNG files go")
    args = parser.parse_args()
    for path in take_all(args.web.rstrip("/"), args.out):
        print(path)
    if args.out == OUT:
        INDEX.write_text(index_text())
        print(INDEX.relative_to(REPO))


if __name__ == "__main__":
    main()
