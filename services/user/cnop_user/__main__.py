"""`python -m cnop_user`: serve the user service."""

from cnop_common.server import serve_service
from cnop_user import SERVICE
from cnop_user.main import create_app
from cnop_user.settings import UserSettings

if __name__ == "__main__":
    settings = UserSettings()
    serve_service(
        SERVICE,
        lambda: create_app(settings),
        settings,
        module="cnop_user",
        workers=settings.workers,
    )
