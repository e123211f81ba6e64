"""The web UI's pages, files and operations endpoints, over real sockets."""

import re

import httpx
import pytest

from cnop_web.pages import PAGES
from cnop_web.security import SECURITY_HEADERS

pytestmark = pytest.mark.integration

SCRIPTS = ("app.js", "api.js", "dom.js", "views.js")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_serves_the_shell_with_the_security_headers(browser_session, page):
    response = browser_session.http.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert '<script type="module" src="/static/app.js">' in response.text


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
    response = browser_session.http.get(f"/static/{script}")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
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


def test_a_missing_static_file_is_404(browser_session):
    assert browser_session.http.get("/static/nothing.js").status_code == 404


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/openapi.json", "/redoc"])
def test_operations_endpoints_are_not_on_the_browser_port(browser_session, path):
    response = browser_session.http.get(path)
    assert response.status_code == 404
    assert "web_sessions_total" not in response.text


def test_metrics_are_on_the_admin_port(local_platform, logged_in):
    admin = 9300 + local_platform.port_offset
    text = httpx.get(f"http://127.0.0.1:{admin}/metrics", timeout=10, trust_env=False).text
    assert re.search(r'^web_sessions_total\{event="started"\} [1-9]', text, re.MULTILINE)
    assert 'http_requests_total{method="POST",route="/api/v1/{path:path}"' in text


def test_health_and_readiness(browser_session):
    assert browser_session.http.get("/health").json() == {"status": "healthy", "service": "web"}
    ready = browser_session.http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"gateway": "ok"}
