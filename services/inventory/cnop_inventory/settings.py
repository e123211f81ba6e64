"""Inventory service settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cnop_common.settings import ServiceSettings

DEFAULT_CATALOGUE = Path(__file__).parent / "data" / "assets.json"


class InventorySettings(ServiceSettings):
    """Everything the inventory service reads from its environment."""

    port: int = Field(default=8001, ge=1, le=65535)
    admin_port: int = Field(default=9401, ge=1, le=65535)
    catalogue_file: Path = DEFAULT_CATALOGUE
    # Services allowed to call /internal/ (the price endpoints).
    internal_callers: tuple[str, ...] = ("user", "order")
