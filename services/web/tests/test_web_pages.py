"""The web UI's pages, files and operations endpoints, over real sockets."""

import json
import re

import httpx
import pytest

from cnop_web.assets import IMMUTABLE, AssetBundle
from cnop_web.pages import PAGES
from cnop_web.security import SECURITY_HEADERS

pytestmark = pytest.mark.integration

SCRIPTS = ("app.js", "api.js", "dom.js", "views.js", "format.js", "messages.js")
# The same files the server publishes: its bundle is built from the same directory.
BUNDLE = AssetBundle()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_serves_the_shell_with_the_security_headers(browser_session, page):
    response = browser_session.http.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert f'<script type="module" src="{BUNDLE.url("app.js")}">' in response.text


def test_an_asset_page_serves_the_shell(browser_session):
    response = browser_session.http.get("/assets/BTC")
    assert response.status_code == 200
    assert BUNDLE.url("app.js") in response.text


def test_pages_answer_head_without_a_body(browser_session):
    response = browser_session.http.head("/login")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"].startswith("text/html")


def test_the_shell_has_no_inline_script_or_style(browser_session):
    # The CSP allows scripts and styles from /static only; inline ones would be blocked.
    html = browser_session.http.get("/").text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html
    assert " style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_served_as_javascript_with_the_same_headers(browser_session, script):
    response = browser_session.http.get(BUNDLE.url(script))
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == IMMUTABLE
    assert (
        response.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "innerHTML" not in response.text  # the page is built from text nodes only


def test_an_unknown_page_is_a_404_page(browser_session):
    response = browser_session.http.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in response.headers


def test_an_unknown_api_path_is_a_json_404(browser_session):
    response = browser_session.http.get("/api/v2/orders")
    assert response.status_code == 404
    assert response.json()["code"] == "ROUTE_NOT_FOUND"


@pytest.mark.parametrize("name", ["nothing.js", "app.js", "app.000000000000.js", "sw.js"])
def test_a_static_name_that_is_not_published_is_404(browser_session, name):
    # The plain source names are not served: one URL per content, or caching would lie.
    response = browser_session.http.get(f"/static/{name}")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_a_path_out_of_static_is_the_404_page(browser_session):
    response = browser_session.http.get("/static/..%2fmain.py")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "def create_app" not in response.text


def test_every_file_the_shell_names_is_served_immutable(browser_session):
    shell = browser_session.http.get("/").text
    named = re.findall(r'(?:href|src)="(/static/[^"]+)"', shell)
    assert sorted(named) == sorted(BUNDLE.url(name) for name in ("app.js", "icon.svg", "style.css"))
    for url in named:
        answer = browser_session.http.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == IMMUTABLE


def test_the_module_imports_name_hashed_files_that_are_served(browser_session):
    # app.js imports the others; a plain "./api.js" would bypass the hashed names.
    app = browser_session.http.get(BUNDLE.url("app.js")).text
    imported = re.findall(r'from "\./([^"]+)"', app)
    assert sorted(imported) == sorted(
        BUNDLE.public[name] for name in ("api.js", "dom.js", "views.js")
    )
    for name in imported:
        assert browser_session.http.get(f"/static/{name}").status_code == 200


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/offline", "text/html"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/sw.js", "text/javascript"),
    ],
)
def test_the_entry_points_are_revalidated_on_every_visit(browser_session, path, media_type):
    answer = browser_session.http.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(media_type)
    assert answer.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/login", "/offline", "/manifest.webmanifest", "/sw.js"])
def test_an_unchanged_entry_point_is_a_304(browser_session, path):
    first = browser_session.http.get(path)
    # Weak: the same validator whether the answer was gzipped or not.
    assert first.headers["etag"].startswith('W/"')
    plain = browser_session.http.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.headers["etag"] == first.headers["etag"]
    again = browser_session.http.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


def test_the_manifest_makes_the_ui_installable(browser_session):
    manifest = browser_session.http.get("/manifest.webmanifest").json()
    assert manifest["start_url"] == "/dashboard"
    assert manifest["display"] == "standalone"
    assert manifest["name"]
    assert manifest["short_name"]
    [icon] = manifest["icons"]
    assert icon["src"] == BUNDLE.url("icon.svg")
    assert browser_session.http.get(icon["src"]).headers["content-type"] == "image/svg+xml"
    assert (
        '<link rel="manifest" href="/manifest.webmanifest">' in browser_session.http.get("/").text
    )


def test_the_service_worker_keeps_every_published_file_and_the_offline_page(browser_session):
    worker = browser_session.http.get("/sw.js").text
    first_line = worker.splitlines()[0]
    assert first_line.startswith("const BUILD = ")
    assert first_line.endswith(";")
    build = json.loads(first_line.removeprefix("const BUILD = ").removesuffix(";"))
    assert build["precache"] == BUNDLE.precache()
    assert build["offline"] == "/offline"
    for url in build["precache"]:
        assert browser_session.http.get(url).status_code == 200, url


def test_the_offline_page_needs_no_script_and_names_a_cached_style(browser_session):
    page = browser_session.http.get("/offline").text
    assert "<script" not in page
    assert "You are offline" in page
    assert BUNDLE.url("style.css") in BUNDLE.precache()
    assert BUNDLE.url("style.css") in page


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/openapi.json", "/redoc"])
def test_operations_endpoints_are_not_on_the_browser_port(browser_session, path):
    response = browser_session.http.get(path)
    assert response.status_code == 404
    assert "web_sessions_total" not in response.text


def test_metrics_are_on_the_admin_port(local_platform, logged_in):
    admin = local_platform.admin_url("web")
    text = httpx.get(f"{admin}/metrics", timeout=10, trust_env=False).text
    assert re.search(r'^web_sessions_total\{event="started"\} [1-9]', text, re.MULTILINE)
    assert 'http_requests_total{method="POST",route="/api/v1/{path:path}"' in text


def test_health_and_readiness(browser_session):
    assert browser_session.http.get("/health").json() == {"status": "healthy", "service": "web"}
    ready = browser_session.http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"gateway": "ok"}


def test_the_limits_the_forms_show_come_from_the_settings(browser_session):
    response = browser_session.http.get("/limits")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.json() == {
        "order_value_cap": "10000.00",
        "max_deposit": "1000000.00",
        "daily_deposit_limit": "10000.00",
        "daily_withdraw_limit": "5000.00",
    }
