"""`python -m cnop_inventory`: serve the inventory service."""

from cnop_common.server import serve
from cnop_inventory import SERVICE
from cnop_inventory.main import create_app
from cnop_inventory.settings import InventorySettings

if __name__ == "__main__":
    settings = InventorySettings()
    serve(
        SERVICE,
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_file=settings.log_file,
    )
