"""Helpers for tests that talk to a real local platform over real sockets."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from cnop_catalogue import BY_NAME
from cnop_common.assertions import Signer
from cnop_platform.local.ports import admin_port
from cnop_platform.local.processes import end
from cnop_platform.local.runner import LocalPlatform, down, running_pid, start, up, wait_ready

T = TypeVar("T")

GATEWAY_MARKERS = {"X-Source": "gateway", "X-Auth-Service": "auth-service"}
PASSWORD = "Corr3ct-Horse!Battery"


@contextmanager
def running_platform(
    root: Path,
    port_offset: int,
    *,
    env: Mapping[str, str] | None = None,
    monitoring: bool = False,
    time_scale: float = 1.0,
) -> Iterator[LocalPlatform]:
    """A whole local platform for the duration of the block, stopped afterwards."""
    platform = LocalPlatform(
        root=root,
        port_offset=port_offset,
        extra_env=dict(env or {}),
        monitoring=monitoring,
        time_scale=time_scale,
        persistent_store=False,
    )
    down(platform)  # leftovers of an interrupted earlier run
    # Each run reads only its own log lines, and counts from nothing: the limits
    # store keeps its data on disk between runs (`make up` wants that; a test not).
    shutil.rmtree(platform.root / "log", ignore_errors=True)
    shutil.rmtree(platform.root / "data", ignore_errors=True)
    try:
        up(platform)
        yield platform
    finally:
        down(platform)


def restore_processes(platform: LocalPlatform) -> None:
    """Bring back whatever a test that stops or freezes processes left behind:
    every process of the platform running, none frozen, each ready."""
    for name in platform.names():
        pid = running_pid(platform, name)
        if pid is None:
            start(platform, name)
        else:
            os.kill(pid, signal.SIGCONT)  # a no-op unless a failed test left it frozen
        wait_ready(platform, name)


def signer_of(platform: LocalPlatform, service: str) -> Signer:
    """A service's own identity key in a local platform (tests stand in for that service)."""
    return Signer.load(platform.identity_keys()[service])


def asserted(
    platform: LocalPlatform,
    audience: str,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    issuer: str = "gateway",
    username: str = "",
) -> dict[str, str]:
    """The signature headers of one call from `issuer` to `audience` (`target`: the raw
    path and query exactly as sent; `body`: exactly the bytes sent)."""
    return signer_of(platform, issuer).sign(
        method,
        target,
        body,
        audience,
        subject=username or None,
        role="customer" if username else None,
    )


def signing_hook(
    signer: Signer, audience: str, username: str = ""
) -> Callable[[httpx.Request], None]:
    """An httpx request hook that signs each request as it is sent (its final bytes)."""

    def sign(request: httpx.Request) -> None:
        if "signature" in request.headers:
            return  # a test that signed this request itself
        request.headers.update(
            signer.sign(
                request.method,
                request.url.raw_path.decode("ascii"),
                request.content,
                audience,
                subject=username or None,
                role="customer" if username else None,
            )
        )

    return sign


def signed_client(
    platform: LocalPlatform,
    audience: str,
    *,
    issuer: str = "gateway",
    username: str = "",
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    """A client whose every request `issuer` signs for `audience` (and `username`)."""
    return httpx.Client(
        headers=dict(headers or {}),
        timeout=30.0,
        trust_env=False,
        event_hooks={"request": [signing_hook(signer_of(platform, issuer), audience, username)]},
    )


def signed_by(
    platform: LocalPlatform, issuer: str, audience: str, username: str = ""
) -> Callable[[httpx.Request], httpx.Request]:
    """An httpx `auth=` that signs the request, as sent, as `issuer` calling `audience`."""
    sign = signing_hook(signer_of(platform, issuer), audience, username)

    def auth(request: httpx.Request) -> httpx.Request:
        sign(request)
        return request

    return auth


class ServiceClient:
    """Calls one backend the way the gateway does: from 127.0.0.1 with its markers,
    and, when given the gateway's key, its signature on every request."""

    def __init__(
        self, base_url: str, username: str = "", *, signer: Signer | None = None, audience: str = ""
    ) -> None:
        headers = dict(GATEWAY_MARKERS)
        if username:
            headers["X-User-ID"] = username
            headers["X-User-Role"] = "customer"
        hooks = [signing_hook(signer, audience, username)] if signer is not None else []
        self.http = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=30.0,
            trust_env=False,
            event_hooks={"request": hooks},
        )

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
        gateway = signer_of(platform, "gateway")
        self.user = ServiceClient(platform.url("user"), username, signer=gateway, audience="user")
        self.inventory = ServiceClient(
            platform.url("inventory"), username, signer=gateway, audience="inventory"
        )
        self.order = ServiceClient(
            platform.url("order"), username, signer=gateway, audience="order"
        )

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


class GatewayUser:
    """A user of the public API: registered and logged in through the gateway."""

    def __init__(self, base_url: str, username: str, token: str) -> None:
        self.base_url = base_url
        self.username = username
        self.token = token
        self.http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=30.0, trust_env=False)

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header of this user's token."""
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET with this user's token."""
        return self.http.get(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST with this user's token."""
        return self.http.post(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def close(self) -> None:
        """Release the connection pool."""
        self.http.close()


def login(base_url: str, username: str, password: str = PASSWORD) -> httpx.Response:
    """POST /api/v1/auth/login through a gateway."""
    return httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"username": username, "password": password},
        timeout=30.0,
        trust_env=False,
    )


def gateway_user(base_url: str, prefix: str = "gw", deposit: str | None = None) -> GatewayUser:
    """Register through the gateway, log in, optionally deposit; return the user."""
    username = unique_username(prefix)
    response = httpx.post(
        f"{base_url}/api/v1/auth/register", json=registration(username), trust_env=False
    )
    assert response.status_code == 201, response.text
    logged_in = login(base_url, username)
    assert logged_in.status_code == 200, logged_in.text
    user = GatewayUser(base_url, username, logged_in.json()["access_token"])
    if deposit is not None:
        assert user.post("/balance/deposit", json={"amount": deposit}).status_code == 201
    return user


@contextmanager
def extra_process(
    platform: LocalPlatform, component: str, port: int, *, wait_for: str = "/ready", **env: str
) -> Iterator[str]:
    """Another replica of a component on `port` (its peers: the platform's), stopped after.

    Its /metrics go to admin_port(port) unless ADMIN_PORT is given: never the platform's
    own. `port` comes from cnop_platform.local.ports.EXTRA_PROCESSES.
    It is up when `wait_for` answers 200 (/health for one whose peers are meant to be down)."""
    environment = platform.environment(component)
    environment.update({"PORT": str(port), "ADMIN_PORT": str(admin_port(port)), **env})
    environment["LOG_FILE"] = str(platform.root / "log" / f"{component}-{port}.jsonl")
    output = (platform.root / "log" / f"{component}-{port}.out").open("ab")
    process = subprocess.Popen(
        platform.command(component),
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, wait_for)
        yield url
    finally:
        end(process)
        output.close()


def _wait_ready(
    url: str, process: subprocess.Popen[bytes], path: str = "/ready", timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}{path}", timeout=1.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


def eventually(check: Callable[[], T], timeout: float = 30.0, every: float = 0.5) -> T:
    """Poll `check` until it returns something truthy or `timeout` passes; its last result.

    For every effect that a cache, a timeout or a background task stands in front
    of: the caller asserts on what this returns, so a condition that never holds
    still fails, with the last thing seen."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)


def log_lines(path: Path, needle: str) -> list[str]:
    """Lines of a JSON log file that mention `needle` (e.g. a request id)."""
    if not path.exists():
        return []
    return [line for line in path.read_text(errors="replace").splitlines() if needle in line]


def wait_for_log_lines(path: Path, needle: str, timeout: float = 5.0) -> list[str]:
    """The lines mentioning `needle`, waiting for them a little.

    Services write a request's access-log line just after sending the response,
    so a test that reads the file right after its request can be early.
    """
    deadline = time.monotonic() + timeout
    while True:
        lines = log_lines(path, needle)
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def assert_never_reached(platform: LocalPlatform, service: str, request_id: str) -> None:
    """Prove `service` never logged `request_id`: a later sentinel request's line comes first."""
    sentinel = f"sentinel-{secrets.token_hex(6)}"
    httpx.get(f"{platform.url(service)}/ready", headers={"X-Request-ID": sentinel}, timeout=10)
    assert wait_for_log_lines(platform.log_file(service), sentinel), f"{service} logs nothing"
    assert log_lines(platform.log_file(service), request_id) == []


def settings_environment(name: str) -> dict[str, str]:
    """What a runner passes a component that its settings cannot default: its ports
    and its peers' URLs, from the catalogue (for tests that build settings directly)."""
    component = BY_NAME[name]
    env = {"PORT": str(component.port), "ADMIN_PORT": str(component.admin_port)}
    for peer in component.peers:
        env[f"{peer.upper()}_URL"] = f"http://127.0.0.1:{BY_NAME[peer].port}"
    return env


def use_settings_environment(monkeypatch: Any, name: str) -> None:
    """Put settings_environment(name) into the process environment for one test."""
    for key, value in settings_environment(name).items():
        monkeypatch.setenv(key, value)


def settings_kwargs(name: str) -> dict[str, Any]:
    """settings_environment(name) as keyword arguments of the component's settings class."""
    return {key.lower(): value for key, value in settings_environment(name).items()}


def assert_one_budget_per_window(answers: list[httpx.Response]) -> list[list[httpx.Response]]:
    """Check answers from one client against the gateway's per-minute rate limit.

    The budget is per one-minute window, named by X-RateLimit-Reset, so answers
    are grouped by window rather than a test waiting for a window to start. In
    each window every request takes one from the same count (whichever replica
    answered) and, once it is spent, every answer is 429. Returns the windows."""
    windows: dict[str, list[httpx.Response]] = {}
    for answer in answers:
        windows.setdefault(answer.headers["x-ratelimit-reset"], []).append(answer)
    for window in windows.values():
        remaining = [int(answer.headers["x-ratelimit-remaining"]) for answer in window]
        assert remaining == [max(remaining[0] - i, 0) for i in range(len(window))], remaining
        limited = [answer.status_code == 429 for answer in window]
        allowed = limited.count(False)
        assert limited == [False] * allowed + [True] * (len(window) - allowed), limited
    return list(windows.values())


def metric_sample(admin_url: str, sample: str) -> float:
    """One sample of a process's /metrics, written as Prometheus prints it
    (`name{label="v"}`); 0 when the process has not reported it yet."""
    text = httpx.get(f"{admin_url}/metrics", trust_env=False).text
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0
