"""The local DynamoDB-compatible store: moto's server application, one request at a time.

The stock moto server handles requests on several threads at once, which
breaks the atomicity DynamoDB gives condition checks and transactions. Here
every request runs under one lock, so a conditional write or a
TransactWriteItems is checked and applied with nothing in between. Threads
still accept connections, so a slow client cannot stall the others' sockets.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from cnop_catalogue import STORE_PORT

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialised(app: WsgiApp) -> WsgiApp:
    """Wrap a WSGI app so that requests are processed strictly one after another."""
    lock = threading.Lock()

    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            # Materialise the body inside the lock: moto builds it lazily.
            return list(app(environ, start_response))

    return handle


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=STORE_PORT)
    args = parser.parse_args(argv)
    # One line per store call would bury the services' own logs.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = serialised(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"store listening on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
