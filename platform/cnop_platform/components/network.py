"""cnop:security:NetworkSecurity: default deny, then exactly the trust model's allows.

Who may call whom is derived from the catalogue's `peers` (the same table the
local runner uses): gateway → auth and backends, user → auth and inventory,
order → inventory, web → gateway. Prometheus alone reaches the admin (metrics)
ports; every component may send traces to Tempo, look up DNS, and (where it
uses one) reach the store. A component EKS Pod Identity gives an AWS role may
ask the node's Pod Identity agent for its credentials; nothing reaches the
instance metadata service, the API server or the nodes.
"""

from __future__ import annotations

from typing import Any

import pulumi

from cnop_catalogue import (
    COMPONENTS,
    LIMITS_STORE_PORT,
    LIMITS_STORE_USERS,
    STORE_PORT,
    STORE_USERS,
    Component,
)
from cnop_platform.components.data import pod_identity_accounts
from cnop_platform.components.limits_store import NAME as LIMITS_STORE
from cnop_platform.components.loadgen import role_labels
from cnop_platform.components.monitoring_values import OTLP_HTTP_PORT
from cnop_platform.components.netpol import declare_policies, in_monitoring
from cnop_platform.components.pod import labels
from cnop_platform.components.verification import NAME as VERIFY
from cnop_platform.components.vpc import SERVICE_CIDR, pod_networks, public_networks
from cnop_platform.config import StackConfig

STORE = ("store", STORE_PORT)
# The Prometheus pods (the operator labels them so); no other monitoring pod scrapes.
PROMETHEUS_PODS = in_monitoring("prometheus")
TEMPO_EGRESS = {
    "to": [in_monitoring("tempo")],
    "ports": [{"protocol": "TCP", "port": OTLP_HTTP_PORT}],
}


# EKS Pod Identity: the agent on every node hands pods their AWS credentials over
# plain HTTP at this link-local address (aws/eks-pod-identity-agent:
# configuration/config.go DefaultIpv4TargetHost, cmd/server.go --port default 80).
# The VPC CNI's policy agent lets a pod reach its node's own address and nothing
# else unasked (aws/aws-network-policy-agent: pkg/fwruleprocessor), so a pod with
# an association needs exactly this allow.
POD_IDENTITY_AGENT = ("169.254.170.23/32", 80)
# The link-local range: the instance metadata service (169.254.169.254) is in it.
LINK_LOCAL = "169.254.0.0/16"


def callers(target: Component) -> list[str]:
    """Components allowed to open connections to `target`."""
    return [c.name for c in COMPONENTS if target.name in c.peers]


DNS_EGRESS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def _selector(name: str) -> dict[str, Any]:
    return {"matchLabels": labels(name)}


def _pods(*names: str) -> list[dict[str, Any]]:
    return [{"podSelector": {"matchLabels": labels(name)}} for name in names]


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


# Clients in the namespace that are not platform components: the post-deploy
# check and the Locust workers, which speak only to the gateway's API port.
VERIFIERS = {"gateway": [labels(VERIFY), role_labels("worker")]}


def ingress_rules(component: Component, config: StackConfig) -> list[dict[str, Any]]:
    """Who may reach a component, on which port."""
    # An empty `from` would admit everyone: a component nobody calls gets no rule.
    sources = _pods(*callers(component)) + [
        {"podSelector": {"matchLabels": selector}} for selector in VERIFIERS.get(component.name, [])
    ]
    rules = [{"from": sources, "ports": _tcp(component.port)}] if sources else []
    if component.public and config.expose == "loadbalancer":
        # The NLB keeps the client's address: any address may arrive, on the API port only.
        rules.append({"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": _tcp(component.port)})
    if component.name == "web" and config.web_ingress:
        # The ALB proxies from its own addresses in the public subnets.
        blocks = [{"ipBlock": {"cidr": cidr}} for cidr in public_networks(config)]
        rules.append({"from": blocks, "ports": _tcp(component.port)})
    rules.append({"from": [PROMETHEUS_PODS], "ports": _tcp(component.metrics_port)})
    return rules


def egress_rules(component: Component, config: StackConfig) -> list[dict[str, Any]]:
    """Where a component may open connections (DNS is allowed for all apart)."""
    by_name = {c.name: c for c in COMPONENTS}
    rules = [{"to": _pods(peer), "ports": _tcp(by_name[peer].port)} for peer in component.peers]
    rules.append(TEMPO_EGRESS)
    if component.name in LIMITS_STORE_USERS:
        # The shared limits store (the gateway's limits, the receivers' nonces):
        # its pod here, or ElastiCache in the pod subnets.
        store: list[dict[str, Any]] = (
            [{"ipBlock": {"cidr": cidr}} for cidr in pod_networks(config)]
            if config.create_cluster
            else _pods(LIMITS_STORE)
        )
        rules.append({"to": store, "ports": _tcp(LIMITS_STORE_PORT)})
    if component.name in STORE_USERS:
        if config.store == "in-cluster":
            rules.append({"to": _pods(STORE[0]), "ports": _tcp(STORE[1])})
        else:
            # DynamoDB over HTTPS through the VPC's gateway endpoint, whose
            # addresses are AWS's public ranges (no NetworkPolicy selector names them);
            # the VPC (nodes, pods, the control plane's interfaces), the Service range
            # (the API server's Service) and link-local (instance metadata) stay closed.
            closed = [config.pod_cidr, SERVICE_CIDR, LINK_LOCAL]
            rules.append(
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": closed}}], "ports": _tcp(443)}
            )
    if component.name in pod_identity_accounts(config):
        agent, port = POD_IDENTITY_AGENT
        rules.append({"to": [{"ipBlock": {"cidr": agent}}], "ports": _tcp(port)})
    return rules


class NetworkSecurity(pulumi.ComponentResource):
    """Default-deny ingress and egress in the app namespace, plus the explicit allows."""

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cnop:security:NetworkSecurity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = config.namespace
        policies: dict[str, tuple[dict[str, Any], list[str], dict[str, Any]]] = {
            "default-deny": ({}, ["Ingress", "Egress"], {}),
            "allow-dns": ({}, ["Egress"], {"egress": [DNS_EGRESS]}),
        }
        for component in COMPONENTS:
            selector = _selector(component.name)
            policies[f"{component.name}-ingress"] = (
                selector,
                ["Ingress"],
                {"ingress": ingress_rules(component, config)},
            )
            egress = egress_rules(component, config)
            if egress:
                policies[f"{component.name}-egress"] = (selector, ["Egress"], {"egress": egress})
        if config.store == "in-cluster":
            policies["store-ingress"] = (
                _selector(STORE[0]),
                ["Ingress"],
                {"ingress": [{"from": _pods(*STORE_USERS), "ports": _tcp(STORE[1])}]},
            )
        specs = {
            policy_name: {"podSelector": pod_selector, "policyTypes": types, **rules}
            for policy_name, (pod_selector, types, rules) in policies.items()
        }
        declare_policies(specs, ns, child)
        self.register_outputs({})
