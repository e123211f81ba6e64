"""cnop:cluster:Cluster: EKS in AWS stacks; an existing kind cluster for the local stack.

AWS: the VPC (components/vpc.py), an EKS control plane at a pinned version
whose public endpoint only the configured networks reach, one managed node
group, access entries for the named administrators and the add-ons a working
cluster needs (components/addons.py). The ECR repositories are the Registry's.

The Kubernetes provider waits for the nodes and the add-ons: a Helm release
declared before them would wait for pods that have nowhere to run.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from cnop_platform.components.addons import cloud_addons, cluster_addons
from cnop_platform.components.monitoring_storage import max_nodes
from cnop_platform.components.vpc import SERVICE_CIDR, Network, network
from cnop_platform.config import StackConfig

ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
CONTROL_PLANE_LOGS = ["api", "audit", "authenticator"]


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
    cluster_name: pulumi.Output[str] | None
    network: Network | None

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cnop:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.cluster_name = None
        self.network = None
        if not config.create_cluster:
            self.provider = k8s.Provider(name, context=config.kube_context, opts=child)
            self.register_outputs({})
            return
        self.network = network(name, config, child)
        cluster = self._control_plane(name, config, self.network, child)
        self.cluster_name = cluster.name
        nodes = self._nodes(name, config, cluster, self.network, child)
        self._access(name, config, cluster, child)
        addons = cloud_addons(name, config, cluster.name, after=[nodes], opts=child)
        kubeconfig = pulumi.Output.all(
            cluster.endpoint, cluster.certificate_authority.data, cluster.name
        ).apply(lambda values: _kubeconfig(values, config.aws_region))
        addons_provider = k8s.Provider(
            f"{name}-addons",
            kubeconfig=kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[nodes, *addons]),
        )
        lb_controller = cluster_addons(
            config,
            cluster.name,
            self.network.vpc.id,
            opts=pulumi.ResourceOptions(parent=self, provider=addons_provider),
        )
        # Everything else deploys through a provider that waits for the load balancer
        # controller: its webhooks (Ingresses, target group bindings) fail closed
        # while it has no ready pod. On destroy the same edge runs backwards: every
        # object made with this provider, the NLB Service and the web Ingress among
        # them, is deleted while the controller still runs to delete their load
        # balancers and security groups; only then the controller, then the nodes.
        self.provider = k8s.Provider(
            name,
            kubeconfig=kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[nodes, *addons, lb_controller]),
        )
        self.register_outputs({"cluster_name": cluster.name})

    @staticmethod
    def _control_plane(
        name: str, config: StackConfig, net: Network, child: pulumi.ResourceOptions
    ) -> aws.eks.Cluster:
        role = aws.iam.Role(f"{name}-control", assume_role_policy=_assume("eks"), opts=child)
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-control",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child,
        )
        return aws.eks.Cluster(
            name,
            name=f"cnop-{config.environment}",
            version=config.eks_version,
            role_arn=role.arn,
            # Access entries, not the aws-auth ConfigMap; nobody is admin by accident.
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            # Who did what to the cluster, and who got in: kept in CloudWatch Logs.
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
                service_ipv4_cidr=SERVICE_CIDR
            ),
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=[s.id for s in net.private],
                endpoint_private_access=True,
                endpoint_public_access=True,
                public_access_cidrs=config.api_access_cidrs,
            ),
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(depends_on=[attachment], protect=config.deletion_protection),
            ),
        )

    @staticmethod
    def _nodes(
        name: str,
        config: StackConfig,
        cluster: aws.eks.Cluster,
        net: Network,
        child: pulumi.ResourceOptions,
    ) -> aws.eks.NodeGroup:
        role = aws.iam.Role(f"{name}-nodes", assume_role_policy=_assume("ec2"), opts=child)
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-nodes-{policy}",
                role=role.name,
                policy_arn=f"arn:aws:iam::aws:policy/{policy}",
                opts=child,
            )
            for policy in (
                "AmazonEKSWorkerNodePolicy",
                "AmazonEKS_CNI_Policy",
                "AmazonEC2ContainerRegistryReadOnly",
            )
        ]
        template = aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            # IMDSv2 only, one hop: the node's own agents (host network) reach the
            # metadata service, no pod does, so no pod can take the node's role. What
            # would look the region or VPC up there is given them instead (addons.py).
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
            ),
            opts=child,
        )
        return aws.eks.NodeGroup(
            name,
            cluster_name=cluster.name,
            version=config.eks_version,
            node_role_arn=role.arn,
            subnet_ids=[s.id for s in net.private],
            instance_types=[config.node_instance_type],
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                desired_size=max(2, config.replicas),
                min_size=2,
                max_size=max_nodes(config),
            ),
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    depends_on=attachments,
                    # The cluster autoscaler changes the desired size; Pulumi must not undo it.
                    ignore_changes=["scalingConfig.desiredSize"],
                ),
            ),
        )

    @staticmethod
    def _access(
        name: str, config: StackConfig, cluster: aws.eks.Cluster, child: pulumi.ResourceOptions
    ) -> None:
        for index, principal in enumerate(config.cluster_admins):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=principal,
                opts=child,
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=principal,
                policy_arn=ADMIN_POLICY,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=[entry])
                ),
            )


def _kubeconfig(values: list[str], region: str) -> str:
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
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster_name,
                                "--region",
                                region,
                            ],
                        }
                    },
                }
            ],
        }
    )
