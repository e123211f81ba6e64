"""Route table and path normalisation (security case 21 at unit level)."""

import re
from pathlib import Path

import pytest

from cnop_gateway.routing import Matched, RouteTable, WrongMethod, is_safe_path

pytestmark = pytest.mark.unit

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
ROW = re.compile(r"^\|\s*([A-Z, ]+?)\s*\|\s*`(/api/v1/[^`]+)`\s*\|\s*(\w+)", re.MULTILINE)


@pytest.fixture(scope="module")
def table():
    return RouteTable.load()


def documented():
    rows = set()
    for methods, path, auth in ROW.findall(API_DOC.read_text()):
        for method in methods.split(","):
            rows.add((method.strip(), path, "public" if auth == "public" else "protected"))
    return rows


def test_route_table_is_exactly_the_documented_api(table):
    served = {(r.method, r.path, r.auth) for r in table.routes}
    assert len(documented()) == 17  # 16 rows, one of them GET and PUT
    assert served == documented()


@pytest.mark.parametrize(
    "raw",
    [
        b"/api/v1/../internal/assets",
        b"/api/v1/inventory/../../internal/assets",
        b"/api/v1/%2e%2e/internal/assets",
        b"/api/v1/%2E%2E/internal/assets",
        b"/api/v1/inventory/assets%2F..%2F..%2Finternal",
        b"/api/v1/inventory/assets/%2fBTC",
        b"/api/v1/inventory/assets/%252e%252e",
        b"/api/v1/inventory/assets/.",
        b"/api/v1/./balance",
        b"/api/v1//balance",
        b"/api/v1\\..\\internal",
        b"/api/v1/inventory/assets/BTC%00",
        b"api/v1/balance",
    ],
)
def test_unsafe_paths_are_never_matched(table, raw):
    assert not is_safe_path(raw)
    assert table.match("GET", raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"/metrics",
        b"/docs",
        b"/openapi.json",
        b"/internal/assets",
        b"/api/v1/metrics",
        b"/api/v1/internal/assets",
        b"/api/v1/docs",
        b"/api/v1/openapi.json",
        b"/health/x",
        b"/api/v1/orders/x/y",
        b"/api/v1/balance/",
    ],
)
def test_unlisted_paths_are_not_found(table, raw):
    assert table.match("GET", raw) is None


def test_templates_take_one_segment(table):
    found = table.match("GET", b"/api/v1/orders/ord_01ABC-x")
    assert isinstance(found, Matched)
    assert found.route.path == "/api/v1/orders/{order_id}"
    assert found.route.auth == "protected"
    spaced = table.match("GET", b"/api/v1/inventory/assets/%20btc%20")
    assert isinstance(spaced, Matched)


def test_known_path_wrong_method(table):
    assert table.match("DELETE", b"/api/v1/orders") == WrongMethod(("GET", "POST"))
    assert table.match("PATCH", b"/api/v1/auth/profile") == WrongMethod(("GET", "PUT"))


def test_a_table_with_a_route_outside_the_prefix_is_refused(tmp_path):
    bad = tmp_path / "routes.toml"
    bad.write_text('[[route]]\nmethod="GET"\npath="/internal/x"\nupstream="user"\nauth="public"\n')
    with pytest.raises(ValueError, match="outside"):
        RouteTable.load(bad)
