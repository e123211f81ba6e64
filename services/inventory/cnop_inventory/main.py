"""Build the inventory service application from its settings."""

from __future__ import annotations

from fastapi import FastAPI

from cnop_common.app import create_service_app
from cnop_inventory import SERVICE
from cnop_inventory.catalogue import Catalogue
from cnop_inventory.routes import build_router
from cnop_inventory.settings import InventorySettings


def create_app(settings: InventorySettings | None = None) -> FastAPI:
    """The inventory service; the catalogue loads (and is validated) before it serves."""
    settings = settings or InventorySettings()
    catalogue = Catalogue.load(settings.catalogue_file)

    def catalogue_loaded() -> None:
        if not catalogue.assets:
            raise RuntimeError("empty catalogue")

    return create_service_app(
        service=SERVICE,
        settings=settings,
        routers=[build_router(catalogue)],
        ready_checks={"catalogue": catalogue_loaded},
        internal_callers=settings.internal_callers,
    )
