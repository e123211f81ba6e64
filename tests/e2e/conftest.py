"""The browser the end-to-end tests drive: Debian's chromium through Playwright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from cnop_platform.local.runner import LocalPlatform
from tests.e2e.chromium import launch


# Module scope, not session: Playwright's sync API keeps an event loop running in
# this thread while it is open, and later tests call asyncio.run().
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def web(local_platform: LocalPlatform) -> str:
    return local_platform.url("web")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) whose console errors fail the test.

    Service workers are blocked here: Playwright's request interception (which
    these tests use to cut connections) does not see what a worker answers.
    tests/e2e/test_web_loading.py tests the worker."""
    context = browser.new_context(service_workers="block")
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # Failed loads (a 401, a dropped connection) are what some tests provoke; script
    # errors and CSP refusals ("Refused to ...") are what none may cause.
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield page
    context.close()
    # CSP violations and script errors land here: none is acceptable.
    assert problems == []
