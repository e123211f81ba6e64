"""Property-based fuzzing of every backend route from its OpenAPI: bad input is never a 5xx.

schemathesis generates requests (valid and invalid) for each operation of the
user, inventory and order services, sent the way the gateway sends them. The
issue's promise is the oracle: every bad input gets a 4xx, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from tests.helpers import GATEWAY_MARKERS, asserted, gateway_user, register

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure reproduces
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzz_user(local_platform):
    clients = register(local_platform, "fuzz", deposit="100")
    yield clients.username
    clients.close()


def as_gateway(platform, service: str, username: str) -> Callable[[], dict[str, str]]:
    """The gateway's headers for `username`, with a fresh signed assertion each call."""

    def headers() -> dict[str, str]:
        identity = {"X-User-ID": username, "X-User-Role": "customer"}
        return {**GATEWAY_MARKERS, **identity, **asserted(platform, service, username=username)}

    return headers


def _fuzz_operation(
    operation: Any, headers: Callable[[], dict[str, str]], base_url: str, failures: list[str]
) -> None:
    internal = operation.path.startswith("/internal/")

    @given(case=operation.as_strategy())
    @SETTINGS
    def call(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers(), timeout=30)
        # A refusal of the caller would hide every bug behind it: the fuzz must get
        # in (internal routes are for named services, not the gateway's users).
        refused = response.status_code == 403 and "UNTRUSTED_SOURCE" in response.text
        assert not refused or internal, case.formatted_path
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} → "
                f"{response.status_code}: {response.text[:200]}"
            )

    call()


def fuzz(schema_url: str, headers: Callable[[], dict[str, str]], base_url: str) -> list[str]:
    """Every operation of a service's OpenAPI, fuzzed against `base_url`; the 5xx answers."""
    schema = schemathesis.openapi.from_url(schema_url)
    failures: list[str] = []
    operations = []
    for result in schema.get_all_operations():
        # An operation schemathesis cannot read is a broken OpenAPI: fail on it.
        assert isinstance(result, Ok), f"invalid operation in the OpenAPI: {result}"
        operations.append(result.ok())
    assert operations, "the service's OpenAPI lists no operation"
    for operation in operations:
        _fuzz_operation(operation, headers, base_url, failures)
    return failures


@pytest.mark.parametrize("service", ["user", "inventory", "order"])
def test_no_generated_request_gets_a_5xx(local_platform, fuzz_user, service):
    url = local_platform.url(service)
    headers = as_gateway(local_platform, service, fuzz_user)
    assert fuzz(f"{url}/openapi.json", headers, url) == []


@pytest.mark.parametrize("service", ["user", "inventory", "order"])
def test_the_same_requests_through_the_gateway_get_no_5xx(local_platform, gateway_url, service):
    # The backends' operations under /api/v1, with a real token: whatever the
    # path and body, the gateway answers 4xx or passes on the backend's answer.
    user = gateway_user(gateway_url, "gwfuzz", deposit="100")
    failures = fuzz(
        f"{local_platform.url(service)}/openapi.json",
        lambda: {"Authorization": f"Bearer {user.token}"},
        f"{gateway_url}/api/v1",
    )
    user.close()
    assert failures == []
