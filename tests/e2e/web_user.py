"""A user of the web UI: registered through the API, logged in through the page."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page

from tests.helpers import PASSWORD, registration, unique_username


def registered_user(web: str) -> str:
    username = unique_username("ui")
    response = httpx.post(
        f"{web}/api/v1/auth/register",
        json=registration(username),
        headers={"X-Requested-With": "cnop-web"},
        trust_env=False,
    )
    assert response.status_code == 201, response.text
    return username


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
