"""Order service settings."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from cnop_common.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    """Everything the order service reads from its environment."""

    port: int = Field(default=8002, ge=1, le=65535)
    admin_port: int = Field(default=9402, ge=1, le=65535)
    inventory_url: str = "http://127.0.0.1:8001"
    peer_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    order_value_cap: Decimal = Field(default=Decimal("10000.00"), gt=0)
