"""AWS identities for pods through EKS Pod Identity.

A role trusts the Pod Identity service only; Pulumi associates it with one
service account in one namespace. Nothing about the role appears in a
manifest, so the app layer Argo CD applies carries no account-specific value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

POD_IDENTITY_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
)


def policy_document(*statements: dict[str, Any]) -> str:
    """An IAM policy of `statements`, all allowing."""
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **s} for s in statements]}
    )


def pod_role(
    name: str,
    *,
    policy: pulumi.Input[str] | None = None,
    managed_policies: Sequence[str] = (),
    opts: pulumi.ResourceOptions,
) -> aws.iam.Role:
    """A role only EKS Pod Identity can hand out, with an inline and/or managed policies."""
    role = aws.iam.Role(f"{name}-pod", assume_role_policy=POD_IDENTITY_TRUST, opts=opts)
    if policy is not None:
        aws.iam.RolePolicy(f"{name}-pod", role=role.id, policy=policy, opts=opts)
    for arn in managed_policies:
        aws.iam.RolePolicyAttachment(
            f"{name}-pod-{arn.rsplit('/', 1)[1]}", role=role.name, policy_arn=arn, opts=opts
        )
    return role


def pod_identity(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy: pulumi.Input[str] | None = None,
    managed_policies: Sequence[str] = (),
    opts: pulumi.ResourceOptions,
) -> aws.eks.PodIdentityAssociation:
    """A pod role, associated with `namespace/service_account` of the cluster; the
    association, which the pods of that account must be created after (the Pod
    Identity webhook injects credentials only into pods admitted after it exists)."""
    role = pod_role(name, policy=policy, managed_policies=managed_policies, opts=opts)
    return aws.eks.PodIdentityAssociation(
        name,
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        opts=opts,
    )
