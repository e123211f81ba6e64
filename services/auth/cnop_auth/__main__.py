"""`python -m cnop_auth`: serve the auth service; bad keys stop it before it listens."""

import sys

import uvicorn
from prometheus_client import start_http_server
from pydantic import ValidationError

from cnop_auth import tracing
from cnop_auth.app import create_app
from cnop_auth.contain import ContainErrors
from cnop_auth.observability import configure_logging
from cnop_auth.settings import AuthSettings


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
