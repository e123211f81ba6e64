"""The platform program, run under Pulumi's mocks for every stack, checked object by object."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from cnop_alerts.generate import GENERATED as RULES
from cnop_catalogue import COMPONENTS, STORE_USERS
from cnop_dashboards.generate import GENERATED as DASHBOARDS
from cnop_platform import render
from cnop_platform.render import DEPLOY, REDACTED, RENDER_KEYRING, STACK_NAMES
from cnop_platform.tables import ACCESS

pytestmark = pytest.mark.unit

K8S_VERSION = "1.30"
# Custom resources have no schema in kubernetes-validate; their kinds are pinned here.
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("argoproj.io/v1alpha1", "Application"),
    ("argoproj.io/v1alpha1", "AppProject"),
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
def test_every_object_validates_strictly(cluster_objects, stack):
    for obj in cluster_objects[stack]:
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
def test_only_the_gateway_api_port_is_reachable_from_outside_over_tls(cluster_objects, stack):
    public = [
        s for s in of_kind(cluster_objects[stack], "Service") if s["spec"]["type"] != "ClusterIP"
    ]
    # The web Ingress is opt-in (prod has it, behind CloudFront: test_cdn.py).
    ingresses = of_kind(cluster_objects[stack], "Ingress")
    assert [i["metadata"]["name"] for i in ingresses] == (["web"] if stack == "prod" else [])
    if stack == "local":
        assert public == []
        return
    (edge,) = public
    assert edge["spec"]["type"] == "LoadBalancer"
    assert edge["spec"]["loadBalancerClass"] == "service.k8s.aws/nlb"
    assert edge["spec"]["selector"]["app.kubernetes.io/name"] == "gateway"
    # One TLS listener to the API port; the admin port (9080) is never behind it.
    assert [(p["port"], p["targetPort"]) for p in edge["spec"]["ports"]] == [(443, 8080)]
    annotations = edge["metadata"]["annotations"]
    prefix = "service.beta.kubernetes.io/aws-load-balancer"
    assert annotations[f"{prefix}-ssl-ports"] == "https"
    assert annotations[f"{prefix}-ssl-cert"].startswith("arn:aws:acm:")
    assert annotations[f"{prefix}-nlb-target-type"] == "ip"
    assert annotations[f"{prefix}-target-group-attributes"] == "preserve_client_ip.enabled=true"


def test_the_web_ui_gets_a_tls_ingress_when_the_stack_asks():
    found = render.objects_with("staging", {"cnop:webIngress": "true"})
    (ingress,) = of_kind(found, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "web", "port": {"number": 3000}}
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTPS": 443}]'
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
    # The web UI believes the ALB's X-Forwarded-For, and only from the public subnets.
    (web,) = [d for d in of_kind(found, "Deployment") if d["metadata"]["name"] == "web"]
    env = {
        e["name"]: e.get("value") for e in web["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["TRUSTED_PROXIES"] == "10.0.0.0/20,10.0.16.0/20"
    (policy,) = [
        p for p in of_kind(found, "NetworkPolicy") if p["metadata"]["name"] == "web-ingress"
    ]
    blocks = [
        f["ipBlock"]["cidr"] for r in policy["spec"]["ingress"] for f in r["from"] if "ipBlock" in f
    ]
    assert blocks == ["10.0.0.0/20", "10.0.16.0/20"]


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
def test_auth_secret_is_mounted_only_into_auth_and_never_rendered(
    objects, cluster_objects, rendered, stack
):
    for deployment in of_kind(objects[stack], "Deployment"):
        volumes = deployment["spec"]["template"]["spec"].get("volumes", [])
        secrets = [v["secret"]["secretName"] for v in volumes if "secret" in v]
        if deployment["metadata"]["name"] == "auth":
            assert secrets == ["auth-signing-keys"]
        else:  # identity keys are each service's own (the test below)
            assert "auth-signing-keys" not in secrets, deployment["metadata"]["name"]
        env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
        assert not any(
            "SIGNING_KEYS" in e["name"] and "value" in e and "{" in e["value"] for e in env
        )
    assert of_kind(objects[stack], "Secret") == []  # Argo CD never applies a Secret
    by_name = {s["metadata"]["name"]: s for s in of_kind(cluster_objects[stack], "Secret")}
    assert set(by_name) == {
        "auth-signing-keys",
        "grafana-admin",
        "gateway-limits-store",
        "identity-key-gateway",
        "identity-key-user",
        "identity-key-order",
    }
    # The key is the file the auth pods read, not Pulumi's secret marker.
    assert by_name["auth-signing-keys"]["stringData"] == {"auth-keys.json": REDACTED}
    assert by_name["gateway-limits-store"]["stringData"] == {"url": REDACTED}
    assert all("render-time-stand-in" not in text for text in rendered[stack].values())
    assert RENDER_KEYRING not in "".join(rendered[stack].values())


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_limits_store_url_reaches_the_gateway_and_the_receivers_of_signed_calls(objects, stack):
    """The gateway keeps its limits there; auth, user, inventory and order the nonces
    of the signed calls they accept, shared by their replicas. Nobody else reads it."""
    secret = {"name": "gateway-limits-store", "key": "url"}
    readers = {}
    for deployment in of_kind(objects[stack], "Deployment"):
        env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
        refs = {
            e["name"]: e["valueFrom"]["secretKeyRef"]
            for e in env
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        if refs:
            readers[deployment["metadata"]["name"]] = refs
    assert readers == {
        "gateway": {"LIMITS_STORE_URL": secret},
        **{name: {"NONCE_STORE_URL": secret} for name in ("auth", "user", "inventory", "order")},
    }


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
        name.removesuffix("-dynamodb-pod"): json.loads(inputs["policy"])
        for typ, name, inputs in declared["prod"]
        if typ == "aws:iam/rolePolicy:RolePolicy" and name.endswith("-dynamodb-pod")
    }
    assert set(policies) == {"user", "order", "auth"}
    resources = {n: p["Statement"][0]["Resource"] for n, p in policies.items()}
    assert resources["auth"] == [
        "arn:aws:mock:::auth-revoked-tokens",
        "arn:aws:mock:::auth-revoked-tokens/index/*",
    ]
    assert not any("auth-revoked" in r for r in resources["user"])
    assert "dynamodb:Scan" not in policies["order"]["Statement"][0]["Action"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_services_get_their_roles_through_pod_identity_not_annotations(declared, objects, stack):
    associations = {
        inputs["serviceAccount"]: inputs
        for typ, _name, inputs in declared[stack]
        if typ == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
        and inputs["namespace"] == "cnop"
    }
    assert set(associations) == {"user", "order", "auth"}
    roles = {
        name: json.loads(inputs["assumeRolePolicy"])
        for typ, name, inputs in declared[stack]
        if typ == "aws:iam/role:Role" and name.endswith("-pod")
    }
    for trust in roles.values():
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert set(statement["Action"]) == {"sts:AssumeRole", "sts:TagSession"}
    for account in of_kind(objects[stack], "ServiceAccount"):
        assert not account["metadata"].get("annotations"), account["metadata"]["name"]


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
        if stack == "local":
            assert image == f"localhost:5001/cnop/{component.name}:dev"
        else:  # Argo CD's kustomize override sets registry and digest
            assert image == f"cnop/{component.name}"


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
    assert types.count("aws:eks/cluster:Cluster") == 1
    # Staging shares one NAT gateway; prod has one per zone, each private subnet
    # routed through its own zone's, and DynamoDB's endpoint on every route table.
    nats = {f"{n}-id": i for t, n, i in declared[stack] if t == "aws:ec2/natGateway:NatGateway"}
    tables = {
        f"{n}-id": i["routes"][0]["natGatewayId"]
        for t, n, i in declared[stack]
        if t == "aws:ec2/routeTable:RouteTable" and "-private" in n
    }
    subnets = {f"{n}-id": i for t, n, i in declared[stack] if t == "aws:ec2/subnet:Subnet"}
    routed = {
        subnets[i["subnetId"]]["availabilityZone"]: nats[tables[i["routeTableId"]]]["subnetId"]
        for t, _n, i in declared[stack]
        if t == "aws:ec2/routeTableAssociation:RouteTableAssociation"
        and i["routeTableId"] in tables
    }
    assert len(nats) == (2 if stack == "prod" else 1)
    nat_zones = {zone: subnets[nat]["availabilityZone"] for zone, nat in routed.items()}
    if stack == "prod":
        assert all(zone == nat_zone for zone, nat_zone in nat_zones.items()), nat_zones
    (endpoint,) = [i for t, _n, i in declared[stack] if t == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    assert set(endpoint["routeTableIds"]) == set(tables)
    cluster = next(i for t, _n, i in declared[stack] if t == "aws:eks/cluster:Cluster")
    private = {
        f"{n}-id"
        for t, n, _i in declared[stack]
        if t == "aws:ec2/subnet:Subnet" and "-private-" in n
    }
    assert set(cluster["vpcConfig"]["subnetIds"]) == private
    assert not any(t.startswith("aws:ec2/") for t, _n, _i in declared["local"])


FORBIDDEN_UNDER_DEPLOY = (
    "mock",
    "stand-in",
    "example.",
    ".invalid",
    "123456789012",
    "000000000000",
    "placeholder",
    "changeme",
    "redacted",
    "todo",
)


def test_nothing_under_deploy_is_a_mock_or_a_placeholder():
    files = sorted(p for p in DEPLOY.rglob("*") if p.is_file())
    assert files, "deploy/ is empty"
    for path in files:
        text = path.read_text().lower()
        for marker in FORBIDDEN_UNDER_DEPLOY:
            assert marker not in text, f"{path.relative_to(DEPLOY)} holds {marker!r}"


def test_the_placeholder_check_sees_what_it_looks_for(tmp_path, monkeypatch):
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "sa.yaml").write_text("role: arn:aws:mock:::user-dynamodb\n")
    monkeypatch.setattr(sys.modules[__name__], "DEPLOY", tmp_path)
    with pytest.raises(AssertionError, match="mock"):
        test_nothing_under_deploy_is_a_mock_or_a_placeholder()


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_deploy_holds_the_app_layer_listed_in_its_kustomization(rendered, stack):
    files = rendered[stack]
    kustomization = yaml.safe_load(files["apps/kustomization.yaml"])
    listed = {f"apps/{name}" for name in kustomization["resources"]}
    assert listed == set(files) - {"apps/kustomization.yaml"}
    kinds = {yaml.safe_load(files[name])["kind"] for name in listed}
    assert kinds.isdisjoint({"Secret", "Namespace", "Application", "AppProject", "Ingress"})


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_argo_cd_syncs_isolation_first_and_monitors_last(objects, stack):
    for obj in objects[stack]:
        wave = obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave")
        if obj["kind"] == "NetworkPolicy":
            assert wave == "-1"
        elif obj["kind"] in ("ServiceMonitor", "PrometheusRule"):
            assert wave == "2"
        elif obj["kind"] == "Deployment":
            assert wave is None  # wave 0


def test_the_catalogue_and_the_table_access_name_the_same_store_users():
    assert set(STORE_USERS) == set(ACCESS)


def test_table_indexes_are_declared_from_the_services_own_specs(declared):
    from cnop_platform.tables import TABLES  # noqa: PLC0415

    tables = {
        i["name"].removeprefix("cnop-prod-"): i
        for t, _n, i in declared["prod"]
        if t == "aws:dynamodb/table:Table"
    }
    for spec in TABLES:
        declared_indexes = {
            index["name"]: [(k["attributeName"], k["keyType"]) for k in index["keySchemas"]]
            for index in tables[spec.name].get("globalSecondaryIndexes") or []
        }
        expected = {
            index.name: [(index.hash_key.name, "HASH")]
            + ([(index.range_key.name, "RANGE")] if index.range_key else [])
            for index in spec.indexes
        }
        assert declared_indexes == expected, spec.name


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_each_signing_key_is_mounted_into_its_own_service_alone(objects, cluster_objects, stack):
    signers, verifiers = {"gateway", "user", "order"}, {"auth", "user", "inventory", "order"}
    for deployment in of_kind(objects[stack], "Deployment"):
        name = deployment["metadata"]["name"]
        volumes = deployment["spec"]["template"]["spec"].get("volumes", [])
        keys = [v["secret"]["secretName"] for v in volumes if "secret" in v]
        keys = [k for k in keys if k.startswith("identity-key-")]
        assert keys == ([f"identity-key-{name}"] if name in signers else []), name
        public = [
            v for v in volumes if v.get("configMap", {}).get("name") == "identity-public-keys"
        ]
        assert bool(public) == (name in verifiers), name
        env = {
            e["name"]: e.get("value")
            for e in deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
        }
        assert ("IDENTITY_SIGNING_KEY_FILE" in env) == (name in signers), name
        assert ("IDENTITY_PUBLIC_KEYS_FILE" in env) == (name in verifiers), name
    secrets = {s["metadata"]["name"] for s in of_kind(cluster_objects[stack], "Secret")}
    assert {f"identity-key-{s}" for s in signers} <= secrets
    (public_keys,) = [
        m
        for m in of_kind(cluster_objects[stack], "ConfigMap")
        if m["metadata"]["name"] == "identity-public-keys"
    ]
    entries = json.loads(public_keys["data"]["identity-public-keys.json"])
    assert sorted(e["issuer"] for e in entries.values()) == sorted(signers)
    assert all("PRIVATE" not in e["key"] for e in entries.values())


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_exactly_the_pods_with_a_pod_identity_may_ask_the_agent_for_credentials(
    declared, objects, stack
):
    """A pod whose service account has an association fetches its credentials from the
    node's agent at 169.254.170.23:80 (aws/eks-pod-identity-agent v0.1.37,
    configuration/config.go and cmd/server.go); without an allow it never gets ready.
    Any other pod has nothing to ask it for."""
    associated = {
        inputs["serviceAccount"]
        for typ, _name, inputs in declared[stack]
        if typ == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
        and inputs["namespace"] == "cnop"
    }
    accounts = {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]: d["spec"][
            "template"
        ]["spec"]["serviceAccountName"]
        for d in of_kind(objects[stack], "Deployment")
    }
    allowed = set()
    for policy in of_kind(objects[stack], "NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            blocks = [peer.get("ipBlock", {}).get("cidr") for peer in rule.get("to", [])]
            if "169.254.170.23/32" in blocks:
                assert rule["ports"] == [{"port": 80, "protocol": "TCP"}]
                allowed.add(policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
    assert allowed == {name for name, account in accounts.items() if account in associated}
    assert allowed  # the services with tables: there is something to allow
