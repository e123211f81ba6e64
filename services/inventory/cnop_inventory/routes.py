"""HTTP routes of the inventory service: public catalogue and internal prices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from cnop_common.assets import parse_asset_id
from cnop_common.decimals import decimal_router, price
from cnop_common.errors import ApiError
from cnop_inventory.catalogue import Asset, Catalogue


def _price_view(asset: Asset) -> dict[str, Any]:
    return {
        "asset_id": asset.asset_id,
        "name": asset.name,
        "price_usd": price(asset.price_usd),
        "is_active": asset.is_active,
    }


def build_router(catalogue: Catalogue) -> APIRouter:
    """Public catalogue routes and the /internal/ price routes."""
    router = decimal_router()

    def find(asset_id: str) -> Asset:
        asset = catalogue.by_id.get(parse_asset_id(asset_id))
        if asset is None:
            raise ApiError(404, "ASSET_NOT_FOUND", f"Asset {asset_id.strip().upper()} not found.")
        return asset

    @router.get("/inventory/assets", tags=["inventory"])
    def list_assets(
        active_only: bool = True, limit: Annotated[int, Query(ge=1, le=250)] = 50
    ) -> dict[str, Any]:
        return catalogue.listing(active_only=active_only, limit=limit)

    @router.get("/inventory/assets/{asset_id}", tags=["inventory"])
    def get_asset(asset_id: str) -> dict[str, Any]:
        return catalogue.detail(find(asset_id))

    @router.get("/internal/assets", tags=["internal"])
    def internal_prices() -> dict[str, Any]:
        return {"assets": [_price_view(asset) for asset in catalogue.assets]}

    @router.get("/internal/assets/{asset_id}", tags=["internal"])
    def internal_price(asset_id: str) -> dict[str, Any]:
        return _price_view(find(asset_id))

    return router
