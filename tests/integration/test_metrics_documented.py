"""Every metric a service exposes is documented in docs/metrics.md, and no label leaks a user."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cnop_catalogue import COMPONENTS
from tests.helpers import PASSWORD, gateway_user

pytestmark = pytest.mark.integration

DOC = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()
STANDARD = ("process_", "python_")
# Three base64url segments: what a bearer token in a label value would look like.
JWT_LIKE = re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def scrape(local_platform, service: str) -> str:
    return httpx.get(f"{local_platform.admin_url(service)}/metrics").text


@pytest.mark.parametrize("service", [component.name for component in COMPONENTS])
def test_every_exposed_metric_is_documented_without_user_labels(
    local_platform, gateway_url, service
):
    user = gateway_user(gateway_url, "metrics", deposit="5")
    user.post("/orders", json={"order_type": "market_buy", "asset_id": "USDT", "quantity": "1"})
    # A browser session too, so the web UI's own metrics have samples.
    web_login = httpx.post(
        f"{local_platform.url('web')}/api/v1/auth/login",
        json={"username": user.username, "password": PASSWORD},
        headers={"X-Requested-With": "cnop-web"},
    )
    assert web_login.status_code == 200
    families = list(text_string_to_metric_families(scrape(local_platform, service)))
    ours = [f for f in families if not f.name.startswith(STANDARD)]
    assert ours
    for family in ours:
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{name}`" in DOC, f"{service} exposes {name}, which docs/metrics.md lacks"
        for sample in family.samples:
            for value in sample.labels.values():
                assert user.username not in value
                assert not JWT_LIKE.fullmatch(value), f"{family.name} label looks like a token"
    user.close()
