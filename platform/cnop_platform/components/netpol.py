"""NetworkPolicies from plain specs: every component that restricts traffic declares them here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

MONITORING_NAMESPACE = "monitoring"


def in_monitoring(app: str, component: str | None = None) -> dict[str, Any]:
    """A peer: pods of one monitoring app (and chart component), by the standard labels
    their chart or operator gives them. Never the whole namespace: Grafana, Alloy and
    the rest have no business with our ports."""
    match = {"app.kubernetes.io/name": app}
    if component:
        match["app.kubernetes.io/component"] = component
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}},
        "podSelector": {"matchLabels": match},
    }


def declare_policies(
    specs: Mapping[str, dict[str, Any]], namespace: str, opts: pulumi.ResourceOptions
) -> None:
    """One NetworkPolicy per (name, spec); the name is the Pulumi name and the object's."""
    for name, spec in specs.items():
        k8s.networking.v1.NetworkPolicy(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
            spec=cast("k8s.networking.v1.NetworkPolicySpecArgsDict", spec),
            opts=opts,
        )


def in_namespace(namespace: str, pods: dict[str, str] | None = None) -> dict[str, Any]:
    """A peer: pods of another namespace (all of them, or those with `pods` labels)."""
    peer: dict[str, Any] = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    }
    if pods:
        peer["podSelector"] = {"matchLabels": pods}
    return peer


def isolated_namespace(namespace: str) -> dict[str, dict[str, Any]]:
    """Ingress isolation for a namespace of the platform's own tools (monitoring,
    Argo CD): nothing reaches its pods but its own pods, and what a caller adds.
    Egress stays open: they scrape, clone, page and store far and wide."""
    return {
        f"{namespace}-default-deny-ingress": {"podSelector": {}, "policyTypes": ["Ingress"]},
        f"{namespace}-allow-same-namespace": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
        },
    }
