"""The web UI's own checks, without a server: CSRF, API paths, settings."""

import asyncio
from decimal import Decimal

import pytest
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from cnop_web.security import (
    SECURITY_HEADERS,
    CsrfRejected,
    SecurityHeadersMiddleware,
    check_same_origin,
    is_plain_api_path,
)
from cnop_web.settings import WebSettings

pytestmark = pytest.mark.unit

OURS = {"x-requested-with": "cnop-web", "host": "127.0.0.1:3000"}


def test_safe_methods_need_no_csrf_header():
    check_same_origin("GET", Headers({}))


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"host": "127.0.0.1:3000"}, "must send"),
        ({"x-requested-with": "XMLHttpRequest", "host": "127.0.0.1:3000"}, "must send"),
        ({**OURS, "origin": "http://evil.example"}, "Cross-origin"),
        ({**OURS, "origin": "http://127.0.0.1:3001"}, "Cross-origin"),
        ({**OURS, "origin": "null"}, "Cross-origin"),
        ({**OURS, "sec-fetch-site": "cross-site"}, "Cross-site"),
        ({**OURS, "sec-fetch-site": "same-site"}, "Cross-site"),
    ],
)
def test_state_changes_from_anywhere_but_our_page_are_refused(headers, reason):
    with pytest.raises(CsrfRejected, match=reason) as refused:
        check_same_origin("POST", Headers(headers))
    assert refused.value.status_code == 403
    assert refused.value.code == "CSRF_REJECTED"


@pytest.mark.parametrize(
    "headers",
    [
        OURS,
        {**OURS, "origin": "http://127.0.0.1:3000", "sec-fetch-site": "same-origin"},
        {**OURS, "sec-fetch-site": "none"},
        # Behind a proxy that ends TLS: the page is https, this server sees http.
        {**OURS, "origin": "https://127.0.0.1:3000"},
    ],
)
def test_state_changes_from_our_page_pass(headers):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        check_same_origin(method, Headers(headers))


@pytest.mark.parametrize(
    "path", [b"/api/v1/orders", b"/api/v1/orders/01HZX-abc_12", b"/api/v1/inventory/assets/BTC"]
)
def test_plain_paths_pass(path):
    assert is_plain_api_path(path)


@pytest.mark.parametrize(
    "path",
    [
        b"/api/v1/../health",
        b"/api/v1/auth/./profile",
        b"/api/v1/%2e%2e/health",
        b"/api/v1/%2E%2E/health",
        b"/api/v1/orders%2f..%2fmetrics",
        b"/api/v1/orders%5cx",
        b"/api/v1/orders\\x",
    ],
)
def test_dot_segments_and_encoded_separators_are_refused(path):
    assert not is_plain_api_path(path)


def test_defaults_are_local():
    settings = WebSettings()
    assert (settings.host, settings.port, settings.admin_port) == ("127.0.0.1", 3000, 9300)
    assert settings.cookie_name == "cnop_session"


def test_secure_cookies_get_the_host_prefix():
    settings = WebSettings(environment="production", cookie_secure=True)
    assert settings.cookie_name == "__Host-cnop_session"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_plain_http_cookies_are_refused_outside_development(environment):
    with pytest.raises(ValidationError, match="COOKIE_SECURE must be true"):
        WebSettings(environment=environment)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("gateway_url", "127.0.0.1:8080", "http"),
        ("gateway_source_address", "not-an-ip", "does not appear to be an IPv4 or IPv6"),
        ("port", 0, "greater than or equal to 1"),
    ],
)
def test_bad_settings_fail_fast(field, value, message):
    with pytest.raises(ValidationError, match=message):
        WebSettings(**{field: value})


def test_gateway_url_loses_its_trailing_slash():
    assert WebSettings(gateway_url="http://gw:8080/").gateway_url == "http://gw:8080"


def test_the_limits_are_settings_under_the_services_names(monkeypatch):
    monkeypatch.setenv("ORDER_VALUE_CAP", "2500.50")
    monkeypatch.setenv("DAILY_WITHDRAW_LIMIT", "100")
    settings = WebSettings()
    assert (settings.order_value_cap, settings.daily_withdraw_limit) == (
        Decimal("2500.50"),
        Decimal("100"),
    )
    monkeypatch.setenv("DAILY_DEPOSIT_LIMIT", "0")
    with pytest.raises(ValidationError, match="daily_deposit_limit"):
        WebSettings()


def _through_middleware(scope: Scope) -> tuple[Scope, list[Message]]:
    """One call through SecurityHeadersMiddleware: the scope the app saw, the messages sent."""
    seen: Scope = {}
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.update(scope)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"1")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(SecurityHeadersMiddleware(app)(scope, receive, send))
    return seen, sent


IDENTITY = [b"x-user-id", b"x-user-role", b"x-source", b"x-auth-service", b"x-identity-assertion"]


@pytest.mark.parametrize("name", IDENTITY)
def test_a_browser_s_identity_headers_are_dropped_on_arrival(name):
    headers = [(name, b"admin"), (name.upper(), b"admin"), (b"accept", b"*/*")]
    seen, _ = _through_middleware({"type": "http", "headers": headers})
    assert seen["headers"] == [(b"accept", b"*/*")]


def test_every_answer_carries_the_security_headers():
    _, sent = _through_middleware({"type": "http", "headers": []})
    start = sent[0]
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    assert headers == {"x-app": "1", **{k.lower(): v for k, v in SECURITY_HEADERS.items()}}
    assert sent[1] == {"type": "http.response.body", "body": b"ok"}  # the body untouched


def test_what_is_not_http_passes_untouched():
    headers = [(b"x-user-id", b"admin")]
    seen, sent = _through_middleware({"type": "websocket", "headers": headers})
    assert seen["headers"] == headers
    assert sent[0]["headers"] == [(b"x-app", b"1")]


def test_the_scope_type_is_compared_by_value():
    # A server may build the type string at run time: "http" by value, not by identity.
    headers = [(b"x-user-id", b"admin"), (b"accept", b"*/*")]
    seen, _ = _through_middleware({"type": "".join(["ht", "tp"]), "headers": headers})
    assert seen["headers"] == [(b"accept", b"*/*")]


def test_only_the_response_start_gets_the_security_headers():
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": b"ok", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [(b"x-check", b"1")]})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(SecurityHeadersMiddleware(app)({"type": "http", "headers": []}, receive, send))
    assert sent[2] == {"type": "http.response.trailers", "headers": [(b"x-check", b"1")]}
