"""HTTP routes of the user service (paths as the gateway forwards them, without /api/v1)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from cnop_common.assets import parse_asset_id
from cnop_common.decimals import decimal_router, money
from cnop_common.idempotency import IdempotentRequest
from cnop_common.store import Store
from cnop_common.trust import Caller, current_caller
from cnop_user.accounts import Accounts
from cnop_user.balances import Balances, Movement
from cnop_user.login import Login
from cnop_user.models import AmountRequest, LoginRequest, ProfileUpdate, RegisterRequest
from cnop_user.portfolio import Portfolio
from cnop_user.tables import IDEMPOTENCY

CallerDep = Annotated[Caller, Depends(current_caller)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]


def build_router(
    store: Store, accounts: Accounts, balances: Balances, portfolio: Portfolio, login: Login
) -> APIRouter:
    """All public routes of the user service."""
    router = decimal_router()

    @router.post("/auth/register", status_code=201, tags=["auth"])
    def register(body: RegisterRequest) -> dict[str, str]:
        accounts.register(body)
        return {"message": "User registered successfully"}

    @router.post("/auth/login", tags=["auth"])
    def log_in(body: LoginRequest) -> dict[str, Any]:
        return login.login(body)

    @router.get("/auth/profile", tags=["auth"])
    def get_profile(caller: CallerDep) -> dict[str, Any]:
        return accounts.profile(caller.username)

    @router.put("/auth/profile", tags=["auth"])
    def update_profile(body: ProfileUpdate, caller: CallerDep) -> dict[str, Any]:
        user = accounts.update_profile(caller.username, body)
        return {"message": "Profile updated successfully", "user": user}

    @router.get("/balance", tags=["balance"])
    def get_balance(caller: CallerDep) -> dict[str, Any]:
        item = balances.current(caller.username)
        return {"current_balance": money(item["balance"]), "updated_at": item.get("updated_at")}

    def move(kind: Movement, body: AmountRequest, caller: Caller, key: str | None) -> JSONResponse:
        idempotency = (
            IdempotentRequest(
                store,
                IDEMPOTENCY.name,
                user=caller.username,
                operation=kind,
                key=key,
                payload={"amount": str(body.amount.normalize())},
            )
            if key is not None
            else None
        )
        return balances.move(caller.username, kind, body.amount, idempotency)

    @router.post("/balance/deposit", status_code=201, tags=["balance"])
    def deposit(body: AmountRequest, caller: CallerDep, key: IdempotencyKey = None) -> JSONResponse:
        return move("deposit", body, caller, key)

    @router.post("/balance/withdraw", status_code=201, tags=["balance"])
    def withdraw(
        body: AmountRequest, caller: CallerDep, key: IdempotencyKey = None
    ) -> JSONResponse:
        return move("withdraw", body, caller, key)

    @router.get("/balance/transactions", tags=["balance"])
    def transactions(
        caller: CallerDep,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    ) -> dict[str, Any]:
        return balances.history(caller.username, limit, offset)

    @router.get("/balance/asset/{asset_id}", tags=["balance"])
    def asset_balance(asset_id: str, caller: CallerDep) -> dict[str, Any]:
        return portfolio.asset_balance(caller.username, parse_asset_id(asset_id))

    @router.get("/portfolio", tags=["portfolio"])
    def get_portfolio(caller: CallerDep) -> dict[str, Any]:
        cash = balances.current(caller.username)["balance"]
        return portfolio.summary(caller.username, cash)

    return router
