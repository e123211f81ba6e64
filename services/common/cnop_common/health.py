"""GET /health (liveness) and GET /ready (readiness: store and required peers answer)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cnop_common.errors import ApiError
from cnop_common.logging import get_logger

log = get_logger(__name__)

ReadyCheck = Callable[[], None]


def health_router(service: str, ready_checks: Mapping[str, ReadyCheck]) -> APIRouter:
    """Liveness never touches dependencies; readiness runs every named check."""
    router = APIRouter(tags=["operations"])

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy", "service": service}

    @router.get("/ready")
    async def ready() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in ready_checks.items():
            try:
                # Checks call the store or peers with blocking clients.
                await run_in_threadpool(check)
                results[name] = "ok"
            except ApiError as exc:
                results[name] = exc.code
            except Exception as exc:  # a readiness probe must answer, whatever failed
                log.warning("ready_check_failed", check=name, error_type=type(exc).__name__)
                results[name] = "error"
        ok = all(result == "ok" for result in results.values())
        body = {"status": "ready" if ok else "not_ready", "service": service, "checks": results}
        return JSONResponse(body, status_code=200 if ok else 503)

    return router
