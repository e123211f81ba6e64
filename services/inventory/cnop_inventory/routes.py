"""HTTP routes of the inventory service: public catalogue and internal prices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from cnop_common.assets import parse_asset_id
from cnop_common.decimals import decimal_router, price
from cnop_common.errors import ApiError
from cnop_common.http_cache import conditional_json
from cnop_inventory.catalogue import Asset, Catalogue

# Prices change only with a price feed (off unless configured): a few seconds of
# caching spare the service without showing a stale price for long.
CACHE_SECONDS = 5


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
        request: Request,
        active_only: bool = True,
        limit: Annotated[int, Query(ge=1, le=250)] = 50,
    ) -> Response:
        listing = catalogue.listing(active_only=active_only, limit=limit)
        return conditional_json(request, listing, CACHE_SECONDS)

    @router.get("/inventory/assets/{asset_id}", tags=["inventory"])
    def get_asset(request: Request, asset_id: str) -> Response:
        return conditional_json(request, catalogue.detail(find(asset_id)), CACHE_SECONDS)

    @router.get("/internal/assets", tags=["internal"])
    def internal_prices() -> dict[str, Any]:
        return {"assets": [_price_view(asset) for asset in catalogue.assets]}

    @router.get("/internal/assets/{asset_id}", tags=["internal"])
    def internal_price(asset_id: str) -> dict[str, Any]:
        return _price_view(find(asset_id))

    return router
