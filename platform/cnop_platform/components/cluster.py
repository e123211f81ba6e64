"""cnop:cluster:Cluster: EKS in AWS stacks; an existing kind cluster for the local stack.

AWS: a VPC with public and private subnets in two zones, the EKS control
plane, one managed node group, an ECR repository per component and the IAM
OIDC provider that service accounts assume roles through (IRSA).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from cnop_platform.catalogue import IMAGES
from cnop_platform.components.vpc import private_subnets
from cnop_platform.config import StackConfig

# The thumbprint of the root CA of EKS OIDC issuers (Amazon's documented value).
EKS_OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def _assume(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": f"{service}.amazonaws.com"},
                }
            ],
        }
    )


class Cluster(pulumi.ComponentResource):
    """The Kubernetes provider every other component deploys with."""

    provider: k8s.Provider
    oidc: tuple[pulumi.Output[str], pulumi.Output[str]] | None

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cnop:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.oidc = None
        if not config.create_cluster:
            self.provider = k8s.Provider(name, context=config.kube_context, opts=child)
            self.register_outputs({})
            return
        subnets = private_subnets(name, config, child)
        control_role = aws.iam.Role(
            f"{name}-control", assume_role_policy=_assume("eks"), opts=child
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-control",
            role=control_role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child,
        )
        cluster = aws.eks.Cluster(
            name,
            name=f"cnop-{config.environment}",
            role_arn=control_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(subnet_ids=[s.id for s in subnets]),
            opts=child,
        )
        node_role = aws.iam.Role(f"{name}-nodes", assume_role_policy=_assume("ec2"), opts=child)
        for policy in (
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonEC2ContainerRegistryReadOnly",
        ):
            aws.iam.RolePolicyAttachment(
                f"{name}-nodes-{policy}",
                role=node_role.name,
                policy_arn=f"arn:aws:iam::aws:policy/{policy}",
                opts=child,
            )
        aws.eks.NodeGroup(
            name,
            cluster_name=cluster.name,
            node_role_arn=node_role.arn,
            subnet_ids=[s.id for s in subnets],
            instance_types=["t3.large"],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                desired_size=max(2, config.replicas),
                min_size=2,
                max_size=max(4, (config.max_replicas or 2) * 2),
            ),
            opts=child,
        )
        for image in IMAGES:
            aws.ecr.Repository(
                image,
                name=f"cnop/{image}",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                image_tag_mutability="IMMUTABLE",
                opts=child,
            )
        issuer = cluster.identities.apply(_issuer)
        provider = aws.iam.OpenIdConnectProvider(
            name,
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            thumbprint_lists=[EKS_OIDC_THUMBPRINT],
            opts=child,
        )
        self.oidc = (provider.arn, issuer)
        kubeconfig = pulumi.Output.all(
            cluster.endpoint, cluster.certificate_authority.data, cluster.name
        ).apply(_kubeconfig)
        self.provider = k8s.Provider(name, kubeconfig=kubeconfig, opts=child)
        self.register_outputs({"cluster_name": cluster.name})


def _issuer(identities: Any) -> str:
    # EKS reports one identity with one OIDC issuer per cluster.
    return str(identities[0].oidcs[0].issuer)


def _kubeconfig(values: list[str]) -> str:
    endpoint, ca, cluster_name = values
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "cnop",
            "clusters": [
                {"name": "cnop", "cluster": {"server": endpoint, "certificate-authority-data": ca}}
            ],
            "contexts": [{"name": "cnop", "context": {"cluster": "cnop", "user": "cnop"}}],
            "users": [
                {
                    "name": "cnop",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name],
                        }
                    },
                }
            ],
        }
    )
