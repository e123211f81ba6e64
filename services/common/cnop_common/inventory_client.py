"""Typed client for the inventory service's internal price endpoints.

The contract (not logic) shared by the services that need prices: user (the
portfolio) and order (execution price).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cnop_common.assertions import Signer
from cnop_common.internal_http import InternalClient


@dataclass(frozen=True, slots=True)
class AssetPrice:
    """What a trade or a valuation needs to know of an asset."""

    asset_id: str
    name: str
    price_usd: Decimal
    is_active: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AssetPrice:
        """Parse the inventory's JSON (prices travel as strings)."""
        return cls(
            asset_id=str(data["asset_id"]),
            name=str(data["name"]),
            price_usd=Decimal(str(data["price_usd"])),
            is_active=bool(data["is_active"]),
        )


class InventoryClient:
    """GET /internal/assets[/{id}] on the inventory service."""

    def __init__(
        self,
        *,
        caller: str,
        base_url: str,
        timeout_seconds: float,
        signer: Signer | None = None,
        pool_size: int = 64,
    ) -> None:
        self.http = InternalClient(
            caller=caller,
            peer="inventory",
            base_url=base_url,
            timeout_seconds=timeout_seconds,
            signer=signer,
            pool_size=pool_size,
        )

    def asset(self, asset_id: str) -> AssetPrice | None:
        """One asset's price, or None if the catalogue has no such asset."""
        response = self.http.get(f"/internal/assets/{asset_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return AssetPrice.from_json(response.json())

    def all_assets(self) -> dict[str, AssetPrice]:
        """Every asset's price, by id."""
        response = self.http.get("/internal/assets")
        response.raise_for_status()
        return {a["asset_id"]: AssetPrice.from_json(a) for a in response.json()["assets"]}
