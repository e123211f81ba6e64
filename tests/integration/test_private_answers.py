"""No one's own answer is kept by a cache (issue 21): `Cache-Control: no-store` on every
authenticated answer, from the gateway and from the backends; public catalogue
answers keep their own caching (test_http_caching.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import GatewayUser, gateway_user, login

pytestmark = pytest.mark.integration

PRIVATE = ["/auth/profile", "/balance", "/balance/transactions", "/portfolio", "/orders"]


@pytest.fixture(scope="module")
def member(gateway_url):
    user = gateway_user(gateway_url, "nostore", deposit="5")
    yield user
    user.close()


@pytest.mark.parametrize("path", PRIVATE)
def test_every_private_answer_says_no_store(member: GatewayUser, path):
    answer = member.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"


def test_refusals_and_the_login_answer_say_no_store_too(gateway_url, member):
    refused = httpx.get(f"{gateway_url}/api/v1/balance", trust_env=False)
    assert refused.status_code == 401
    assert refused.headers["cache-control"] == "no-store"
    # The login answer carries a token.
    logged_in = login(gateway_url, member.username)
    assert logged_in.status_code == 200
    assert logged_in.headers["cache-control"] == "no-store"


def test_a_public_catalogue_answer_keeps_its_caching(gateway_url):
    answer = httpx.get(f"{gateway_url}/api/v1/inventory/assets/BTC", trust_env=False)
    assert answer.status_code == 200
    assert "no-store" not in answer.headers["cache-control"]
    assert "max-age" in answer.headers["cache-control"]


def test_a_backend_says_no_store_itself_for_a_users_answer(funded, anonymous):
    answer = funded.user.get("/balance")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    # The gateway sends public calls with no user: their caching stays the service's.
    public = anonymous.inventory.get("/inventory/assets/BTC")
    assert public.status_code == 200
    assert "max-age" in public.headers["cache-control"]
