"""One pinned Helm chart, installed as a release named after the chart."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def release(
    chart: str,
    pin: tuple[str, str],
    *,
    namespace: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """`chart` at exactly the pinned (repository, version), with our `values`."""
    repo, version = pin
    return k8s.helm.v3.Release(
        chart,
        name=chart,
        chart=chart,
        version=version,
        namespace=namespace,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
        values=values,
        opts=opts,
    )
