"""The platform program, run under Pulumi's mocks for every stack, checked object by object."""

from __future__ import annotations

import json
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from cnop_alerts.generate import GENERATED as RULES
from cnop_dashboards.generate import GENERATED as DASHBOARDS
from cnop_platform.catalogue import COMPONENTS, IMAGES
from cnop_platform.render import DEPLOY, REDACTED, RENDER_KEYRING, STACK_NAMES

pytestmark = pytest.mark.unit

K8S_VERSION = "1.30"
# Custom resources have no schema in kubernetes-validate; their kinds are pinned here.
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("argoproj.io/v1alpha1", "Application"),
    ("pulumi.com/v1", "Stack"),
}
SERVICES = {c.name for c in COMPONENTS}
BACKENDS = SERVICES - {"gateway"}


def of_kind(objs, kind):
    return [o for o in objs if o["kind"] == kind]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_committed_render_is_current(rendered, stack):
    on_disk = {
        str(p.relative_to(DEPLOY / stack)): p.read_text()
        for p in sorted((DEPLOY / stack).rglob("*.yaml"))
    }
    assert on_disk == rendered[stack], f"deploy/{stack} is stale: run `make render STACK={stack}`"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_object_validates_strictly(objects, stack):
    for obj in objects[stack]:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            assert obj["metadata"]["name"]
            assert isinstance(obj["spec"], dict)
            continue
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_the_validator_refuses_a_broken_object(objects):
    deployment = json.loads(json.dumps(of_kind(objects["prod"], "Deployment")[0]))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_only_the_gateway_may_be_reachable_from_outside(objects, stack):
    for service in of_kind(objects[stack], "Service"):
        name = service["metadata"]["name"]
        if name in BACKENDS or name == "store":
            assert service["spec"]["type"] == "ClusterIP", name
        assert service["spec"]["type"] != "NodePort", name
    gateway = next(
        s for s in of_kind(objects[stack], "Service") if s["metadata"]["name"] == "gateway"
    )
    expected = "ClusterIP" if stack == "local" else "LoadBalancer"
    assert gateway["spec"]["type"] == expected
    assert of_kind(objects[stack], "Ingress") == []


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_container_has_resources_probes_and_a_locked_down_context(objects, stack):
    for deployment in of_kind(objects[stack], "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            where = f"{stack}/{deployment['metadata']['name']}"
            assert container["resources"]["requests"], where
            assert container["resources"]["limits"], where
            assert container["livenessProbe"], where
            assert container["readinessProbe"], where
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            if deployment["metadata"]["name"] in SERVICES:
                assert container["livenessProbe"]["httpGet"]["path"] == "/health"
                assert container["readinessProbe"]["httpGet"]["path"] == "/ready"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_auth_secret_is_mounted_only_into_auth_and_never_rendered(objects, rendered, stack):
    for deployment in of_kind(objects[stack], "Deployment"):
        volumes = deployment["spec"]["template"]["spec"].get("volumes", [])
        secrets = [v["secret"]["secretName"] for v in volumes if "secret" in v]
        if deployment["metadata"]["name"] == "auth":
            assert secrets == ["auth-signing-keys"]
        else:
            assert secrets == [], deployment["metadata"]["name"]
        env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
        assert not any(
            "SIGNING_KEYS" in e["name"] and "value" in e and "{" in e["value"] for e in env
        )
    (secret,) = of_kind(objects[stack], "Secret")
    assert set(secret["stringData"].values()) == {REDACTED}
    assert all("render-time-stand-in" not in text for text in rendered[stack].values())
    assert RENDER_KEYRING not in "".join(rendered[stack].values())


def test_prod_has_two_replicas_a_pdb_and_an_hpa_for_every_service(objects):
    prod = objects["prod"]
    hpas = {h["metadata"]["name"]: h for h in of_kind(prod, "HorizontalPodAutoscaler")}
    pdbs = {p["metadata"]["name"] for p in of_kind(prod, "PodDisruptionBudget")}
    assert set(hpas) == SERVICES
    assert pdbs == SERVICES
    assert all(h["spec"]["minReplicas"] >= 2 for h in hpas.values())
    assert of_kind(objects["staging"], "HorizontalPodAutoscaler") == []


def test_prod_tables_are_protected(declared):
    tables = [
        inputs for typ, _name, inputs in declared["prod"] if typ == "aws:dynamodb/table:Table"
    ]
    assert len(tables) == 10
    for table in tables:
        assert table["billingMode"] == "PAY_PER_REQUEST"
        assert table["pointInTimeRecovery"]["enabled"] is True
        assert table["serverSideEncryption"]["enabled"] is True
        assert table["deletionProtectionEnabled"] is True
        assert table["name"].startswith("cnop-prod-")
    staging = [i for t, _n, i in declared["staging"] if t == "aws:dynamodb/table:Table"]
    assert all(t["deletionProtectionEnabled"] is False for t in staging)
    assert not any(t == "aws:dynamodb/table:Table" for t, _n, _i in declared["local"])


def test_iam_policies_are_scoped_per_service(declared):
    policies = {
        name: json.loads(inputs["policy"])
        for typ, name, inputs in declared["prod"]
        if typ == "aws:iam/rolePolicy:RolePolicy"
    }
    assert set(policies) == {"user-dynamodb", "order-dynamodb", "auth-dynamodb"}
    resources = {n: p["Statement"][0]["Resource"] for n, p in policies.items()}
    assert resources["auth-dynamodb"] == [
        "arn:aws:mock:::auth-revoked-tokens",
        "arn:aws:mock:::auth-revoked-tokens/index/*",
    ]
    assert not any("auth-revoked" in r for r in resources["user-dynamodb"])
    assert "dynamodb:Scan" not in policies["order-dynamodb"]["Statement"][0]["Action"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_rendered_rules_and_dashboards_are_the_generated_ones(objects, stack):
    rules = {r["metadata"]["name"]: r for r in of_kind(objects[stack], "PrometheusRule")}
    for file_name in ("recording-rules.yml", "alert-rules.yml"):
        generated = yaml.safe_load((RULES / file_name).read_text())
        rule = rules[f"cnop-{Path(file_name).stem}"]
        assert rule["spec"]["groups"] == generated["groups"]
    maps = {m["metadata"]["name"]: m for m in of_kind(objects[stack], "ConfigMap")}
    dashboards = sorted(DASHBOARDS.glob("*.json"))
    assert len(dashboards) == 4 + len(COMPONENTS)  # four area boards, one RED board each
    for path in dashboards:
        config_map = maps[f"dashboard-{path.stem}"]
        assert config_map["data"][path.name] == path.read_text()  # byte for byte
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_one_name_everywhere(objects, stack):
    for component in COMPONENTS:
        for kind in ("Deployment", "Service", "ServiceAccount", "ServiceMonitor"):
            names = [o["metadata"]["name"] for o in of_kind(objects[stack], kind)]
            assert component.name in names, f"{stack}: no {kind} {component.name}"
        deployment = next(
            d
            for d in of_kind(objects[stack], "Deployment")
            if d["metadata"]["name"] == component.name
        )
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        assert f"/{component.name}:" in image


def test_environments_differ_only_in_stack_configuration():
    # The program has no per-environment branches by name: only config decides.
    source = "".join(
        p.read_text()
        for p in (Path(__file__).resolve().parents[2] / "platform" / "cnop_platform").rglob("*.py")
    )
    assert '== "prod"' not in source
    assert '== "staging"' not in source


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_aws_stacks_get_a_routable_vpc_and_eks_in_private_subnets(declared, stack):
    types = [typ for typ, _name, _inputs in declared[stack]]
    assert types.count("aws:ec2/subnet:Subnet") == 4
    assert types.count("aws:ec2/internetGateway:InternetGateway") == 1
    assert types.count("aws:ec2/natGateway:NatGateway") == 1
    assert types.count("aws:eks/cluster:Cluster") == 1
    assert types.count("aws:ecr/repository:Repository") == len(IMAGES)
    cluster = next(i for t, _n, i in declared[stack] if t == "aws:eks/cluster:Cluster")
    private = {f"{n}-id" for t, n, _i in declared[stack]
               if t == "aws:ec2/subnet:Subnet" and "-private-" in n}  # fmt: skip
    assert set(cluster["vpcConfig"]["subnetIds"]) == private
    assert not any(t.startswith("aws:ec2/") for t, _n, _i in declared["local"])
