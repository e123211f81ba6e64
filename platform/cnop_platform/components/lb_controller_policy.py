"""The AWS Load Balancer Controller's IAM policy, scoped to one cluster's resources.

Shaped after the controller's own policy at the pinned version
(kubernetes-sigs/aws-load-balancer-controller v2.13.4, docs/install/iam_policy.json,
the release chart 1.13.4 installs), with two differences:

- Where upstream asks only that the `elbv2.k8s.aws/cluster` tag exist (a `Null`
  condition), this policy asks that it name *this* cluster: the controller tags
  everything it creates with its cluster's name (pkg/deploy/tracking/provider.go),
  so staging's controller cannot change or delete prod's load balancers, target
  groups or security groups when both live in one account.
- No WAF, Shield or Cognito rights: the chart values switch those features off.

What upstream leaves unconditioned stays so (adding listener rules, registering
targets, opening node security groups to a load balancer): the controller cannot
work without it, and only an account per environment separates those completely
(docs/deploying.md recommends one for prod).
"""

from __future__ import annotations

from typing import Any

from cnop_platform.components.identity import policy_document

TAG = "elbv2.k8s.aws/cluster"
SECURITY_GROUPS = "arn:aws:ec2:*:*:security-group/*"
LOAD_BALANCERS = [
    "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
]
LISTENERS = [
    "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
    "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
    "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
    "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
]
READ = [
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAddresses",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeTags",
    "ec2:DescribeRouteTables",
    "ec2:GetSecurityGroupsForVpc",
    "elasticloadbalancing:Describe*",
    "acm:ListCertificates",
    "acm:DescribeCertificate",
]
CREATE_ACTIONS = ["CreateTargetGroup", "CreateLoadBalancer"]
OWNED_CHANGES = [
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:SetIpAddressType",
    "elasticloadbalancing:SetSecurityGroups",
    "elasticloadbalancing:SetSubnets",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:ModifyListenerAttributes",
    "elasticloadbalancing:ModifyCapacityReservation",
    "elasticloadbalancing:ModifyIpPools",
]


def lb_controller_policy(cluster: str) -> str:
    """The policy for the controller of the cluster named `cluster`."""
    ours_requested = {"StringEquals": {f"aws:RequestTag/{TAG}": cluster}}
    ours_existing = {"StringEquals": {f"aws:ResourceTag/{TAG}": cluster}}
    retagging_ours = {
        "Null": {f"aws:RequestTag/{TAG}": "true"},
        "StringEquals": {f"aws:ResourceTag/{TAG}": cluster},
    }
    statements: list[dict[str, Any]] = [
        {
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
            },
        },
        {"Action": READ, "Resource": "*"},
        # Security groups: made tagged as ours, then changed or deleted only if ours.
        {"Action": "ec2:CreateSecurityGroup", "Resource": "*"},
        {
            "Action": "ec2:CreateTags",
            "Resource": SECURITY_GROUPS,
            "Condition": {
                "StringEquals": {
                    "ec2:CreateAction": "CreateSecurityGroup",
                    f"aws:RequestTag/{TAG}": cluster,
                }
            },
        },
        {
            "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
            "Resource": SECURITY_GROUPS,
            "Condition": retagging_ours,
        },
        {
            "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            "Resource": "*",  # the nodes' groups too, to admit the load balancer (upstream)
        },
        {"Action": "ec2:DeleteSecurityGroup", "Resource": "*", "Condition": ours_existing},
        # Load balancers and target groups: likewise.
        {
            "Action": [
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateTargetGroup",
            ],
            "Resource": "*",
            "Condition": ours_requested,
        },
        {
            "Action": "elasticloadbalancing:AddTags",
            "Resource": LOAD_BALANCERS,
            "Condition": {
                "StringEquals": {
                    "elasticloadbalancing:CreateAction": [
                        "CreateTargetGroup",
                        "CreateLoadBalancer",
                    ],
                    f"aws:RequestTag/{TAG}": cluster,
                }
            },
        },
        {
            "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            "Resource": LOAD_BALANCERS,
            "Condition": retagging_ours,
        },
        {"Action": OWNED_CHANGES, "Resource": "*", "Condition": ours_existing},
        # Listeners and rules carry no cluster tag when made: unconditioned upstream.
        {
            "Action": [
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:SetRulePriorities",
            ],
            "Resource": "*",
        },
        {
            "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            "Resource": LISTENERS,
        },
        {
            "Action": [
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
            ],
            "Resource": "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
        },
    ]
    return policy_document(*statements)
