"""Order service settings."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from cnop_common.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    """Everything the order service reads from its environment."""

    inventory_url: str  # no default: the catalogue has the port, the runner passes it
    peer_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    order_value_cap: Decimal = Field(default=Decimal("10000.00"), gt=0)
