"""/api/v1/*: the page's calls, checked here and forwarded to the gateway; /session."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response

from cnop_common.errors import ApiError
from cnop_common.forwarded import client_ip, is_in, viewer_ip
from cnop_web.proxy import API_PREFIX, Answer, GatewayProxy, Outgoing
from cnop_web.security import check_same_origin, is_plain_api_path
from cnop_web.session import Sessions, read_login
from cnop_web.settings import MAX_DEPOSIT, WebSettings

LOGIN = f"{API_PREFIX}/auth/login"
LOGOUT = f"{API_PREFIX}/auth/logout"
PROFILE = f"{API_PREFIX}/auth/profile"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
NO_USER = Answer(200, {"content-type": "application/json"}, b'{"user": null}')


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"Request body is larger than {limit} bytes.")


def browser_ip(request: Request, settings: WebSettings) -> str:
    """The browser's address: the peer, or what our proxies (and a CDN behind them) say."""
    peer = request.client.host if request.client else ""
    trusted = settings.trusted_proxies
    if settings.viewer_address_header and is_in(peer, trusted):
        viewer = viewer_ip(request.headers.get(settings.viewer_address_header))
        if viewer is not None:
            return viewer
    return client_ip(peer, request.headers.getlist("x-forwarded-for"), trusted)


def _outgoing(
    request: Request, path: str, token: str | None, settings: WebSettings, body: bytes = b""
) -> Outgoing:
    return Outgoing(
        method=request.method,
        path_and_query=path,
        headers=dict(request.headers),
        body=body,
        token=token,
        client_ip=browser_ip(request, settings),
    )


def _reply(answer: Answer, body: bytes | None = None) -> Response:
    response = Response(
        answer.body if body is None else body, answer.status, headers=answer.headers
    )
    # Only what the API itself calls cacheable (with its validators) may be kept.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def api_router(settings: WebSettings, proxy: GatewayProxy, sessions: Sessions) -> APIRouter:
    """The forwarding route, with the session cookie handled on the way back."""
    router = APIRouter(include_in_schema=False)

    @router.api_route(f"{API_PREFIX}/{{path:path}}", methods=METHODS)
    async def forward(request: Request) -> Response:
        check_same_origin(request.method, request.headers)
        raw_path: bytes = request.scope["raw_path"]
        if not is_plain_api_path(raw_path):
            raise ApiError(404, "ROUTE_NOT_FOUND", "No such API route.")
        path = raw_path.decode("latin-1")
        query = request.scope.get("query_string", b"").decode("latin-1")
        token = request.cookies.get(sessions.name)
        body = await read_body(request, settings.max_body_bytes)
        answer = await proxy.send(
            _outgoing(
                request,
                f"{path}?{query}" if query else path,
                token,
                settings,
                body,
            )
        )
        if path == LOGIN and request.method == "POST" and answer.status == 200:
            token, expires_in, page_body = read_login(answer.body)
            response = _reply(answer, page_body)
            sessions.start(response, token, expires_in)
            return response
        response = _reply(answer)
        if path == LOGOUT and request.method == "POST":
            # Only a logout that happened (or a token already dead) ends the session:
            # with auth away the token is still valid, and the cookie is the user's
            # only way to revoke it once auth is back.
            if answer.status in (200, 401):
                sessions.end(response, "ended")
        elif answer.status == 401 and token:
            # Expired or revoked: the cookie is of no more use.
            sessions.end(response, "dropped")
        return response

    @router.get("/limits")
    async def limits() -> Response:
        """The limits the forms show: {"order_value_cap": "10000.00", ...}, decimals as strings."""
        body = {
            "order_value_cap": str(settings.order_value_cap),
            "max_deposit": str(MAX_DEPOSIT),
            "daily_deposit_limit": str(settings.daily_deposit_limit),
            "daily_withdraw_limit": str(settings.daily_withdraw_limit),
        }
        return Response(
            json.dumps(body),
            200,
            media_type="application/json",
            headers={"Cache-Control": "no-cache"},
        )

    @router.get("/session")
    async def session(request: Request) -> Response:
        """Who is logged in: {"user": <profile>} or {"user": null}; never a 401.

        The page cannot read its HttpOnly cookie, so it asks here. Without a
        cookie the answer needs no call to the gateway at all.
        """
        token = request.cookies.get(sessions.name)
        if not token:
            return _reply(NO_USER)
        answer = await proxy.send(_outgoing(request, PROFILE, token, settings))
        if answer.status == 200:
            return _reply(answer, b'{"user": ' + answer.body + b"}")
        if answer.status == 401:
            response = _reply(NO_USER)
            sessions.end(response, "dropped")
            return response
        return _reply(answer)

    return router
