"""Fixtures for the web UI's tests: a browser-like HTTP client against the real web process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cnop_platform.local.runner import LocalPlatform
from tests.helpers import PASSWORD, registration, unique_username, use_settings_environment

# What our page's script sends with every state-changing call.
PAGE_HEADERS = {"X-Requested-With": "cnop-web"}


class WebSession:
    """A browser-like client of the web UI: keeps cookies, sends the page's header."""

    def __init__(self, web_url: str) -> None:
        self.http = httpx.Client(
            base_url=web_url, headers=PAGE_HEADERS, timeout=30.0, trust_env=False
        )
        self.username = ""

    def register_and_login(self, prefix: str = "web") -> httpx.Response:
        """A new account, logged in: the session cookie is in the jar afterwards."""
        self.username = unique_username(prefix)
        registered = self.http.post("/api/v1/auth/register", json=registration(self.username))
        assert registered.status_code == 201, registered.text
        return self.login(self.username)

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        """POST /api/v1/auth/login through the web UI."""
        return self.http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )

    def close(self) -> None:
        """Release the connection pool."""
        self.http.close()


@pytest.fixture(scope="session")
def web_url(local_platform: LocalPlatform) -> str:
    """The web UI's base URL in the test platform."""
    return local_platform.url("web")


@pytest.fixture
def browser_session(web_url: str) -> Iterator[WebSession]:
    """A fresh cookie jar, nobody logged in."""
    session = WebSession(web_url)
    yield session
    session.close()


@pytest.fixture
def logged_in(web_url: str) -> Iterator[WebSession]:
    """A newly registered user, logged in through the web UI."""
    session = WebSession(web_url)
    response = session.register_and_login()
    assert response.status_code == 200, response.text
    yield session
    session.close()


@pytest.fixture(autouse=True)
def _ports_and_peers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The settings have no default ports or peer URLs (the catalogue is their home):
    # tests that build settings directly get what a runner would pass.
    use_settings_environment(monkeypatch, "web")
