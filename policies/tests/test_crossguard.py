"""Each CrossGuard policy on the mocked program's resources: one pass and one violation each."""

from __future__ import annotations

import ast
import copy
import sys
from typing import Any

import pytest
import yaml
from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from cnop_catalogue import BY_NAME, COMPONENTS
from cnop_platform.render import DEPLOY, STACK_NAMES, run
from cnop_policies.crossguard import rules as crossguard
from cnop_policies.manifests import check

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
    ) == ["Service order must be ClusterIP, not LoadBalancer: only the gateway is public"]
    edge = find(prod_resources, "kubernetes:core/v1:Service", "gateway-public")
    assert edge["spec"]["type"] == "LoadBalancer"
    typ = "kubernetes:core/v1:Service"
    assert validate(crossguard.backends_are_cluster_internal, typ, "gateway-public", edge) == []
    # The same load balancer reaching the admin port is refused.
    edge["spec"]["ports"].append({"name": "admin", "port": 9080, "targetPort": 9080})
    assert validate(crossguard.backends_are_cluster_internal, typ, "gateway-public", edge) == [
        "Service gateway-public exposes ['8080', '9080']: only the API port 8080"
    ]


def test_the_pack_needs_nothing_but_the_standard_library_and_pulumi_policy():
    tree = ast.parse(crossguard_file().read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    roots = {name.split(".")[0] for name in imported}
    assert roots <= set(sys.stdlib_module_names) | {"pulumi_policy"}, roots
    requirements = (crossguard_file().parent / "requirements.txt").read_text().split()
    assert [r.split(">")[0] for r in requirements] == ["pulumi-policy"]
    main = (crossguard_file().parent / "__main__.py").read_text()
    assert "from rules import POLICIES" in main


def test_the_packs_constants_are_the_catalogues():
    gateway = BY_NAME["gateway"]
    assert gateway.name == crossguard.PUBLIC
    assert gateway.port == crossguard.PUBLIC_API_PORT
    assert {c.name for c in COMPONENTS if not c.public and c.name != "web"} | {"store"} == set(
        crossguard.BACKENDS
    )


def crossguard_file():
    from cnop_policies.crossguard import RULES_FILE  # noqa: PLC0415

    return RULES_FILE


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_rendered_app_layer_passes_the_same_rules(stack):
    assert check(DEPLOY / stack) == []


def test_the_rules_see_what_argo_cd_would_apply(tmp_path):
    text = (DEPLOY / "prod" / "apps" / "deployment-cnop-user.yaml").read_text()
    deployment = yaml.safe_load(text)
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"][
        "readOnlyRootFilesystem"
    ] = False
    (tmp_path / "deployment.yaml").write_text(yaml.safe_dump(deployment))
    assert check(tmp_path) == [
        "deployment.yaml: user: user/user: non-root, read-only root, no escalation, drop ALL"
    ]


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
