"""An on-path observer's replays of real calls between services (issue 21 #1-#3).

A recording proxy stands between two real services of the test platform, as
anything on a node's network path could, and keeps every call it passes on
(never in a log). Each capture is then replayed as an attacker would: as it was,
and bent to another purpose. Before, every bend worked: a user→auth call minted a
token for any username with role admin, a gateway→user login call allowed
unlimited password guesses the gateway's guard never saw, and Alice's `GET
/balance` call, replayed as `POST /balance/withdraw`, withdrew money after she had
logged out. A signed call is now good for that one call, once.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest

from cnop_platform.local.ports import extra
from tests.helpers import (
    GATEWAY_MARKERS,
    PASSWORD,
    asserted,
    extra_process,
    gateway_user,
    signed_client,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Captured:
    """One call as it crossed the wire."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@contextmanager
def recording_proxy(port: int, upstream: str) -> Iterator[list[Captured]]:
    """A proxy on `port` that passes every call to `upstream` and keeps a copy."""
    calls: list[Captured] = []
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            calls.append(Captured(self.command, self.path, headers, body))
            connection = http.client.HTTPConnection(target.netloc, timeout=30)
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            connection.close()

        do_GET = do_POST = do_PUT = _relay  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: object) -> None:
            pass  # what it sees stays in memory: never a log

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield calls
    finally:
        server.shutdown()
        server.server_close()


def replay(base_url: str, call: Captured, **changes: object) -> httpx.Response:
    """The captured call sent again, straight to the service, as changed."""
    sent = {"method": call.method, "target": call.target, "body": call.body, **changes}
    return httpx.request(
        str(sent["method"]),
        f"{base_url}{sent['target']}",
        headers=call.headers,
        content=sent["body"],  # type: ignore[arg-type]
        trust_env=False,
        timeout=30,
    )


@contextmanager
def observed_gateway(local_platform) -> Iterator[tuple[str, list[Captured]]]:
    """A gateway whose calls to the user service pass a recording proxy: its URL,
    and what the proxy saw."""
    proxy = extra("capture: proxy to the user service")
    with (
        recording_proxy(proxy, local_platform.url("user")) as calls,
        extra_process(
            local_platform,
            "gateway",
            extra("capture: gateway through the proxy"),
            USER_URL=f"http://127.0.0.1:{proxy}",
        ) as replica,
    ):
        yield replica, calls


def test_a_captured_users_call_is_good_once_and_for_that_call_only(local_platform, gateway_url):
    alice = gateway_user(gateway_url, "captured", deposit="100")
    user_service = local_platform.url("user")
    with observed_gateway(local_platform) as (replica, calls):
        seen = httpx.get(f"{replica}/api/v1/balance", headers=alice.auth, trust_env=False)
        assert seen.status_code == 200
        (balance,) = [c for c in calls if c.target == "/balance"]
        assert balance.headers["x-user-id"] == alice.username
    assert replay(user_service, balance).status_code == 403  # as it was: once only
    withdrawal = replay(
        user_service, balance, method="POST", target="/balance/withdraw", body=b'{"amount":"50"}'
    )
    assert withdrawal.status_code == 403
    assert alice.post("/auth/logout", json={}).status_code == 200
    assert (
        replay(user_service, balance, method="POST", target="/balance/withdraw").status_code == 403
    )
    # Alice's money never moved: read with a fresh signature as the gateway would.
    with signed_client(local_platform, "user", username=alice.username) as as_gateway:
        answer = as_gateway.get(
            f"{user_service}/balance",
            headers={"x-source": "gateway", "x-auth-service": "auth-service"},
        )
    assert answer.json()["current_balance"] == "100.00"
    alice.close()


def test_a_captured_login_cannot_be_replayed_to_guess_passwords(local_platform, gateway_url):
    victim = gateway_user(gateway_url, "guessed")
    user_service = local_platform.url("user")
    with observed_gateway(local_platform) as (replica, calls):
        wrong = {"username": victim.username, "password": "Wr0ng!pass-xx"}
        assert httpx.post(f"{replica}/api/v1/auth/login", json=wrong).status_code == 401
        (login,) = [c for c in calls if c.target == "/auth/login"]
    guesses = [
        replay(
            user_service,
            login,
            body=f'{{"username":"{victim.username}","password":"{guess}"}}'.encode(),
        )
        for guess in ("Guess1!aaaa", "Guess2!bbbb", PASSWORD)
    ]
    assert [answer.status_code for answer in guesses] == [403, 403, 403]
    assert replay(user_service, login).status_code == 403  # as it was: once only
    victim.close()


def test_a_captured_token_request_mints_nothing_else(local_platform, gateway_url):
    member = gateway_user(gateway_url, "minted")
    auth_service = local_platform.url("auth")
    proxy_port = extra("capture: proxy to auth")
    with (
        recording_proxy(proxy_port, auth_service) as calls,
        extra_process(
            local_platform,
            "user",
            extra("capture: user service through the proxy"),
            AUTH_URL=f"http://127.0.0.1:{proxy_port}",
        ) as user_replica,
        signed_client(local_platform, "user") as as_gateway,
    ):
        logged_in = as_gateway.post(
            f"{user_replica}/auth/login",
            json={"username": member.username, "password": PASSWORD},
            headers={"x-source": "gateway", "x-auth-service": "auth-service"},
        )
        assert logged_in.status_code == 200, logged_in.text
        (tokens,) = [c for c in calls if c.target == "/auth/tokens"]
    admin = b'{"username":"victim_user","role":"admin"}'
    assert replay(auth_service, tokens, body=admin).status_code == 403
    assert replay(auth_service, tokens).status_code == 403  # as it was: once only
    member.close()


def test_a_call_accepted_by_one_replica_is_refused_by_every_other(local_platform, gateway_url):
    """Each replica remembers the nonces it accepted, and claims them in the shared
    store too: a capture cannot be spent once more at another replica of the same
    service within its 10 s (architecture.md, trust model point 3)."""
    member = gateway_user(gateway_url, "replicas", deposit="10")
    body = b'{"username":"' + member.username.encode() + b'","role":"customer"}'
    to_auth = {
        "x-source": "user",
        "content-type": "application/json",
        **asserted(local_platform, "auth", "POST", "/auth/tokens", body, issuer="user"),
    }
    to_user = {
        **GATEWAY_MARKERS,
        **asserted(local_platform, "user", "GET", "/balance", username=member.username),
    }
    with (
        extra_process(local_platform, "user", extra("nonces: a second user service")) as user_b,
        extra_process(local_platform, "auth", extra("nonces: a second auth")) as auth_b,
    ):
        first = httpx.get(f"{local_platform.url('user')}/balance", headers=to_user)
        assert first.status_code == 200
        assert httpx.get(f"{user_b}/balance", headers=to_user).status_code == 403
        minted = httpx.post(
            f"{local_platform.url('auth')}/auth/tokens", headers=to_auth, content=body
        )
        assert minted.status_code == 201
        assert httpx.post(f"{auth_b}/auth/tokens", headers=to_auth, content=body).status_code == 403
    member.close()
