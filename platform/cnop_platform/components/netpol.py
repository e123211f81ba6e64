"""NetworkPolicies from plain specs: every component that restricts traffic declares them here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s


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
