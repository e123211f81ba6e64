"""Connection pools are sized from the settings (issue 13: connection pooling)."""

import pytest

from cnop_common.internal_http import InternalClient
from cnop_common.store import Store

pytestmark = pytest.mark.unit


def test_the_store_pool_is_the_configured_size():
    store = Store(
        "user",
        endpoint_url="http://127.0.0.1:1",
        region="us-east-1",
        table_prefix="cnop-",
        timeout_seconds=1,
        pool_size=7,
    )
    assert store.client.meta.config.max_pool_connections == 7


def test_the_peer_pool_is_the_configured_size():
    client = InternalClient(
        caller="user",
        peer="inventory",
        base_url="http://127.0.0.1:1",
        timeout_seconds=1,
        pool_size=9,
    )
    pool = client._client._transport._pool  # type: ignore[attr-defined]  # httpx internals
    assert pool._max_connections == 9
    assert pool._max_keepalive_connections == 9
    client.close()
