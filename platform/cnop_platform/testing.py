"""Helpers for tests that talk to a real local platform over real sockets."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from cnop_platform.local.runner import LocalPlatform, down, up

GATEWAY_MARKERS = {"X-Source": "gateway", "X-Auth-Service": "auth-service"}
PASSWORD = "Corr3ct-Horse!Battery"  # noqa: S105 - a test account's password


@contextmanager
def running_platform(root: Path, port_offset: int, **extra_env: str) -> Iterator[LocalPlatform]:
    """A whole local platform for the duration of the block, stopped afterwards."""
    platform = LocalPlatform(root=root, port_offset=port_offset, extra_env=dict(extra_env))
    down(platform)  # leftovers of an interrupted earlier run
    try:
        up(platform)
        yield platform
    finally:
        down(platform)


class ServiceClient:
    """Calls one backend the way the gateway does: from 127.0.0.1 with its markers."""

    def __init__(self, base_url: str, username: str = "") -> None:
        headers = dict(GATEWAY_MARKERS)
        if username:
            headers["X-User-ID"] = username
            headers["X-User-Role"] = "customer"
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30.0, trust_env=False)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET with the gateway's headers."""
        return self.http.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST with the gateway's headers."""
        return self.http.post(path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        """PUT with the gateway's headers."""
        return self.http.put(path, **kwargs)

    def close(self) -> None:
        """Release the connection pool."""
        self.http.close()


class Clients:
    """The platform's backends as seen by one user ("" for no user: public routes)."""

    def __init__(self, platform: LocalPlatform, username: str) -> None:
        self.username = username
        self.user = ServiceClient(platform.url("user"), username)
        self.inventory = ServiceClient(platform.url("inventory"), username)
        self.order = ServiceClient(platform.url("order"), username)

    def close(self) -> None:
        """Release every connection pool."""
        for client in (self.user, self.inventory, self.order):
            client.close()


def unique_username(prefix: str = "user") -> str:
    """A fresh valid username (6–30 of [a-z0-9_])."""
    return f"{prefix}_{secrets.token_hex(5)}"


def registration(username: str, **overrides: Any) -> dict[str, Any]:
    """A valid registration body for `username`."""
    body: dict[str, Any] = {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "first_name": "Test",
        "last_name": "User",
    }
    body.update(overrides)
    return body


def register(platform: LocalPlatform, prefix: str = "user", deposit: str | None = None) -> Clients:
    """Register a new user (optionally with a first deposit) and return their clients."""
    username = unique_username(prefix)
    clients = Clients(platform, username)
    response = clients.user.post("/auth/register", json=registration(username))
    assert response.status_code == 201, response.text
    if deposit is not None:
        response = clients.user.post("/balance/deposit", json={"amount": deposit})
        assert response.status_code == 201, response.text
    return clients
