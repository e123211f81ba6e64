"""`python -m cnop_web`: the browser-facing port for pages and API, admin port for /metrics."""

from cnop_common.server import serve_service
from cnop_web import SERVICE
from cnop_web.main import create_app
from cnop_web.settings import WebSettings

if __name__ == "__main__":
    settings = WebSettings()
    serve_service(
        SERVICE,
        lambda: create_app(settings),
        settings,
        module="cnop_web",
        workers=settings.workers,
    )
