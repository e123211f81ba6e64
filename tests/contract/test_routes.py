"""Every route of docs/api.md owned by a backend exists on that backend, with that method."""

import re
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\|\s*([A-Z, ]+?)\s*\|\s*`([^`]+)`\s*\|\s*[^|]+\|\s*(\w+)", re.MULTILINE)
BACKENDS = ("user", "inventory", "order")


def documented_routes():
    routes = []
    for methods, path, owner in ROW.findall(API_DOC.read_text()):
        if owner not in BACKENDS or not path.startswith("/api/v1/"):
            continue
        for method in (m.strip() for m in methods.split(",")):
            routes.append((owner, method, path.removeprefix("/api/v1")))
    return routes


def test_the_contract_table_was_read():
    routes = documented_routes()
    assert len(routes) >= 15
    assert ("order", "POST", "/orders") in routes
    assert ("user", "PUT", "/auth/profile") in routes


@pytest.mark.parametrize(("owner", "method", "path"), documented_routes())
def test_documented_route_is_served(local_platform, owner, method, path):
    spec = httpx.get(f"{local_platform.url(owner)}/openapi.json").json()
    assert path in spec["paths"], f"{owner} does not serve {path}"
    assert method.lower() in spec["paths"][path], f"{owner} does not serve {method} {path}"
