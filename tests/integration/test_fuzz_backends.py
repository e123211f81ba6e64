"""Property-based fuzzing of every backend route from its OpenAPI: bad input is never a 5xx.

schemathesis generates requests (valid and invalid) for each operation of the
user, inventory and order services, sent the way the gateway sends them. The
issue's promise is the oracle: every bad input gets a 4xx, never a 500.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import requests.auth
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from tests.helpers import GATEWAY_MARKERS, gateway_user, register, signer_of

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


class AsGateway(requests.auth.AuthBase):
    """The gateway's markers and user, and its signature of each request as sent
    (schemathesis sends with requests: an auth hook sees the final bytes)."""

    def __init__(self, platform: Any, service: str, username: str) -> None:
        self.signer = signer_of(platform, "gateway")
        self.service = service
        self.username = username

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        assert isinstance(body, str | bytes), "schemathesis sends whole bodies"
        request.headers.update(GATEWAY_MARKERS)
        request.headers.update(
            self.signer.sign(
                request.method or "GET",
                request.path_url,
                body.encode() if isinstance(body, str) else body,
                self.service,
                subject=self.username,
                role="customer",
            )
        )
        return request


class BearerToken(requests.auth.AuthBase):
    """A user's token, as a client of the public API sends it."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def _fuzz_operation(
    operation: Any, auth: requests.auth.AuthBase, base_url: str, failures: list[str]
) -> None:
    internal = operation.path.startswith("/internal/")

    @given(case=operation.as_strategy())
    @SETTINGS
    def call(case: Any) -> None:
        response = case.call(base_url=base_url, auth=auth, timeout=30)
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


def fuzz(schema_url: str, auth: requests.auth.AuthBase, base_url: str) -> list[str]:
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
        _fuzz_operation(operation, auth, base_url, failures)
    return failures


@pytest.mark.parametrize("service", ["user", "inventory", "order"])
def test_no_generated_request_gets_a_5xx(local_platform, fuzz_user, service):
    url = local_platform.url(service)
    auth = AsGateway(local_platform, service, fuzz_user)
    assert fuzz(f"{url}/openapi.json", auth, url) == []


@pytest.mark.parametrize("service", ["user", "inventory", "order"])
def test_the_same_requests_through_the_gateway_get_no_5xx(local_platform, gateway_url, service):
    # The backends' operations under /api/v1, with a real token: whatever the
    # path and body, the gateway answers 4xx or passes on the backend's answer.
    user = gateway_user(gateway_url, "gwfuzz", deposit="100")
    failures = fuzz(
        f"{local_platform.url(service)}/openapi.json",
        BearerToken(user.token),
        f"{gateway_url}/api/v1",
    )
    user.close()
    assert failures == []
