"""The browser session: the token lives in an HttpOnly cookie and nowhere the page can read."""

import secrets

import httpx
import pytest

from tests.helpers import PASSWORD, assert_never_reached

pytestmark = pytest.mark.integration


def _set_cookie(response: httpx.Response) -> str:
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1, cookies
    return cookies[0]


def _attributes(set_cookie: str) -> dict[str, str]:
    parts = [part.strip() for part in set_cookie.split(";")]
    return {part.split("=", 1)[0].lower(): part.partition("=")[2] for part in parts[1:]}


def test_login_puts_the_token_in_an_httponly_strict_cookie_only(browser_session):
    response = browser_session.register_and_login()
    assert response.status_code == 200
    assert response.json() == {"token_type": "cookie", "expires_in": 3600}
    assert "access_token" not in response.text
    assert "eyJ" not in response.text  # no JWT anywhere in what the page sees
    cookie = _set_cookie(response)
    name, _, token = cookie.split(";")[0].partition("=")
    assert name == "cnop_session"
    assert token.startswith("eyJ")
    attributes = _attributes(cookie)
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == "3600"
    assert response.headers["cache-control"] == "no-store"


def test_a_wrong_password_sets_no_cookie(browser_session):
    browser_session.register_and_login()
    browser_session.http.cookies.clear()
    response = browser_session.login(browser_session.username, PASSWORD + "x")
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_CREDENTIALS"
    assert "set-cookie" not in response.headers


def test_session_says_who_is_logged_in(browser_session, logged_in):
    assert browser_session.http.get("/session").json() == {"user": None}
    user = logged_in.http.get("/session").json()["user"]
    assert user["username"] == logged_in.username
    assert user["email"] == f"{logged_in.username}@example.com"


def test_session_without_a_cookie_never_calls_the_gateway(local_platform, browser_session):
    request_id = f"nocookie-{secrets.token_hex(6)}"
    response = browser_session.http.get("/session", headers={"X-Request-ID": request_id})
    assert response.json() == {"user": None}
    assert_never_reached(local_platform, "gateway", request_id)


def test_calls_with_the_cookie_act_as_the_user(logged_in):
    key = f"deposit-{secrets.token_hex(8)}"
    first = logged_in.http.post(
        "/api/v1/balance/deposit", json={"amount": "250.00"}, headers={"Idempotency-Key": key}
    )
    again = logged_in.http.post(
        "/api/v1/balance/deposit", json={"amount": "250.00"}, headers={"Idempotency-Key": key}
    )
    assert first.status_code == again.status_code == 201
    # The Idempotency-Key crossed: the repeat is the first answer, not a second deposit.
    assert again.json()["transaction_id"] == first.json()["transaction_id"]
    assert logged_in.http.get("/api/v1/balance").json()["current_balance"] == "250.00"
    order = logged_in.http.post(
        "/api/v1/orders",
        json={"order_type": "market_buy", "asset_id": "BTC", "quantity": "0.001"},
        headers={"Idempotency-Key": f"order-{secrets.token_hex(8)}"},
    )
    assert order.status_code == 201, order.text
    assert logged_in.http.get("/api/v1/portfolio").json()["assets"][0]["asset_id"] == "BTC"


def test_logout_revokes_the_token_and_clears_the_cookie(gateway_url, logged_in):
    token = logged_in.http.cookies["cnop_session"]
    response = logged_in.http.post("/api/v1/auth/logout", json={})
    assert response.status_code == 200
    assert _attributes(_set_cookie(response))["max-age"] == "0"
    assert "cnop_session" not in logged_in.http.cookies
    # The token itself is dead at the gateway, not only forgotten by the browser.
    direct = httpx.get(
        f"{gateway_url}/api/v1/balance",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        trust_env=False,
    )
    assert direct.status_code == 401
    assert logged_in.http.get("/session").json() == {"user": None}


@pytest.mark.parametrize("path", ["/api/v1/balance", "/session"])
def test_a_refused_token_clears_the_cookie(browser_session, path):
    browser_session.http.cookies.set("cnop_session", "not-a-token", domain="127.0.0.1")
    response = browser_session.http.get(path)
    assert response.status_code == (401 if path.startswith("/api") else 200)
    assert _attributes(_set_cookie(response))["max-age"] == "0"


def test_an_authorization_header_from_the_page_is_ignored(gateway_url, browser_session):
    browser_session.register_and_login()
    token = browser_session.http.cookies["cnop_session"]
    browser_session.http.cookies.clear()
    # Only the cookie authenticates through the web UI; a script-set header does not.
    response = browser_session.http.get(
        "/api/v1/auth/profile", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


def test_identity_headers_from_the_page_are_ignored(browser_session, logged_in):
    spoof = {"X-User-ID": "someone_else", "X-Source": "gateway", "X-Auth-Service": "auth-service"}
    assert browser_session.http.get("/api/v1/auth/profile", headers=spoof).status_code == 401
    profile = logged_in.http.get("/api/v1/auth/profile", headers=spoof)
    assert profile.json()["username"] == logged_in.username


def test_the_cookie_holds_the_token_the_gateway_minted(gateway_url, browser_session):
    browser_session.register_and_login()
    token = browser_session.http.cookies["cnop_session"]
    me = httpx.get(
        f"{gateway_url}/api/v1/auth/profile",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        trust_env=False,
    )
    assert me.json()["username"] == browser_session.username
