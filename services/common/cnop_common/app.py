"""Assemble a backend service: middleware, error format, health, metrics, store bootstrap."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from cnop_common.assertions import Verifier
from cnop_common.errors import install_error_handlers
from cnop_common.health import ReadyCheck, health_router
from cnop_common.logging import get_logger
from cnop_common.middleware import RequestContextMiddleware
from cnop_common.nonces import NonceStore
from cnop_common.schema import TableSpec
from cnop_common.settings import ServiceSettings
from cnop_common.store import Store
from cnop_common.trust import TrustedSourceMiddleware

log = get_logger(__name__)


def make_store(service: str, settings: ServiceSettings) -> Store:
    """The service's store client, configured from its settings."""
    return Store(
        service,
        endpoint_url=settings.dynamodb_endpoint_url,
        region=settings.aws_region,
        table_prefix=settings.table_prefix,
        timeout_seconds=settings.store_timeout_seconds,
        pool_size=settings.store_pool_size,
    )


def store_ready_check(
    store: Store, own_tables: Sequence[TableSpec], used_tables: Sequence[TableSpec], create: bool
) -> ReadyCheck:
    """Readiness of the store: (re)create own tables when allowed, then every table answers."""

    def check() -> None:
        if create and not store.bootstrapped:
            with store.errors("ensure_tables"):
                store.ensure_tables(own_tables)
        store.check_tables([*own_tables, *used_tables])

    return check


def create_service_app(
    *,
    service: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    ready_checks: Mapping[str, ReadyCheck],
    internal_callers: Collection[str] = (),
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    """A FastAPI app with the platform's plumbing around the service's routers."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if on_startup is not None:
            try:
                await run_in_threadpool(on_startup)
            except Exception as exc:
                # Not fatal: /ready stays 503 and retries until the store is back.
                log.warning("startup_incomplete", error_type=type(exc).__name__)
        log.info("service_started", port=settings.port, environment=settings.environment)
        yield
        if on_shutdown is not None:
            on_shutdown()
        log.info("service_stopped")

    app = FastAPI(title=service, lifespan=lifespan, version="1.0.0")
    install_error_handlers(app)
    app.include_router(health_router(service, ready_checks))
    for router in routers:
        app.include_router(router)
    # Added last = outermost: ids and metrics wrap even the trust refusals.
    app.add_middleware(
        TrustedSourceMiddleware,
        service=service,
        networks=settings.trusted_networks,
        internal_callers=internal_callers,
        verifier=Verifier.load(settings.identity_public_keys_file, service)
        if settings.identity_public_keys_file
        else None,
        nonces=NonceStore(settings.nonce_store_url, service) if settings.nonce_store_url else None,
    )
    app.add_middleware(RequestContextMiddleware, service=service)
    return app
