"""Tracing policy: a trace id sent in `traceparent` comes back, and shows up on every hop.

Evidence of the hops: locally the services' JSON logs; in a cluster, Loki's
query API (log lines) and Tempo's trace API (spans), both named by the stack.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from cnop_platform.local.logs import matching_lines
from tests.helpers import eventually
from tests.postdeploy.support import (
    Target,
    log_in,
    new_member,
    services_in_loki,
    services_in_tempo,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postdeploy]

# A market buy with a token the gateway has not seen: gateway → auth (validate),
# gateway → order, order → inventory (price).
ORDER_HOPS = {"gateway", "auth", "order", "inventory"}


def traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


def services_in_logs(target: Target, trace_id: str) -> set[str]:
    """The services that logged this trace id (local logs, else Loki)."""
    if target.log_dir is not None:
        return {str(r.get("service")) for r in matching_lines(target.log_dir, trace_id)}
    if target.loki is not None:
        return services_in_loki(target.loki, trace_id)
    raise AssertionError("the target names neither a log folder nor a Loki URL")


@pytest.fixture(scope="module")
def trader(target: Target):
    member = new_member(target)
    deposit = httpx.post(
        f"{target.api}/balance/deposit", json={"amount": "100"}, headers=member.auth, timeout=30
    )
    assert deposit.status_code == 201, deposit.text
    return member


def test_the_trace_id_and_request_id_come_back(target):
    trace_id, header = traceparent()
    request_id = f"pd-{secrets.token_hex(8)}"
    response = httpx.get(
        f"{target.api}/inventory/assets/BTC",
        headers={"traceparent": header, "X-Request-ID": request_id},
        timeout=30,
        trust_env=False,
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id
    version, returned_trace, span, _flags = response.headers["traceparent"].split("-")
    assert (version, returned_trace) == ("00", trace_id)
    assert len(span) == 16
    assert span != header.split("-")[2]  # the gateway's own span, child of ours


def test_a_request_without_trace_context_gets_one(target):
    response = httpx.get(f"{target.api}/inventory/assets/BTC", timeout=30, trust_env=False)
    _, trace_id, _, _ = response.headers["traceparent"].split("-")
    assert len(trace_id) == 32
    assert trace_id != "0" * 32


def test_the_trace_id_reaches_every_hop(target, trader):
    fresh = log_in(target, trader.username, trader.password)  # not in any gateway cache yet
    trace_id, header = traceparent()
    order = httpx.post(
        f"{target.api}/orders",
        json={"order_type": "market_buy", "asset_id": "USDT", "quantity": "1"},
        headers={"Authorization": f"Bearer {fresh}", "traceparent": header},
        timeout=30,
        trust_env=False,
    )
    assert order.status_code == 201, order.text
    seen = eventually(
        lambda: (found := services_in_logs(target, trace_id)) >= ORDER_HOPS and found,
        timeout=target.wait_seconds,
    )
    assert seen, (
        f"trace {trace_id} logged by {services_in_logs(target, trace_id)}, not all of {ORDER_HOPS}"
    )
    if target.tempo is not None:
        spans = eventually(
            lambda: (
                (found := services_in_tempo(target.tempo or "", trace_id)) >= ORDER_HOPS and found
            ),
            timeout=target.wait_seconds,
        )
        assert spans, f"Tempo has spans of {services_in_tempo(target.tempo, trace_id)} only"
