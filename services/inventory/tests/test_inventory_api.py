"""The inventory service's routes against a real process."""

from typing import Any

import httpx
import pytest

from cnop_inventory.catalogue import DETAIL_FIELDS
from tests.helpers import Clients, signed_by

pytestmark = pytest.mark.integration


def test_list_is_sorted_by_rank_and_filtered(anonymous: Clients):
    body = anonymous.inventory.get("/inventory/assets").json()
    ranks = [a["market_cap_rank"] for a in body["data"]]
    assert ranks == sorted(ranks)
    assert all(a["is_active"] for a in body["data"])
    assert body["total_count"] >= 20
    assert body["active_count"] == len(body["data"])
    everything = anonymous.inventory.get(
        "/inventory/assets", params={"active_only": "false", "limit": 250}
    ).json()
    assert len(everything["data"]) == everything["total_count"]
    assert any(not a["is_active"] for a in everything["data"])
    assert len(anonymous.inventory.get("/inventory/assets?limit=3").json()["data"]) == 3


@pytest.mark.parametrize("limit", ["0", "251", "x", "-1"])
def test_bad_limit_is_422(anonymous: Clients, limit):
    response = anonymous.inventory.get("/inventory/assets", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_detail_trims_and_upper_cases(anonymous: Clients):
    response = anonymous.inventory.get("/inventory/assets/%20btc%20")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["asset_id"] == "BTC"
    assert data["availability_status"] == "available"
    for key in DETAIL_FIELDS:
        assert data[key] is not None or key == "max_supply", key
    assert isinstance(data["price_usd"], str)


@pytest.mark.parametrize(
    ("asset_id", "status"), [("ABCDEFGHIJK", 422), ("B%24C", 422), ("NOPE", 404)]
)
def test_detail_errors(anonymous: Clients, asset_id, status):
    response = anonymous.inventory.get(f"/inventory/assets/{asset_id}")
    assert response.status_code == status
    assert response.json()["code"] == ("ASSET_NOT_FOUND" if status == 404 else "VALIDATION_ERROR")


def test_internal_prices_only_for_named_callers(local_platform, anonymous: Clients):
    base = local_platform.url("inventory")

    def proof(caller: str, signer: str = "") -> dict[str, Any]:
        """httpx keyword arguments: `caller`'s marker, the call signed by `signer`'s key."""
        auth = signed_by(local_platform, signer or caller, "inventory")
        return {"headers": {"X-Source": caller}, "auth": auth}

    as_order = httpx.get(f"{base}/internal/assets/BTC", **proof("order"))
    assert as_order.status_code == 200
    assert as_order.json()["asset_id"] == "BTC"
    assert httpx.get(f"{base}/internal/assets", **proof("user")).status_code == 200
    # The gateway's markers do not open internal routes, nor does an unknown name.
    assert anonymous.inventory.get("/internal/assets").status_code == 403
    assert httpx.get(f"{base}/internal/assets", headers={"X-Source": "web"}).status_code == 403
    # Naming a caller is not being it: without its signature, or with another's, 403.
    assert httpx.get(f"{base}/internal/assets", headers={"X-Source": "order"}).status_code == 403
    as_user_claiming_order = proof("order", signer="user")
    assert httpx.get(f"{base}/internal/assets", **as_user_claiming_order).status_code == 403
