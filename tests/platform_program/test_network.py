"""NetworkPolicies give exactly the trust model's connectivity (network-config-analyzer).

NCA computes the connectivity the rendered policies allow between the rendered
workloads (plus stand-ins for the monitoring pods, kube-dns and an outsider).
The expected edges are written out here by hand from architecture.md, not
derived from the program, so the check is independent of the code it checks.
Alloy has no edge to our pods: it tails their logs through the Kubernetes API.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from ipaddress import IPv4Address, ip_network
from pathlib import Path
from typing import Any

import pytest
import yaml

from cnop_catalogue import STORE_PORT
from cnop_platform.render import STACK_NAMES

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
NCA = REPO / ".venv-nca" / "bin" / "nca"
STAND_INS = Path(__file__).parent / "fixtures" / "stand-in-workloads.yaml"
OUTSIDE = "ip:0.0.0.0/0"
# DynamoDB's addresses: everything but the VPC (10.0.0.0/16: pods, nodes, the control
# plane's interfaces), link-local (169.254.0.0/16: the instance metadata service) and
# the cluster's Service range (172.20.0.0/16: the API server's Service).
BEYOND_THE_VPC = (
    "ip:0.0.0.0-9.255.255.255,10.1.0.0-169.253.255.255,"
    "169.255.0.0-172.19.255.255,172.21.0.0-255.255.255.255"
)
# What pods need from the cluster itself, from the providers' source and docs:
# - the EKS Pod Identity agent, plain HTTP on a link-local address of every node
#   (aws/eks-pod-identity-agent v0.1.37: configuration/config.go
#   DefaultIpv4TargetHost, cmd/server.go `--port` default 80), which the VPC CNI's
#   policy agent does not let through unasked: it allows only the node's own IP
#   (aws/aws-network-policy-agent v1.4: pkg/fwruleprocessor/fw_rule_processor.go);
# - the instance metadata service, which no pod may reach (its node's role);
# - the API server: the `kubernetes` Service (first address of the Service range
#   the cluster is given) and the control plane's interfaces in the private subnets.
POD_IDENTITY_AGENT = ("169.254.170.23", 80)
INSTANCE_METADATA = "169.254.169.254"
API_SERVER = (("172.20.0.1", 443), ("10.0.40.17", 443))
# The services with DynamoDB tables, which EKS Pod Identity gives their roles.
WITH_POD_IDENTITY = ("auth", "user", "order")
TCP = "{protocols:TCP,dst_ports:%d}"
# Every component's admin port: Prometheus alone reaches it.
METRICS = {
    "web": 9300,
    "gateway": 9080,
    "auth": 9403,
    "user": 9400,
    "inventory": 9401,
    "order": 9402,
}


def expected_edges(stack: str) -> set[tuple[str, str, str]]:
    """architecture.md's trust model as (source, destination, connection)."""
    edges = {
        ("cnop/web", "cnop/gateway", TCP % 8080),
        ("cnop/gateway", "cnop/auth", TCP % 8003),
        ("cnop/gateway", "cnop/user", TCP % 8000),
        ("cnop/gateway", "cnop/inventory", TCP % 8001),
        ("cnop/gateway", "cnop/order", TCP % 8002),
        ("cnop/user", "cnop/auth", TCP % 8003),
        ("cnop/user", "cnop/inventory", TCP % 8001),
        ("cnop/order", "cnop/inventory", TCP % 8001),
    }
    edges |= {
        ("monitoring/prometheus", f"cnop/{name}", TCP % port) for name, port in METRICS.items()
    }
    # Every component sends its spans to Tempo's OTLP/HTTP receiver.
    edges |= {(f"cnop/{name}", "monitoring/tempo", TCP % 4318) for name in METRICS}
    # Verification after each deploy: the PostSync check reaches the gateway's API
    # port and the query APIs (Prometheus 9090, Loki's gateway 8080, Tempo 3200);
    # Locust workers reach the gateway's API port and their master. Nothing more.
    edges |= {
        ("cnop/verify", "cnop/gateway", TCP % 8080),
        ("cnop/verify", "monitoring/prometheus", TCP % 9090),
        ("cnop/verify", "monitoring/loki-gateway", TCP % 8080),
        ("cnop/verify", "monitoring/tempo", TCP % 3200),
        ("cnop/loadtest-worker", "cnop/gateway", TCP % 8080),
        ("cnop/loadtest-worker", "cnop/loadtest-master", TCP % 5557),
    }
    verifiers = ["verify", "loadtest-master", "loadtest-worker"]
    in_cluster_stores = ["store", "limits-store"] if stack == "local" else []
    cnop_pods = [*METRICS, *verifiers, *in_cluster_stores]
    edges |= {
        (f"cnop/{pod}", "kube-system/coredns", "{protocols:TCP, UDP,dst_ports:53}")
        for pod in cnop_pods
    }
    for store_user in ("auth", "user", "order"):
        if stack == "local":
            edges.add((f"cnop/{store_user}", "cnop/store", TCP % STORE_PORT))
        else:
            edges.add((f"cnop/{store_user}", BEYOND_THE_VPC, TCP % 443))
    if stack != "local":
        agent, port = POD_IDENTITY_AGENT
        edges |= {(f"cnop/{name}", f"ip:{agent}/32", TCP % port) for name in WITH_POD_IDENTITY}
    if stack != "local":
        edges.add((OUTSIDE, "cnop/gateway", TCP % 8080))
    if stack == "prod":
        # Its ALB (the web Ingress, behind CloudFront) lives in the public subnets.
        edges.add(("ip:10.0.0.0/19", "cnop/web", TCP % 3000))
    # The shared limits store: the gateway for its limits, every receiver of signed
    # calls for the nonces its replicas share. Its pod locally, ElastiCache in the
    # pod subnets (10.0.32.0/20 and 10.0.48.0/20) on AWS.
    for user in ("gateway", "auth", "user", "inventory", "order"):
        if stack == "local":
            edges.add((f"cnop/{user}", "cnop/limits-store", TCP % 6379))
        else:
            edges.add((f"cnop/{user}", "ip:10.0.32.0/19", TCP % 6379))
    return edges


Workloads = dict[str, dict[str, dict[str, str]]]  # namespace → workload → its pods' labels


def _matches(labels: dict[str, str], selector: str) -> bool:
    """NCA's printed label selector ("k in (a,b) and {!has(k2) or k2=v}") against pod labels."""
    return all(_holds(labels, clause) for clause in selector.split(" and "))


def _holds(labels: dict[str, str], clause: str) -> bool:
    if clause.startswith("{") and clause.endswith("}"):
        return any(_holds(labels, part) for part in clause[1:-1].split(" or "))
    if match := re.fullmatch(r"([\w./-]+) in \(([^)]*)\)", clause):
        return labels.get(match.group(1)) in match.group(2).split(",")
    if match := re.fullmatch(r"([\w./-]+) not in \(([^)]*)\)", clause):
        return labels.get(match.group(1)) not in match.group(2).split(",")
    if match := re.fullmatch(r"!has\(([\w./-]+)\)", clause):
        return match.group(1) not in labels
    if match := re.fullmatch(r"has\(([\w./-]+)\)", clause):
        return match.group(1) in labels
    if match := re.fullmatch(r"([\w./-]+)=([\w.-]+)", clause):
        return labels.get(match.group(1)) == match.group(2)
    raise ValueError(f"unknown NCA selector clause: {clause}")


def _expand(namespaces: str, pods: str, workloads: Workloads) -> list[str]:
    if not namespaces:
        return [f"ip:{pods}"]
    result = []
    for ns in namespaces.strip("[]").split(","):
        selector = pods.strip("[]")
        if selector == "*":
            names = list(workloads[ns])
        elif re.fullmatch(r"[a-z0-9,-]+", selector):
            names = selector.split(",")
        else:
            names = [name for name, labels in workloads[ns].items() if _matches(labels, selector)]
        result += [f"{ns}/{name}" for name in names]
    return result


def analysed_edges(folder: Path, workloads: Workloads) -> set[tuple[str, str, str]]:
    output = subprocess.run(
        [
            str(NCA),
            "--connectivity",
            str(folder),
            "--resource_list",
            str(folder),
            "--output_format",
            "csv",
            "--output_endpoints",
            "deployments",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table = output[output.index('"query"') :]
    edges = set()
    for row in csv.DictReader(io.StringIO(table)):
        if not row["connection"] or row["connection"] == "connection":
            continue
        for source in _expand(row["src_ns"], row["src_pods"], workloads):
            for target in _expand(row["dst_ns"], row["dst_pods"], workloads):
                edges.add((source, target, row["connection"]))
    return edges


def _workloads(folder: Path) -> Workloads:
    found: Workloads = {}
    for path in folder.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            for obj in doc.get("items", [doc]) if doc else []:
                if obj["kind"] in ("Deployment", "Job"):
                    pods = obj["spec"]["template"]["metadata"].get("labels", {})
                    found.setdefault(obj["metadata"]["namespace"], {})[obj["metadata"]["name"]] = (
                        pods
                    )
    return found


TOOLS_NAMESPACES = ("monitoring", "argocd")


def write_workloads(
    files: dict[str, str], folder: Path, cluster: list[dict[str, Any]] | None = None
) -> None:
    """The app layer for NCA, every workload running: a Deployment scaled to zero (the load
    generator while it is off) has no pods to analyse, and must be safe when switched on.
    With `cluster` (what Pulumi applies), the tools' namespaces' NetworkPolicies too."""
    for name, text in files.items():
        if name.startswith("apps/") or "namespace-" in name:
            obj = yaml.safe_load(text)
            if obj["kind"] == "Deployment" and obj["spec"].get("replicas") == 0:
                obj["spec"]["replicas"] = 1
            (folder / Path(name).name).write_text(yaml.safe_dump(obj))
    for obj in cluster or []:
        if obj["kind"] == "NetworkPolicy" and obj["metadata"]["namespace"] in TOOLS_NAMESPACES:
            meta = obj["metadata"]
            (folder / f"tools-{meta['namespace']}-{meta['name']}.yaml").write_text(
                yaml.safe_dump(obj)
            )


@pytest.fixture(scope="module")
def nca() -> Path:
    assert NCA.exists(), "network-config-analyzer is not installed: run `make nca`"
    return NCA


@pytest.mark.tools
@pytest.mark.parametrize("stack", STACK_NAMES)
def test_policies_allow_exactly_the_trust_model(nca, rendered, cluster_objects, tmp_path, stack):
    write_workloads(rendered[stack], tmp_path, cluster_objects[stack])
    shutil.copy(STAND_INS, tmp_path / "stand-ins.yaml")
    workloads = _workloads(tmp_path)
    involving_cnop = {
        edge
        for edge in analysed_edges(tmp_path, workloads)
        if edge[0].startswith("cnop/") or edge[1].startswith("cnop/")
    }
    assert involving_cnop == expected_edges(stack)


@pytest.mark.tools
def test_no_path_from_outside_the_namespace_or_from_web_to_a_backend(nca, rendered, tmp_path):
    write_workloads(rendered["prod"], tmp_path)
    shutil.copy(STAND_INS, tmp_path / "stand-ins.yaml")
    edges = analysed_edges(tmp_path, _workloads(tmp_path))
    backends = {"cnop/auth", "cnop/user", "cnop/inventory", "cnop/order"}
    for source, target, _connection in edges:
        if target in backends:
            assert source.startswith("cnop/") or source == "monitoring/prometheus", (source, target)
            assert source != "cnop/web"
            assert not source.startswith(("ip:", "other/"))


def _in_ranges(address: str, ranges: str) -> bool:
    """Is `address` inside NCA's printed ranges ("a-b,c/n,…")?"""
    ip = IPv4Address(address)
    for part in ranges.split(","):
        if "-" in part:
            low, high = part.split("-")
            if IPv4Address(low) <= ip <= IPv4Address(high):
                return True
        elif ip in ip_network(part, strict=False):
            return True
    return False


def _admits(connection: str, port: int | None) -> bool:
    """Does NCA's printed connection admit TCP to `port` (None: to any port)?"""
    if connection == "All connections":
        return True
    found = re.search(r"protocols:([\w, ]+)", connection)
    if found is None or "TCP" not in found.group(1):
        return False
    ports = re.search(r"dst_ports:([\d,-]+)", connection)
    if ports is None or port is None:
        return True
    for part in ports.group(1).split(","):
        low, _, high = part.partition("-")
        if int(low) <= port <= int(high or low):
            return True
    return False


def reaches(edges: set[tuple[str, str, str]], pod: str, address: str, port: int | None) -> bool:
    """May `pod` open a TCP connection to `address`:`port` (None: on any port)?"""
    return any(
        source == pod
        and target.startswith("ip:")
        and _in_ranges(address, target[3:])
        and _admits(connection, port)
        for source, target, connection in edges
    )


@pytest.mark.tools
@pytest.mark.parametrize("stack", STACK_NAMES)
def test_pods_reach_the_cluster_endpoints_they_start_with_and_never_instance_metadata(
    nca, rendered, tmp_path, stack
):
    """A policy that cuts a pod off from its credentials keeps it from ever getting ready;
    one that lets it reach the instance metadata service hands it the node's role."""
    write_workloads(rendered[stack], tmp_path)
    shutil.copy(STAND_INS, tmp_path / "stand-ins.yaml")
    workloads = _workloads(tmp_path)
    edges = analysed_edges(tmp_path, workloads)
    for name in workloads["cnop"]:
        pod = f"cnop/{name}"
        needs_credentials = stack != "local" and name in WITH_POD_IDENTITY
        assert reaches(edges, pod, *POD_IDENTITY_AGENT) == needs_credentials, pod
        assert not reaches(edges, pod, INSTANCE_METADATA, None), pod
        for address, port in API_SERVER:
            assert not reaches(edges, pod, address, port), (pod, address)
        assert (pod, "kube-system/coredns", "{protocols:TCP, UDP,dst_ports:53}") in edges


def test_the_endpoint_check_sees_an_address_inside_printed_ranges():
    edges = {("cnop/a", "ip:0.0.0.0-9.255.255.255,169.254.170.23/32", TCP % 80)}
    assert reaches(edges, "cnop/a", "169.254.170.23", 80)
    assert reaches(edges, "cnop/a", "9.1.2.3", None)
    assert not reaches(edges, "cnop/a", "169.254.169.254", 80)
    assert not reaches(edges, "cnop/a", "169.254.170.23", 443)
    assert not reaches(edges, "cnop/b", "169.254.170.23", 80)


@pytest.mark.tools
@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_tools_namespaces_admit_their_own_pods_and_the_apps_named_callers_only(
    nca, rendered, cluster_objects, tmp_path, stack
):
    """Monitoring and Argo CD hold the platform's credentials and its whole picture:
    from outside their namespace only the app's spans reach Tempo and the post-deploy
    check reaches the query APIs (tests/platform_program/fixtures: the charts' labels)."""
    write_workloads(rendered[stack], tmp_path, cluster_objects[stack])
    shutil.copy(STAND_INS, tmp_path / "stand-ins.yaml")
    edges = analysed_edges(tmp_path, _workloads(tmp_path))
    # Argo CD runs where it applies the app layer (not on `local`, where Pulumi does).
    has_argocd = any(o["kind"] == "Application" for o in cluster_objects[stack])
    guarded = ("monitoring", "argocd") if has_argocd else ("monitoring",)
    for source, target, connection in edges:
        namespace = target.split("/")[0]
        if namespace not in guarded or source.split("/")[0] == namespace:
            continue
        allowed = {
            ("cnop/verify", "monitoring/prometheus", TCP % 9090),
            ("cnop/verify", "monitoring/loki-gateway", TCP % 8080),
            ("cnop/verify", "monitoring/tempo", TCP % 3200),
        } | {(f"cnop/{name}", "monitoring/tempo", TCP % 4318) for name in METRICS}
        assert (source, target, connection) in allowed, (source, target, connection)
    # Inside, the tools still reach each other (Grafana its data sources, Argo CD its parts).
    assert ("monitoring/grafana", "monitoring/prometheus", "All connections") in edges
    if has_argocd:
        assert ("argocd/argocd-server", "argocd/argocd-repo-server", "All connections") in edges
