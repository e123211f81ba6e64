"""`python -m cnop_auth`: serve the auth service; bad keys stop it before it listens."""

import sys

import uvicorn
from prometheus_client import start_http_server
from pydantic import ValidationError

from cnop_auth import tracing
from cnop_auth.app import create_app
from cnop_auth.contain import ContainErrors
from cnop_auth.guarded_http import Limits, guarded_protocol
from cnop_auth.observability import REFUSED_REQUESTS, configure_logging
from cnop_auth.settings import AuthSettings

# As every other server (cnop_common.server): the gateway lets go of idle connections first.
KEEP_ALIVE_SECONDS = 5


def limits(settings: AuthSettings) -> Limits:
    """The guarded protocol's bounds, from the settings every server shares."""
    return Limits(
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
        max_header_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
    )


def main() -> int:
    """Validate settings, then serve until stopped."""
    try:
        settings = AuthSettings()
    except ValidationError as exc:
        # Name the problem, never the key material.
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        print(f"auth: refusing to start: {problems}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_file)
    start_http_server(settings.admin_port, addr=settings.host)
    tracing.configure()
    uvicorn.run(
        ContainErrors(create_app(settings)),
        # The same slow-client, header-size and malformed-request bounds as every
        # other server of the platform (its own copy: auth imports nothing shared).
        http=guarded_protocol("auth", limits(settings), REFUSED_REQUESTS),
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        ws="none",  # no WebSocket here: an upgrade request is an ordinary request
        access_log=False,
        log_config=None,
    )
    tracing.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
