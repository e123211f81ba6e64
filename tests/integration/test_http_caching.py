"""The asset list and details are cacheable end to end (issue 13: caching).

Validators come from inventory; the gateway and the web UI pass them through
untouched, and a conditional GET answers 304 without a body at every hop.
"""

from __future__ import annotations

import httpx
import pytest

from cnop_web.assets import AssetBundle

pytestmark = pytest.mark.integration

BUNDLE = AssetBundle()  # the names the web UI publishes its static files under

CACHEABLE = [
    "/api/v1/inventory/assets",
    "/api/v1/inventory/assets?limit=3",
    "/api/v1/inventory/assets/BTC",
]
PAGE = {"X-Requested-With": "cnop-web"}  # what the web UI's own pages send


@pytest.fixture(params=["gateway", "web"])
def front(request, local_platform) -> str:
    return str(local_platform.url(request.param))


@pytest.mark.parametrize("path", CACHEABLE)
def test_a_conditional_get_answers_304_with_the_same_validators(front, path):
    with httpx.Client(base_url=front, headers=PAGE, trust_env=False, timeout=10) as client:
        first = client.get(path)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert etag.startswith('"')
        assert first.headers["cache-control"] == "public, max-age=5"
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        weak = client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
        assert weak.status_code == 304
        changed = client.get(path, headers={"If-None-Match": '"not-this-one"'})
        assert changed.status_code == 200
        assert changed.content == first.content


def test_different_answers_have_different_validators(local_platform):
    gateway = local_platform.url("gateway")
    one = httpx.get(f"{gateway}/api/v1/inventory/assets/BTC", trust_env=False)
    other = httpx.get(f"{gateway}/api/v1/inventory/assets/ETH", trust_env=False)
    assert one.headers["etag"] != other.headers["etag"]


def test_private_answers_stay_uncacheable_through_the_web_ui(local_platform):
    # Anything the API does not call cacheable keeps no-store (sessions, balances).
    answer = httpx.get(f"{local_platform.url('web')}/api/v1/balance", headers=PAGE, trust_env=False)
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", [BUNDLE.url("app.js"), BUNDLE.url("style.css"), "/login"])
def test_the_web_ui_compresses_its_pages_and_static_files(local_platform, path):
    answer = httpx.get(
        f"{local_platform.url('web')}{path}", trust_env=False, headers={"Accept-Encoding": "gzip"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert int(answer.headers["content-length"]) < len(answer.content)  # decoded is larger


def test_api_answers_are_never_compressed(local_platform):
    # BREACH: an answer that may reflect input beside a secret must not be compressed.
    answer = httpx.get(
        f"{local_platform.url('web')}/api/v1/inventory/assets", headers=PAGE, trust_env=False
    )
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
