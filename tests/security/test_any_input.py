"""Any text, any JSON type, on every field of every route (issue 21 #5, #6).

- No 500 from any string: generated Unicode (lone surrogates, NUL, direction
  marks, very long) in every string field of every body, in every path and query
  parameter, through the gateway and the web UI, gets an answer below 500.
- No lax coercion: a value of the wrong JSON type in any body field gets 422
  VALIDATION_ERROR, and nothing is changed by it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.helpers import PASSWORD, GatewayUser, gateway_user, registration, unique_username

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Every character, surrogates included (hypothesis leaves Cs out unless told).
ANY_CHARACTER = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHARACTER, max_size=40)
# Always tried, whatever hypothesis draws: a lone surrogate as a login name was a
# 500 from the gateway and the web UI (redis-py could not encode the guard's key).
KNOWN = ["\ud800", "\udfff", "a\x00b", "\u202eadmin", "x" * 5000, "\ufeff", ""]


def known_examples(check: Callable[..., None]) -> Callable[..., None]:
    """Decorate a hypothesis check with every KNOWN text as an explicit example."""
    for text in KNOWN:
        check = example(text=text)(check)
    return check


EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def profile_body() -> dict[str, object]:
    return {"first_name": "Ann"}


# Route → (a valid body, {field: its JSON type}).
BODIES: dict[tuple[str, str], tuple[dict[str, object], dict[str, str]]] = {
    ("POST", "/auth/register"): (
        {**registration("placeholder"), "phone": "+44 20 7946 0958", "date_of_birth": "1990-02-03"},
        {
            "username": "string",
            "email": "string",
            "password": "string",
            "first_name": "string",
            "last_name": "string",
            "phone": "string",
            "date_of_birth": "string",
            "marketing_emails_consent": "boolean",
        },
    ),
    ("POST", "/auth/login"): (
        {"username": "nobody_here", "password": "Wr0ng!pass-xx"},
        {"username": "string", "password": "string"},
    ),
    ("PUT", "/auth/profile"): (
        profile_body(),
        {
            "first_name": "string",
            "last_name": "string",
            "email": "string",
            "phone": "string",
            "date_of_birth": "string",
        },
    ),
    ("POST", "/balance/deposit"): ({"amount": "1.00"}, {"amount": "decimal"}),
    ("POST", "/balance/withdraw"): ({"amount": "1.00"}, {"amount": "decimal"}),
    ("POST", "/orders"): (
        {"order_type": "market_buy", "asset_id": "USDT", "quantity": "1"},
        {"order_type": "string", "asset_id": "string", "quantity": "decimal"},
    ),
}
PATHS = [
    "/inventory/assets/{}",
    "/balance/asset/{}",
    "/orders/{}",
    "/assets/{}/transactions",
    "/orders?asset_id={}",
    "/orders?order_type={}",
    "/balance/transactions?limit={}",
    "/inventory/assets?limit={}",
]
# What a field of each JSON type must never take instead.
WRONG = {
    "string": [0, 1.5, True, [], {}],
    "boolean": [0, 1, "true", "yes", [], {}],
    "decimal": [True, [], {}, None],
}
FIELDS = [
    pytest.param(route, field, id=f"{route[0]} {route[1]} {field}")
    for route, (_body, types) in BODIES.items()
    for field in types
]


@pytest.fixture(scope="module")
def member(gateway_url) -> Iterator[GatewayUser]:
    user = gateway_user(gateway_url, "anyinput", deposit="50")
    yield user
    user.close()


def fresh(body: dict[str, object]) -> dict[str, object]:
    """Each register and login under a new name: none collides, none trips the
    login guard's per-account block (5 failures) of an earlier example."""
    if body.get("username") in ("placeholder", "nobody_here"):
        return {**body, "username": unique_username("any")}
    return body


def send(member: GatewayUser, route: tuple[str, str], body: dict[str, object]) -> httpx.Response:
    """The body as JSON: escapes for what UTF-8 cannot carry (a lone surrogate)."""
    method, path = route
    return member.http.request(
        method,
        path,
        content=json.dumps(body).encode(),
        headers={**member.auth, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(("route", "field"), FIELDS)
def test_any_text_in_any_body_field_is_answered_below_500(member, route, field):
    base, _types = BODIES[route]

    @EXAMPLES
    @known_examples
    @given(text=ANY_TEXT)
    def check(text: str) -> None:
        answer = send(member, route, {**fresh(base), field: text})
        assert answer.status_code < 500, (route, field, repr(text), answer.text)

    check()


@pytest.mark.parametrize("path", PATHS)
def test_any_text_in_a_path_or_query_is_answered_below_500(member, path):
    @EXAMPLES
    @known_examples
    @given(text=ANY_TEXT)
    def check(text: str) -> None:
        # Percent-encoded bytes, invalid UTF-8 included, as a client may send them.
        raw = quote(text.encode("utf-8", "surrogatepass"), safe="")
        answer = member.http.get(path.format(raw), headers=member.auth)
        assert answer.status_code < 500, (path, repr(text), answer.text)

    check()


@pytest.mark.parametrize(("route", "field"), FIELDS)
def test_a_value_of_the_wrong_json_type_is_422_and_changes_nothing(member, route, field):
    base, types = BODIES[route]
    before = member.get("/balance").json()["current_balance"]
    for wrong in WRONG[types[field]]:
        answer = send(member, route, {**fresh(base), field: wrong})
        assert answer.status_code == 422, (route, field, wrong, answer.text)
        assert answer.json()["code"] == "VALIDATION_ERROR"
    assert member.get("/balance").json()["current_balance"] == before


PUBLIC = {("POST", "/auth/register"), ("POST", "/auth/login")}
JSON_TYPE = {"Content-Type": "application/json"}


def web_client(local_platform) -> httpx.Client:
    """A browser at the web UI (its CSRF header sent on every call)."""
    return httpx.Client(
        base_url=f"{local_platform.url('web')}/api/v1",
        trust_env=False,
        timeout=30,
        headers={"X-Requested-With": "cnop-web"},
    )


@pytest.fixture(scope="module")
def web_session(local_platform, member) -> Iterator[httpx.Client]:
    """A browser's session at the web UI: logged in, its cookie kept by the client."""
    web = web_client(local_platform)
    logged_in = web.post("/auth/login", json={"username": member.username, "password": PASSWORD})
    assert logged_in.status_code == 200, logged_in.text
    yield web
    web.close()


@pytest.fixture(scope="module")
def web_anonymous(local_platform) -> Iterator[httpx.Client]:
    """A browser without a session, for the public routes: a failed login sent with a
    session cookie would end that session (the web UI drops it on a 401)."""
    web = web_client(local_platform)
    yield web
    web.close()


def still_logged_in(web_session: httpx.Client) -> None:
    """The checks ran as a user: the session outlived them (else they proved little)."""
    assert web_session.get("/balance").status_code == 200, "the web session was dropped"


@pytest.mark.parametrize(("route", "field"), FIELDS)
def test_the_web_ui_answers_any_text_in_any_body_field_below_500(
    web_session, web_anonymous, route, field
):
    base, _types = BODIES[route]
    method, path = route
    web = web_anonymous if route in PUBLIC else web_session

    @EXAMPLES
    @known_examples
    @given(text=ANY_TEXT)
    def check(text: str) -> None:
        body = json.dumps({**fresh(base), field: text}).encode()
        answer = web.request(method, path, content=body, headers=JSON_TYPE)
        assert answer.status_code < 500, (route, field, repr(text), answer.text)

    check()
    still_logged_in(web_session)


@pytest.mark.parametrize("path", PATHS)
def test_the_web_ui_answers_any_text_in_a_path_or_query_below_500(web_session, path):
    @EXAMPLES
    @known_examples
    @given(text=ANY_TEXT)
    def check(text: str) -> None:
        raw = quote(text.encode("utf-8", "surrogatepass"), safe="")
        answer = web_session.get(path.format(raw))
        assert answer.status_code < 500, (path, repr(text), answer.text)

    check()
    still_logged_in(web_session)
