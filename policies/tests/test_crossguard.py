"""Each CrossGuard policy on the mocked program's resources: one pass and one violation each."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from cnop_platform.render import run
from cnop_policies import crossguard

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def prod_resources() -> list[tuple[str, str, dict[str, Any]]]:
    return run("prod").resources


def validate(policy, typ: str, name: str, props: dict[str, Any]) -> list[str]:
    violations: list[str] = []
    args = ResourceValidationArgs(
        resource_type=typ,
        props=props,
        urn=f"urn:{name}",
        name=name,
        opts=None,  # type: ignore[arg-type]  # the rules never read resource options
        provider=None,
    )
    policy(args, lambda message, _urn=None: violations.append(message))
    return violations


def find(resources, typ: str, name: str) -> dict[str, Any]:
    return next(copy.deepcopy(p) for t, n, p in resources if t == typ and n == name)


def check_all(resources, policy) -> list[str]:
    return [v for t, n, p in resources for v in validate(policy, t, n, p)]


def test_the_program_passes_every_policy(prod_resources):
    for policy in crossguard.POLICIES:
        assert isinstance(policy, ResourceValidationPolicy)
        assert check_all(prod_resources, policy.validate) == [], policy.name


def test_a_load_balanced_backend_is_refused(prod_resources):
    service = find(prod_resources, "kubernetes:core/v1:Service", "order")
    service["spec"]["type"] = "LoadBalancer"
    assert validate(
        crossguard.backends_are_cluster_internal, "kubernetes:core/v1:Service", "order", service
    ) == ["backend Service order must be ClusterIP, not LoadBalancer"]
    gateway = find(prod_resources, "kubernetes:core/v1:Service", "gateway")
    assert gateway["spec"]["type"] == "LoadBalancer"
    assert (
        validate(
            crossguard.backends_are_cluster_internal,
            "kubernetes:core/v1:Service",
            "gateway",
            gateway,
        )
        == []
    )


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c.pop("resources"),
        lambda c: c.pop("readinessProbe"),
        lambda c: c["securityContext"].update(readOnlyRootFilesystem=False),
        lambda c: c["securityContext"].update(allowPrivilegeEscalation=True),
        lambda c: c["securityContext"]["capabilities"].update(drop=[]),
    ],
)
def test_a_soft_container_is_refused(prod_resources, breakage):
    deployment = find(prod_resources, "kubernetes:apps/v1:Deployment", "user")
    breakage(deployment["spec"]["template"]["spec"]["containers"][0])
    assert validate(
        crossguard.containers_are_hardened, "kubernetes:apps/v1:Deployment", "user", deployment
    )


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c.pop("resources"),
        lambda c: c["securityContext"].update(runAsNonRoot=False),
        lambda c: c["securityContext"]["capabilities"].update(drop=[]),
    ],
)
def test_a_soft_post_deploy_job_is_refused(prod_resources, breakage):
    job = find(prod_resources, crossguard.JOB, "verify")
    assert validate(crossguard.containers_are_hardened, crossguard.JOB, "verify", job) == []
    breakage(job["spec"]["template"]["spec"]["containers"][0])
    assert validate(crossguard.containers_are_hardened, crossguard.JOB, "verify", job)


def test_the_keys_mounted_elsewhere_are_refused(prod_resources):
    auth = find(prod_resources, "kubernetes:apps/v1:Deployment", "auth")
    assert (
        validate(crossguard.auth_keys_only_in_auth, "kubernetes:apps/v1:Deployment", "auth", auth)
        == []
    )
    gateway = find(prod_resources, "kubernetes:apps/v1:Deployment", "gateway")
    gateway["spec"]["template"]["spec"]["volumes"].append(
        {"name": "keys", "secret": {"secretName": "auth-signing-keys"}}
    )
    assert validate(
        crossguard.auth_keys_only_in_auth, "kubernetes:apps/v1:Deployment", "gateway", gateway
    ) == ["gateway mounts auth-signing-keys: only auth may"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pointInTimeRecovery": {"enabled": False}}, "point-in-time recovery"),
        ({"serverSideEncryption": {"enabled": False}}, "encryption"),
        ({"deletionProtectionEnabled": False}, "deletion protection"),
        ({"billingMode": "PROVISIONED"}, "on demand"),
    ],
)
def test_an_unprotected_table_is_refused(prod_resources, change, message):
    table = find(prod_resources, "aws:dynamodb/table:Table", "orders")
    table.update(change)
    violations = validate(
        crossguard.tables_are_protected, "aws:dynamodb/table:Table", "orders", table
    )
    assert len(violations) == 1
    assert message in violations[0]
