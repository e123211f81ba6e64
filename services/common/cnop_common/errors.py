"""The one error body of the API: {"detail", "code", "request_id"}.

Nothing internal (stack traces, table names, exception class names) ever
reaches a client; unexpected errors are logged with their stack and answered
with a generic 500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cnop_common.logging import get_logger
from cnop_common.tracing import current_request_id

log = get_logger(__name__)


class ApiError(Exception):
    """An error the API documents: a status, an UPPER_SNAKE code and a message."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


class StoreUnavailable(ApiError):  # noqa: N818 - named for the API code it answers
    """The data store did not answer.

    A write may still be applied (whole, never in part) if the store received
    it before timing out, so the message points clients at Idempotency-Key.
    """

    def __init__(self) -> None:
        super().__init__(
            503,
            "STORE_UNAVAILABLE",
            "The data store is unavailable. Retry shortly; send the same Idempotency-Key"
            " so that a retry cannot apply a change twice.",
            {"Retry-After": "1"},
        )


class UpstreamUnavailable(ApiError):  # noqa: N818 - named for the API code it answers
    """A peer service did not answer in time."""

    def __init__(self, peer: str) -> None:
        super().__init__(
            503,
            "UPSTREAM_UNAVAILABLE",
            f"The {peer} service is unavailable; nothing was changed. Retry shortly.",
            {"Retry-After": "1"},
        )


def error_body(status_code: int, code: str, detail: str | Sequence[Any]) -> dict[str, Any]:
    """The JSON body every error response carries."""
    return {"detail": detail, "code": code, "request_id": current_request_id()}


def error_response(
    status_code: int,
    code: str,
    detail: str | Sequence[Any],
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSONResponse in the API's error format."""
    return JSONResponse(error_body(status_code, code, detail), status_code, dict(headers or {}))


def _code_for_status(status_code: int) -> str:
    if status_code == 404:
        return "NOT_FOUND"
    try:
        return HTTPStatus(status_code).name
    except ValueError:
        return "ERROR"


def _public_validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # FastAPI's list form without `input`/`ctx`: they would echo secrets such as
    # a rejected password back to the client, and ctx may hold exception objects.
    return [
        {"type": err.get("type"), "loc": list(err.get("loc", ())), "msg": err.get("msg")}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error, expected or not, in the API's error format."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status_code, exc.code, exc.detail, exc.headers)

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return error_response(
            exc.status_code, _code_for_status(exc.status_code), detail, exc.headers
        )

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "VALIDATION_ERROR", _public_validation_errors(exc))

    async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error_type=type(exc).__name__)
        return error_response(500, "INTERNAL_ERROR", "Internal server error")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
