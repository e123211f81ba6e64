"""No 500 from any string (issue 21 #5): text that cannot be encoded or stored gets a 4xx.

Before: a lone UTF-16 surrogate as the login username ("\\ud800", valid JSON) reached
the login guard's Redis keys, where redis-py could not encode it: 500 from the
gateway, and so from the web UI that forwards to it.
"""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import PASSWORD, gateway_user

pytestmark = pytest.mark.integration

# Raw JSON, so the escapes arrive as the client wrote them.
AWKWARD = [
    r'"\ud800"',  # a lone high surrogate
    r'"\udfff"',  # a lone low surrogate
    r'"a\u0000b"',  # NUL
    r'"\u202eadmin"',  # right-to-left override
    '"' + "x" * 10_000 + '"',  # very long
]


def login_body(name: str) -> bytes:
    """A login body with `name` written into it as raw JSON."""
    return b'{"username": ' + name.encode() + b', "password": "' + PASSWORD.encode() + b'"}'


@pytest.mark.parametrize("name", AWKWARD)
def test_a_login_with_unencodable_or_strange_text_is_refused_not_a_500(gateway_url, name):
    body = login_body(name)
    answer = httpx.post(
        f"{gateway_url}/api/v1/auth/login",
        content=body,
        headers={"Content-Type": "application/json"},
        trust_env=False,
        timeout=30,
    )
    assert answer.status_code in (401, 422), answer.text
    assert answer.json()["code"] in ("INVALID_CREDENTIALS", "VALIDATION_ERROR")


@pytest.mark.parametrize("name", AWKWARD[:2])
def test_the_web_ui_passes_the_refusal_on(local_platform, name):
    body = login_body(name)
    answer = httpx.post(
        f"{local_platform.url('web')}/api/v1/auth/login",
        content=body,
        headers={"Content-Type": "application/json", "X-Requested-With": "cnop-web"},
        trust_env=False,
        timeout=30,
    )
    assert answer.status_code in (401, 422), answer.text


def test_a_real_user_still_logs_in_after_all_of_this(gateway_url):
    user = gateway_user(gateway_url, "anytext")
    assert user.get("/balance").status_code == 200
    user.close()
