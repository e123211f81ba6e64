"""The asset catalogue: loaded from the shipped data file, validated, served from memory."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cnop_common.assets import ASSET_ID
from cnop_common.decimals import price

LIST_FIELDS = (
    "asset_id",
    "name",
    "symbol",
    "description",
    "category",
    "price_usd",
    "is_active",
    "image",
    "market_cap_rank",
    "price_change_percentage_24h",
    "market_cap",
    "total_volume_24h",
)
DETAIL_FIELDS = (
    "high_24h",
    "low_24h",
    "circulating_supply",
    "total_supply",
    "max_supply",
    "ath",
    "atl",
    "last_updated",
)
PRICE_FIELDS = frozenset({"price_usd", "high_24h", "low_24h", "ath", "atl"})


class Asset(BaseModel):
    """One catalogue entry; money and supplies are Decimal, never float."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    asset_id: str = Field(pattern=ASSET_ID.pattern)
    name: str = Field(min_length=1, max_length=100)
    symbol: str
    description: str | None = None
    category: str | None = None
    price_usd: Decimal = Field(gt=0)
    is_active: bool = True
    image: str | None = None
    market_cap_rank: int | None = Field(default=None, ge=1)
    price_change_percentage_24h: Decimal | None = None
    market_cap: Decimal | None = None
    total_volume_24h: Decimal | None = None
    high_24h: Decimal | None = None
    low_24h: Decimal | None = None
    circulating_supply: Decimal | None = None
    total_supply: Decimal | None = None
    max_supply: Decimal | None = None
    ath: Decimal | None = None
    atl: Decimal | None = None
    last_updated: str | None = None

    def availability_status(self) -> str:
        """What a client may do with the asset."""
        return "available" if self.is_active else "unavailable"

    def to_json(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """The asset's fields as the API shows them (decimals as strings)."""
        out: dict[str, Any] = {}
        for field in fields:
            value = getattr(self, field)
            if isinstance(value, Decimal):
                # Prices are shown at price scale; big figures like market cap in full.
                value = price(value) if field in PRICE_FIELDS else f"{value:f}"
            out[field] = value
        return out


class Catalogue:
    """All assets, sorted by market-cap rank, indexed by id."""

    def __init__(self, assets: list[Asset]) -> None:
        ranked = sorted(assets, key=lambda a: (a.market_cap_rank or 10**9, a.asset_id))
        self.assets = tuple(ranked)
        self.by_id = {asset.asset_id.upper(): asset for asset in ranked}
        if len(self.by_id) != len(ranked):
            raise ValueError("catalogue has duplicate asset ids")

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read and validate the data file; any bad entry stops the service from starting."""
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        return cls([Asset.model_validate(entry) for entry in raw["assets"]])

    def listing(self, *, active_only: bool, limit: int) -> dict[str, Any]:
        """The list response of GET /inventory/assets."""
        chosen = [a for a in self.assets if a.is_active or not active_only]
        return {
            "data": [asset.to_json(LIST_FIELDS) for asset in chosen[:limit]],
            "total_count": len(self.assets),
            "active_count": sum(1 for a in self.assets if a.is_active),
        }

    def detail(self, asset: Asset) -> dict[str, Any]:
        """The detail response of GET /inventory/assets/{asset_id}."""
        data = asset.to_json(LIST_FIELDS + DETAIL_FIELDS)
        data["availability_status"] = asset.availability_status()
        return {"data": data}
