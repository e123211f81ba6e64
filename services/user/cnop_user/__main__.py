"""`python -m cnop_user`: serve the user service."""

from cnop_common.server import serve
from cnop_user import SERVICE
from cnop_user.main import create_app
from cnop_user.settings import UserSettings

if __name__ == "__main__":
    settings = UserSettings()
    serve(
        SERVICE,
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_file=settings.log_file,
    )
