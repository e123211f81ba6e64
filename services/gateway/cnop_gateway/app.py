"""The gateway as a plain ASGI application.

No web framework on the request path: one route-table lookup, one cached or
remote token check, one pooled upstream call. Everything a client sends is
checked before anything is forwarded.
"""

from __future__ import annotations

import time

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import Receive, Scope, Send

from cnop_common import tracing
from cnop_common.logging import get_logger
from cnop_common.metrics import HTTP_LATENCY, HTTP_REQUESTS
from cnop_common.middleware import begin_request
from cnop_gateway import SERVICE
from cnop_gateway.asgi import BodyTooLarge, first_header, login_name, read_body, send_reply
from cnop_gateway.auth_gate import AuthGate
from cnop_gateway.cache import ValidationCache, token_key
from cnop_gateway.call import Call
from cnop_gateway.cors import Cors
from cnop_gateway.headers import Headers, client_ip, for_upstream
from cnop_gateway.limits import LoginGuard, RateLimiter
from cnop_gateway.readiness import Readiness
from cnop_gateway.responses import Reply, error, json_reply, unavailable
from cnop_gateway.routing import PREFIX, RouteTable, WrongMethod
from cnop_gateway.settings import GatewaySettings
from cnop_gateway.shared import SharedLimits
from cnop_gateway.upstreams import Upstream, UpstreamDown, build_upstreams

access_log = get_logger("access")
security_log = get_logger("security")


SAFE = frozenset({"GET", "HEAD"})
NO_STORE = (b"cache-control", b"no-store")


class Gateway:
    """Routing, authentication, limits and forwarding for the public API."""

    def __init__(self, settings: GatewaySettings, table: RouteTable | None = None) -> None:
        self.settings = settings
        self.table = table or RouteTable.load()
        self.cache = ValidationCache(
            bound_seconds=settings.auth_cache_seconds, max_entries=settings.auth_cache_size
        )
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.guard = LoginGuard(
            max_per_user=settings.login_max_failures_per_user,
            max_per_ip=settings.login_max_failures_per_ip,
            window_seconds=settings.login_window_seconds,
            block_seconds=settings.login_block_seconds,
        )
        # The gateway's own key: backends believe the user only as it signs it.
        self.signer = settings.signer()
        self.shared = SharedLimits(settings.limits_store_url, self.limiter, self.guard, self.cache)
        self.cors = Cors(settings.cors_origins)
        self.upstreams: dict[str, Upstream] = {}
        self.readiness = Readiness(self.upstreams)
        self.gate: AuthGate | None = None
        self.handlers = {"logout": self._logout, "login": self._login, "proxy": self._forward}
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def startup(self) -> None:
        """Open the connection pool and one breaker per upstream."""
        self.upstreams.update(build_upstreams(self.settings))
        self.gate = AuthGate(self.upstreams["auth"], self.cache, self.shared, self.signer)
        self.shared.start()

    async def shutdown(self) -> None:
        """Close the connection pools."""
        if self.upstreams:
            await next(iter(self.upstreams.values())).session.close()
        await self.shared.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers: Headers = list(scope["headers"])
        request_id, trace, finish_span = begin_request(
            f"{scope['method']} gateway",
            first_header(headers, b"x-request-id"),
            first_header(headers, b"traceparent"),
            user=None,
        )
        peer = scope["client"][0] if scope.get("client") else ""
        call = Call(
            scope,
            receive,
            headers,
            request_id,
            client_ip(peer, headers, self.settings.trusted_proxies),
        )
        started = time.perf_counter()
        try:
            reply = await self._handle(call)
        except Exception:
            security_log.exception("gateway_error")
            reply = error(500, "INTERNAL_ERROR", "Internal server error", request_id)
        reply.headers += [
            (b"x-request-id", request_id.encode()),
            (b"traceparent", trace.traceparent().encode()),
            *self.cors.response_headers(headers),
        ]
        await send_reply(send, reply)
        finish_span(reply.status)
        self._observe(call, reply.status, time.perf_counter() - started)

    def _observe(self, call: Call, status: int, elapsed: float) -> None:
        method = call.scope["method"]
        counted = self._series.get((call.route_label, method, status))
        if counted is None:
            # Bound once per route, method and status (a few dozen): labels() per
            # request is a dict lookup under a lock. Route labels are templates.
            counted = self._series[(call.route_label, method, status)] = (
                HTTP_REQUESTS.labels(SERVICE, call.route_label, method, str(status)),
                HTTP_LATENCY.labels(SERVICE, call.route_label, method),
            )
        counted[0].inc()
        counted[1].observe(elapsed)
        if call.route_label != "/health":
            access_log.info(
                "request",
                method=method,
                route=call.route_label,
                status=status,
                duration_ms=round(elapsed * 1000, 3),
                upstream=call.route.upstream if call.route else None,
                client_ip=call.ip,
            )

    async def _handle(self, call: Call) -> Reply:
        raw_path = call.scope["raw_path"]
        if raw_path == b"/health":
            call.route_label = "/health"
            return json_reply(200, {"status": "healthy", "service": SERVICE})
        # Everything but the liveness probe counts against the caller's budget:
        # /ready fans out to the upstreams and preflights are free to send.
        token = AuthGate.bearer_token(call.headers)
        call.token_key = token_key(token) if token is not None else None
        admission = await self.shared.admit(call.ip, call.token_key)
        call.revoked = admission.revoked
        quota = admission.quota
        if not quota.allowed:
            security_log.warning("rate_limited", client_ip=call.ip)
            retry = max(1, quota.reset_at - int(time.time()))
            return error(
                429,
                "RATE_LIMITED",
                "Too many requests; slow down.",
                call.request_id,
                [*quota.headers(), (b"retry-after", str(retry).encode())],
            )
        if raw_path == b"/ready":
            call.route_label = "/ready"
            reply = await self.readiness.reply()
        elif call.scope["method"] == "OPTIONS":
            call.route_label = "preflight"
            reply = self.cors.preflight(call.headers, call.request_id)
        else:
            reply = await self._route(call)
        # Every answer that counted against the budget says how much of it is left.
        reply.headers += quota.headers()
        return reply

    async def _route(self, call: Call) -> Reply:
        reply = await self._dispatch(call)
        route = call.route
        if route is None or route.auth == "protected" or call.scope["method"] not in SAFE:
            # Only a public GET may be kept by a browser or a proxy (the catalogue's
            # answers carry their own caching); anything for one user, a token
            # included (login), never.
            reply.headers = [(k, v) for k, v in reply.headers if k != b"cache-control"]
            reply.headers.append(NO_STORE)
        return reply

    async def _dispatch(self, call: Call) -> Reply:
        found = self.table.match(call.scope["method"], call.scope["raw_path"])
        if found is None:
            return error(404, "ROUTE_NOT_FOUND", "No such route.", call.request_id)
        if isinstance(found, WrongMethod):
            allow = ", ".join(found.allowed).encode()
            return error(
                405,
                "METHOD_NOT_ALLOWED",
                "Method not allowed on this route.",
                call.request_id,
                [(b"allow", allow)],
            )
        call.route = found.route
        call.route_label = found.route.path
        try:
            call.body = await read_body(call.receive, self.settings.max_body_bytes)
        except BodyTooLarge:
            return error(
                413, "PAYLOAD_TOO_LARGE", "The request body is too large.", call.request_id
            )
        if found.route.auth == "protected":
            refused = await self._authenticate(call)
            if refused is not None:
                return refused
        return await self.handlers[found.route.handler](call)

    async def _authenticate(self, call: Call) -> Reply | None:
        assert self.gate is not None
        checked = await self.gate.identify(
            call.headers,
            call.request_id,
            tracing.propagation_headers(),
            key=call.token_key,
            revoked=call.revoked,
        )
        if isinstance(checked, Reply):
            return checked
        call.identity = checked
        structlog.contextvars.bind_contextvars(user=checked.username)
        return None

    async def _forward(self, call: Call) -> Reply:
        assert call.route is not None
        injected = {
            **tracing.propagation_headers(),
            "x-source": "gateway",
            "x-auth-service": "auth-service",
            "x-forwarded-for": call.ip,
        }
        if call.identity is not None:
            injected["x-user-id"] = call.identity.username
            injected["x-user-role"] = call.identity.role
        target = call.scope["raw_path"][len(PREFIX) :].decode("latin-1")
        if call.scope["query_string"]:
            target += "?" + call.scope["query_string"].decode("latin-1")
        if self.signer is not None:
            # This very call, signed: method, target, body, upstream, user (assertions.py).
            identity = call.identity
            injected.update(
                self.signer.sign(
                    call.scope["method"],
                    target,
                    call.body,
                    call.route.upstream,
                    subject=identity.username if identity else None,
                    role=identity.role if identity else None,
                )
            )
        upstream = self.upstreams[call.route.upstream]
        try:
            answer = await upstream.request(
                call.scope["method"], target, for_upstream(call.headers, injected), call.body
            )
        except UpstreamDown as down:
            return unavailable(
                "UPSTREAM_UNAVAILABLE",
                f"The {down.upstream} service is unavailable.",
                call.request_id,
                down.retry_after,
            )
        return Reply(answer.status, answer.headers, answer.body)

    async def _login(self, call: Call) -> Reply:
        username = login_name(call.body)
        wait = await self.shared.login_begin(username, call.ip)
        if wait:
            security_log.warning("login_blocked", attempted_user=username, client_ip=call.ip)
            return error(
                429,
                "LOGIN_BLOCKED",
                "Too many failed logins; try again later.",
                call.request_id,
                [(b"retry-after", str(wait).encode())],
            )
        failed = False
        try:
            reply = await self._forward(call)
            failed = reply.status == 401
        finally:
            started = await self.shared.login_end(username, call.ip, failed=failed)
        if failed:
            security_log.info("login_failed", attempted_user=username, client_ip=call.ip)
            for scope_name in started:
                security_log.warning(
                    "login_block_started",
                    scope=scope_name,
                    attempted_user=username,
                    client_ip=call.ip,
                )
        return reply

    async def _logout(self, call: Call) -> Reply:
        assert self.gate is not None
        token = self.gate.bearer_token(call.headers)
        assert token is not None  # identify() accepted it
        try:
            status = await self.gate.revoke(token, tracing.propagation_headers())
        except UpstreamDown as down:
            return unavailable(
                "AUTH_UNAVAILABLE",
                "Authentication is unavailable.",
                call.request_id,
                down.retry_after,
            )
        if status == 200:
            security_log.info("logout")
            return json_reply(200, {"message": "Logged out successfully"})
        if status == 401:
            return error(
                401,
                "INVALID_TOKEN",
                "The token is not valid.",
                call.request_id,
                [(b"www-authenticate", b"Bearer")],
            )
        return unavailable("AUTH_UNAVAILABLE", "Authentication is unavailable.", call.request_id, 1)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
