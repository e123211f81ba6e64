"""Build the order service application from its settings."""

from __future__ import annotations

from fastapi import FastAPI

from cnop_common.app import create_service_app, make_store, store_ready_check
from cnop_common.inventory_client import InventoryClient
from cnop_order import SERVICE
from cnop_order.history import OrderHistory
from cnop_order.routes import build_router
from cnop_order.settings import OrderSettings
from cnop_order.tables import OWN_TABLES, USED_TABLES
from cnop_order.trades import Trades


def create_app(settings: OrderSettings | None = None) -> FastAPI:
    """The order service with its store, inventory client and routes wired in."""
    settings = settings or OrderSettings()
    store = make_store(SERVICE, settings)
    inventory = InventoryClient(
        caller=SERVICE,
        base_url=settings.inventory_url,
        timeout_seconds=settings.peer_timeout_seconds,
        signer=settings.signer(),
        pool_size=settings.peer_pool_size,
    )
    trades = Trades(SERVICE, store, inventory, settings.order_value_cap)
    check_store = store_ready_check(store, OWN_TABLES, USED_TABLES, settings.create_tables)
    return create_service_app(
        service=SERVICE,
        settings=settings,
        routers=[build_router(store, trades, OrderHistory(store), inventory)],
        ready_checks={"store": check_store, "inventory": inventory.http.check},
        on_startup=check_store,
        on_shutdown=inventory.http.close,
    )
