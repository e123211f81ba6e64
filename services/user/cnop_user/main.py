"""Build the user service application from its settings."""

from __future__ import annotations

from fastapi import FastAPI

from cnop_common.app import create_service_app, make_store, store_ready_check
from cnop_common.internal_http import InternalClient
from cnop_common.inventory_client import InventoryClient
from cnop_user import SERVICE
from cnop_user.accounts import Accounts
from cnop_user.balances import Balances
from cnop_user.login import Login
from cnop_user.passwords import Passwords
from cnop_user.portfolio import Portfolio
from cnop_user.routes import build_router
from cnop_user.settings import UserSettings
from cnop_user.tables import OWN_TABLES


def close_all(*clients: InternalClient) -> None:
    """Release every peer connection pool."""
    for client in clients:
        client.close()


def create_app(settings: UserSettings | None = None) -> FastAPI:
    """The user service with its store, peers and routes wired in."""
    settings = settings or UserSettings()
    store = make_store(SERVICE, settings)
    passwords = Passwords(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
        max_concurrent=settings.argon2_max_concurrent,
    )
    signer = settings.signer()
    inventory = InventoryClient(
        caller=SERVICE,
        base_url=settings.inventory_url,
        timeout_seconds=settings.peer_timeout_seconds,
        signer=signer,
        pool_size=settings.peer_pool_size,
    )
    accounts = Accounts(store, passwords)
    auth = InternalClient(
        caller=SERVICE,
        peer="auth",
        base_url=settings.auth_url,
        timeout_seconds=settings.peer_timeout_seconds,
        signer=signer,
        pool_size=settings.peer_pool_size,
    )
    balances = Balances(
        store,
        {"deposit": settings.daily_deposit_limit, "withdraw": settings.daily_withdraw_limit},
    )
    portfolio = Portfolio(store, inventory)
    check_store = store_ready_check(store, OWN_TABLES, (), settings.create_tables)
    return create_service_app(
        service=SERVICE,
        settings=settings,
        routers=[build_router(store, accounts, balances, portfolio, Login(accounts, auth))],
        ready_checks={
            "store": check_store,
            "inventory": inventory.http.check,
            "auth": auth.check,
        },
        on_startup=check_store,
        on_shutdown=lambda: close_all(inventory.http, auth),
    )
