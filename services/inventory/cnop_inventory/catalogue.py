"""The asset catalogue: loaded from the shipped data file, validated, served from memory."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

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
    "price_change_24h",
    "price_change_percentage_7d",
    "price_change_percentage_30d",
    "high_24h",
    "low_24h",
    "circulating_supply",
    "total_supply",
    "max_supply",
    "ath",
    "ath_change_percentage",
    "ath_date",
    "atl",
    "atl_change_percentage",
    "atl_date",
    "last_updated",
)
# Shown at price scale (two to eight decimals). ath and atl are shown exactly as
# recorded: an all-time low can be far below a hundred-millionth of a dollar.
PRICE_FIELDS = frozenset({"price_usd", "price_change_24h", "high_24h", "low_24h"})
# A recorded percentage against one recomputed from the prices it is about.
PERCENT_TOLERANCE = Decimal("0.01")


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
    price_change_24h: Decimal | None = None  # USD, signed, over the same 24 hours
    price_change_percentage_7d: Decimal | None = None
    price_change_percentage_30d: Decimal | None = None
    market_cap: Decimal | None = None
    total_volume_24h: Decimal | None = None
    high_24h: Decimal | None = None
    low_24h: Decimal | None = None
    circulating_supply: Decimal | None = None
    total_supply: Decimal | None = None
    max_supply: Decimal | None = None
    ath: Decimal | None = Field(default=None, gt=0)
    ath_change_percentage: Decimal | None = None  # how far the price is from it, in %
    ath_date: AwareDatetime | None = None
    atl: Decimal | None = Field(default=None, gt=0)
    atl_change_percentage: Decimal | None = None
    atl_date: AwareDatetime | None = None
    last_updated: AwareDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Asset:
        """Figures that contradict each other stop the service, naming the asset."""
        problems = []
        price = self.price_usd
        low, high = self.low_24h, self.high_24h
        if low is not None and high is not None and not low <= price <= high:
            problems.append("price_usd must lie between low_24h and high_24h")
        ath, atl = self.ath, self.atl
        for name, extreme, change, outside in (
            ("ath", ath, self.ath_change_percentage, ath is not None and price > ath),
            ("atl", atl, self.atl_change_percentage, atl is not None and price < atl),
        ):
            if outside:
                problems.append(f"price_usd is beyond its {name}")
            if extreme is not None and change is not None:
                expected = (price - extreme) / extreme * 100
                if abs(expected - change) > PERCENT_TOLERANCE:
                    problems.append(
                        f"{name}_change_percentage is {change}, the prices say {expected:.2f}"
                    )
        change_24h, percent_24h = self.price_change_24h, self.price_change_percentage_24h
        if change_24h is not None and percent_24h is not None and change_24h * percent_24h < 0:
            problems.append("price_change_24h and price_change_percentage_24h differ in sign")
        for name in ("ath_date", "atl_date"):
            when = getattr(self, name)
            if when is not None and self.last_updated is not None and when > self.last_updated:
                problems.append(f"{name} is after last_updated")
        if problems:
            raise ValueError(f"{self.asset_id}: {'; '.join(problems)}")
        return self

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
            elif isinstance(value, datetime):
                value = value.isoformat().replace("+00:00", "Z")
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
