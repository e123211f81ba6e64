"""IAM for the services: one role per service, scoped to its tables, assumed via IRSA."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from cnop_platform.config import StackConfig


def service_role(
    service: str,
    table_arns: list[pulumi.Output[str]],
    config: StackConfig,
    oidc: tuple[pulumi.Output[str], pulumi.Output[str]],
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """A role that only the service account of `service` can assume, on `table_arns` only."""
    provider_arn, issuer = oidc
    subject = f"system:serviceaccount:{config.namespace}:{service}"
    trust = pulumi.Output.all(provider_arn, issuer).apply(
        lambda v: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Principal": {"Federated": v[0]},
                        "Condition": {
                            "StringEquals": {f"{v[1].removeprefix('https://')}:sub": subject}
                        },
                    }
                ],
            }
        )
    )
    role = aws.iam.Role(f"{service}-dynamodb", assume_role_policy=trust, opts=opts)
    policy = pulumi.Output.all(*table_arns).apply(
        lambda arns: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "dynamodb:GetItem",
                            "dynamodb:PutItem",
                            "dynamodb:UpdateItem",
                            "dynamodb:DeleteItem",
                            "dynamodb:Query",
                            "dynamodb:DescribeTable",
                            "dynamodb:ConditionCheckItem",
                        ],
                        "Resource": [*arns, *(f"{arn}/index/*" for arn in arns)],
                    }
                ],
            }
        )
    )
    aws.iam.RolePolicy(f"{service}-dynamodb", role=role.id, policy=policy, opts=opts)
    return role.arn
