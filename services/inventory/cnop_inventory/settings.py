"""Inventory service settings."""

from __future__ import annotations

from pathlib import Path

from cnop_common.settings import ServiceSettings

DEFAULT_CATALOGUE = Path(__file__).parent / "data" / "assets.json"


class InventorySettings(ServiceSettings):
    """Everything the inventory service reads from its environment."""

    catalogue_file: Path = DEFAULT_CATALOGUE
    # Services allowed to call /internal/ (the price endpoints).
    internal_callers: tuple[str, ...] = ("user", "order")
