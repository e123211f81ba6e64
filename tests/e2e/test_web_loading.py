"""How the web UI loads in a real browser: first visit, repeat visit, offline.

These tests run their own web UI process (in front of the test platform's
gateway), so the requests it counts are only theirs and it can be stopped to
take the network away. What the server saw is read from its own request
counter; what crossed the wire is read from the browser (Chrome DevTools
protocol). The figures of each run are written to var/web-load.json, and
docs/performance.md records them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from prometheus_client.parser import text_string_to_metric_families

from cnop_platform.local.ports import admin_port, extra
from cnop_platform.local.runner import LocalPlatform
from tests.helpers import extra_process

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WEB_PORT = extra("web loading: web UI")
FIGURES = Path(__file__).resolve().parents[2] / "var" / "web-load.json"
STATIC_ROUTE = "/static/{name}"


@dataclass
class Load:
    """One page load: what the server answered and what the browser fetched."""

    server_requests: Counter[str] = field(default_factory=Counter)  # by route
    network_requests: int = 0  # answered over the wire, not from a cache
    network_bytes: int = 0  # encoded bytes received for those, headers included
    cached_requests: int = 0  # answered by the HTTP cache or the service worker

    @property
    def static_files_fetched(self) -> int:
        return self.server_requests[STATIC_ROUTE]


def server_counts(admin_url: str) -> Counter[str]:
    """Requests the web UI has answered so far, by route."""
    text = httpx.get(f"{admin_url}/metrics", trust_env=False).text
    counts: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        if family.name == "http_requests":
            for sample in family.samples:
                if sample.name == "http_requests_total":
                    counts[sample.labels["route"]] += int(sample.value)
    return counts


class WireLog:
    """Every request the page makes, as Chrome's network layer reports it."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.responses: dict[str, dict[str, Any]] = {}
        self.bytes: dict[str, int] = {}
        self.from_memory: set[str] = set()
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on(
            "Network.requestServedFromCache", lambda e: self.from_memory.add(e["requestId"])
        )

    def _response(self, event: dict[str, Any]) -> None:
        self.responses[event["requestId"]] = event["response"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.bytes[event["requestId"]] = int(event["encodedDataLength"])

    def reset(self) -> None:
        self.responses.clear()
        self.bytes.clear()
        self.from_memory.clear()

    def fill(self, load: Load) -> None:
        for request_id, response in self.responses.items():
            source = response.get("serviceWorkerResponseSource")
            if response.get("fromServiceWorker") and source == "network":
                # The worker went to the network (a page load). The page's side sees
                # no body bytes for it, only what arrived with the headers; the
                # shell is revalidated, so on a repeat load that is a bodiless 304.
                load.network_requests += 1
                load.network_bytes += int(response.get("encodedDataLength", 0))
            elif request_id in self.from_memory or response.get("fromDiskCache") or source:
                load.cached_requests += 1
            else:
                load.network_requests += 1
                load.network_bytes += self.bytes.get(request_id, 0)


@pytest.fixture
def web_ui(local_platform: LocalPlatform) -> Iterator[tuple[str, str]]:
    """A web UI of our own: (its URL, its admin URL)."""
    with extra_process(local_platform, "web", WEB_PORT) as url:
        yield url, f"http://127.0.0.1:{admin_port(WEB_PORT)}"


@pytest.fixture
def visitor(browser: Browser) -> Iterator[tuple[BrowserContext, Page]]:
    """A browser profile of its own, service workers allowed."""
    context = browser.new_context(service_workers="allow")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield context, page
    context.close()


def _visit(page: Page, wire: WireLog, admin: str, url: str) -> Load:
    """Load `url` and wait until the page has drawn it; count what that cost."""
    wire.reset()
    before = server_counts(admin)
    page.goto(url, wait_until="networkidle")
    expect(page.locator("h1")).to_have_text("Log in")
    load = Load(server_requests=server_counts(admin) - before)
    wire.fill(load)
    return load


def _worker_in_control(page: Page) -> None:
    """Wait until the service worker has installed (its cache is full) and claims the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def test_a_repeat_load_fetches_no_static_file_again(web_ui, visitor):
    url, admin = web_ui
    context, page = visitor
    wire = WireLog(context, page)

    first = _visit(page, wire, admin, f"{url}/login")
    assert first.static_files_fetched >= 5  # style, icon and the four modules, at least
    _worker_in_control(page)

    repeat = _visit(page, wire, admin, f"{url}/login")
    assert repeat.static_files_fetched == 0, repeat.server_requests
    assert repeat.server_requests["/login"] == 1  # the shell itself is always asked for
    assert repeat.cached_requests >= 5
    assert repeat.network_requests == 2  # the shell (revalidated) and who is logged in
    assert repeat.network_bytes < first.network_bytes

    FIGURES.parent.mkdir(exist_ok=True)
    figures = {
        name: {
            **asdict(load),
            "server_requests": dict(load.server_requests),
            "static_files_fetched": load.static_files_fetched,
        }
        for name, load in (("first", first), ("repeat", repeat))
    }
    FIGURES.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"\nweb UI load figures ({FIGURES}):\n{json.dumps(figures, indent=2)}")


def test_without_the_server_the_offline_page_says_so(local_platform, visitor):
    _context, page = visitor
    # A web UI that will be stopped in the middle of the test.
    with extra_process(local_platform, "web", WEB_PORT) as url:
        page.goto(f"{url}/login")
        expect(page.locator("h1")).to_have_text("Log in")
        _worker_in_control(page)
    # The server is gone: connection refused, as with the network down.
    page.goto(f"{url}/dashboard")
    expect(page.locator("h1")).to_have_text("You are offline")
    expect(page.get_by_role("link", name="try again")).to_have_attribute("href", "/dashboard")
    # Styled from the worker's cache: the server cannot send the stylesheet now.
    assert page.evaluate("getComputedStyle(document.querySelector('header')).display") == "flex"
