"""HTTP API of the auth service: validate, issue and revoke tokens."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from ipaddress import ip_address
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from cnop_auth import SERVICE
from cnop_auth.keyring import KeyringFollower
from cnop_auth.observability import (
    ISSUED,
    NONCE_FALLBACKS,
    REFUSED_CALLERS,
    REVOKED,
    VALIDATION_LATENCY,
    VALIDATIONS,
    RequestContext,
)
from cnop_auth.revocations import Revocations, StoreDown
from cnop_auth.settings import AuthSettings
from cnop_auth.signed_calls import NonceStore, SignedCallMiddleware, Verifier
from cnop_auth.tokens import MAX_TOKEN_LENGTH, Claims, TokenRejected, TokenService

log = structlog.stdlib.get_logger("auth")
USERNAME_PATTERN = r"^[a-z0-9_]{1,64}$"


class TokenBody(BaseModel):
    """A token to validate or revoke."""

    model_config = ConfigDict(extra="forbid")
    # Longer than any token we issue is rejected as invalid, not as malformed.
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH * 4)


class IssueBody(BaseModel):
    """Who to issue a token for."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=USERNAME_PATTERN)
    role: str = Field(pattern=r"^[a-z_]{1,32}$")


def _error(status: int, code: str, detail: Any, request: Request) -> JSONResponse:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return JSONResponse({"detail": detail, "code": code, "request_id": request_id}, status)


def _rejection(reason: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"valid": False, "error": reason, "message": message},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def create_app(settings: AuthSettings) -> FastAPI:
    """The auth service, wired to its keyring and revocation store."""
    tokens = TokenService(
        settings.keyring(),
        settings.active_kid,
        issuer=settings.issuer,
        audience=settings.audience,
        ttl_seconds=settings.token_ttl_seconds,
        leeway_seconds=settings.leeway_seconds,
    )
    revocations = Revocations(
        table=settings.table_name(),
        endpoint_url=settings.dynamodb_endpoint_url,
        region=settings.aws_region,
        timeout_seconds=settings.store_timeout_seconds,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.create_tables:
            try:
                await run_in_threadpool(revocations.ensure_table)
            except Exception as exc:  # not fatal: /ready stays 503 until the store answers
                log.warning("startup_incomplete", error_type=type(exc).__name__)
        log.info(
            "service_started",
            port=settings.port,
            active_kid=settings.active_kid,
            keys=len(tokens.keyring),
        )
        yield

    app = FastAPI(title=SERVICE, version="1.0.0", lifespan=lifespan)

    _install_error_handlers(app)

    _add_token_routes(app, settings, tokens, revocations)
    _add_operations_routes(app, settings, revocations)
    keys = settings.identity_public_keys_file
    nonces = (
        NonceStore(settings.nonce_store_url, NONCE_FALLBACKS.labels("auth"))
        if settings.nonce_store_url
        else None
    )
    app.add_middleware(
        SignedCallMiddleware,
        verifier=Verifier.load(keys, "auth") if keys is not None else None,
        nonces=nonces,
    )
    app.add_middleware(RequestContext)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    """Every error in the platform's format."""

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return _error(422, "VALIDATION_ERROR", detail, request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(
            exc.status_code,
            "NOT_FOUND" if exc.status_code == 404 else "ERROR",
            str(exc.detail),
            request,
        )

    @app.exception_handler(StoreDown)
    async def on_store_down(request: Request, _exc: StoreDown) -> JSONResponse:
        log.error("store_unavailable")
        response = _error(503, "STORE_UNAVAILABLE", "The token store is unavailable.", request)
        response.headers["Retry-After"] = "1"
        return response


def _add_operations_routes(app: FastAPI, settings: AuthSettings, revocations: Revocations) -> None:
    """/health and /ready (the revocation store answers); /metrics is on the admin port."""

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "healthy", "service": SERVICE}

    @app.get("/ready", response_model=None)
    def ready() -> dict[str, Any] | JSONResponse:
        try:
            revocations.check()
        except StoreDown:
            if settings.create_tables:
                try:
                    revocations.ensure_table()
                except Exception:  # the store is still away; report, do not raise
                    log.warning("store_not_ready")
            body = {"status": "not_ready", "service": SERVICE, "checks": {"store": "down"}}
            return JSONResponse(body, status_code=503)
        return {"status": "ready", "service": SERVICE, "checks": {"store": "ok"}}


class Checks:
    """Who may call, and whether a token is good: shared by the token routes."""

    def __init__(
        self, settings: AuthSettings, tokens: TokenService, revocations: Revocations
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.revocations = revocations
        self.keyring = KeyringFollower(settings, tokens)
        self.signed = settings.identity_public_keys_file is not None

    def caller_may(self, request: Request, allowed: Collection[str]) -> bool:
        """A trusted peer naming itself, once, as one of `allowed`."""
        client = request.client
        try:
            peer = ip_address(client.host) if client else None
        except ValueError:
            peer = None
        networks = self.settings.trusted_networks
        trusted = peer is not None and any(peer in net for net in networks)
        sources = request.headers.getlist("x-source")
        if not (trusted and len(sources) == 1 and sources[0] in allowed):
            return False
        if not self.signed:
            return True  # development without keys: the network check alone
        # SignedCallMiddleware checked this very call's signature (signed_calls.py).
        return bool(getattr(request.state, "signed_by", None) == sources[0])

    @staticmethod
    def refuse(request: Request) -> JSONResponse:
        """403 for a caller that may not use this endpoint, counted and logged."""
        REFUSED_CALLERS.labels(request.url.path).inc()
        log.warning(
            "caller_refused",
            path=request.url.path,
            source=request.headers.get("x-source"),
            reason=getattr(request.state, "refusal", None) or "not_allowed_here",
        )
        return _error(403, "UNTRUSTED_SOURCE", "This caller may not use this endpoint.", request)

    def check_token(self, token: str) -> Claims:
        """Authentic, current and not revoked; TokenRejected otherwise."""
        self.keyring.refresh()
        claims = self.tokens.validate(token)
        if self.revocations.is_revoked(claims.token_id):
            raise TokenRejected("token_revoked", "token revoked")
        return claims

    def observed_check(self, token: str) -> Claims | TokenRejected:
        """check_token, counted, timed and logged (never the token itself)."""
        started = time.perf_counter()
        try:
            claims = self.check_token(token)
        except TokenRejected as rejected:
            VALIDATIONS.labels("rejected", rejected.reason).inc()
            log.info("token_rejected", reason=rejected.reason, detail=rejected.detail)
            return rejected
        finally:
            VALIDATION_LATENCY.observe(time.perf_counter() - started)
        VALIDATIONS.labels("valid", "ok").inc()
        return claims


def _add_token_routes(
    app: FastAPI, settings: AuthSettings, tokens: TokenService, revocations: Revocations
) -> None:
    """validate-jwt, verify and revoke (for the gateway), tokens (for the user service)."""
    checks = Checks(settings, tokens, revocations)
    caller_may, refuse, observed_check = checks.caller_may, checks.refuse, checks.observed_check

    @app.post("/auth/validate-jwt", response_model=None)
    def validate(body: TokenBody, request: Request) -> dict[str, Any] | JSONResponse:
        if not caller_may(request, settings.validate_callers):
            return refuse(request)
        claims = observed_check(body.token)
        if isinstance(claims, TokenRejected):
            return _rejection(claims.reason, "The token is not valid.")
        return {
            "valid": True,
            "user": {"username": claims.username, "role": claims.role},
            "token_id": claims.token_id,
            "expires_at": claims.expires_at,
        }

    @app.get("/auth/verify", response_model=None)
    def verify(request: Request) -> Response:
        """Forward-auth form of validate-jwt (nginx auth_request, ingress auth-url).

        Reads `Authorization: Bearer <token>` and answers 200 with the user in
        X-Auth-User / X-Auth-Role, or 401. Same callers, same checks.
        """
        if not caller_may(request, settings.validate_callers):
            return refuse(request)
        header = request.headers.getlist("authorization")
        token = header[0][7:] if len(header) == 1 and header[0].startswith("Bearer ") else ""
        claims = observed_check(token)
        if isinstance(claims, TokenRejected):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return Response(
            status_code=200,
            headers={"X-Auth-User": claims.username, "X-Auth-Role": claims.role},
        )

    @app.post("/auth/tokens", status_code=201, response_model=None)
    def issue(body: IssueBody, request: Request) -> dict[str, Any] | JSONResponse:
        if not caller_may(request, settings.issue_callers):
            return refuse(request)
        checks.keyring.refresh()
        token, claims = tokens.issue(body.username, body.role)
        ISSUED.inc()
        log.info(
            "token_issued", user=claims.username, token_id=claims.token_id, kid=tokens.active_kid
        )
        return {"access_token": token, "token_type": "bearer", "expires_in": tokens.ttl_seconds}

    @app.post("/auth/revoke", response_model=None)
    def revoke(body: TokenBody, request: Request) -> dict[str, Any] | JSONResponse:
        if not caller_may(request, settings.validate_callers):
            return refuse(request)
        try:
            claims = checks.check_token(body.token)
        except TokenRejected as rejected:
            # Expired or already revoked: nothing left to deny. Forged: not ours to record.
            log.info("revoke_ignored", reason=rejected.reason)
            return _rejection(rejected.reason, "The token is not valid.")
        revocations.revoke(claims.token_id, claims.expires_at)
        REVOKED.inc()
        log.info("token_revoked", user=claims.username, token_id=claims.token_id)
        return {"message": "Token revoked", "token_id": claims.token_id}
