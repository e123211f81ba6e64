"""`python -m cnop_inventory`: serve the inventory service."""

from cnop_common.server import serve_service
from cnop_inventory import SERVICE
from cnop_inventory.main import create_app
from cnop_inventory.settings import InventorySettings

if __name__ == "__main__":
    settings = InventorySettings()
    serve_service(
        SERVICE,
        lambda: create_app(settings),
        settings,
        module="cnop_inventory",
        workers=settings.workers,
    )
