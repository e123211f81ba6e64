"""Build the web UI application from its settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from cnop_common.errors import install_error_handlers
from cnop_common.health import health_router
from cnop_common.logging import get_logger
from cnop_common.middleware import RequestContextMiddleware
from cnop_web import SERVICE
from cnop_web.api import api_router
from cnop_web.assets import AssetBundle
from cnop_web.compression import StaticCompression
from cnop_web.pages import pages_router
from cnop_web.proxy import GatewayProxy
from cnop_web.security import SecurityHeadersMiddleware
from cnop_web.session import Sessions
from cnop_web.settings import WebSettings

log = get_logger(__name__)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The web UI: pages, static files, and /api/v1 forwarded to the gateway."""
    settings = settings or WebSettings()
    proxy = GatewayProxy(settings)

    def gateway_answers() -> None:
        response = httpx.get(f"{settings.gateway_url}/health", timeout=2.0, trust_env=False)
        if response.status_code != 200:
            raise RuntimeError(f"gateway answered {response.status_code}")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        log.info("service_started", port=settings.port, environment=settings.environment)
        yield
        await proxy.close()
        log.info("service_stopped")

    # No /docs or /openapi.json: the public API is documented at the gateway.
    app = FastAPI(title=SERVICE, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    app.include_router(health_router(SERVICE, {"gateway": gateway_answers}))
    app.include_router(api_router(settings, proxy, Sessions(settings)))
    app.include_router(pages_router(AssetBundle()))
    app.add_middleware(RequestContextMiddleware, service=SERVICE)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(StaticCompression)
    return app
