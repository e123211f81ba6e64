"""What an EKS cluster needs before our workloads can run as the program expects.

- VPC CNI with network policy enforcement on: without it EKS ignores every
  NetworkPolicy the platform declares.
- The Pod Identity agent: how the services, the EBS CSI driver, Loki and the
  controllers below get their AWS roles.
- The EBS CSI driver and a default gp3 StorageClass: Prometheus, Alertmanager,
  Loki and Tempo keep their data on volumes that can bind.
- metrics-server: the HPAs read CPU from it.
- The cluster autoscaler: nodes grow when pods do not fit.
- The AWS Load Balancer Controller: the gateway's NLB and the web Ingress's ALB, with TLS.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from cnop_platform.components.helm import release
from cnop_platform.components.identity import pod_identity, pod_role, policy_document
from cnop_platform.components.lb_controller_policy import lb_controller_policy
from cnop_platform.config import StackConfig

KUBE_SYSTEM = "kube-system"
STORAGE_CLASS = "gp3"
# Pinned charts of the in-cluster controllers (a real `pulumi up` proves they resolve).
AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
# The cluster autoscaler's minor must be the cluster's (its compatibility policy:
# kubernetes/autoscaler cluster-autoscaler/README.md, "Releases"): per EKS minor,
# the chart whose default image is that minor (charts/cluster-autoscaler/Chart.yaml
# appVersion; 9.51.0 → 1.33.0) and the image, named explicitly. A new eksVersion
# fails here until someone adds its pair.
AUTOSCALER_RELEASES = {"1.33": ("9.51.0", "v1.33.0")}
LB_CONTROLLER_CHART = ("https://aws.github.io/eks-charts", "aws-load-balancer-controller", "1.13.4")
AUTOSCALER_ACCOUNT = "cluster-autoscaler"
LB_CONTROLLER_ACCOUNT = "aws-load-balancer-controller"
EBS_CSI_ACCOUNT = "ebs-csi-controller-sa"  # the EBS CSI add-on's controller account
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"


def cloud_addons(
    name: str,
    config: StackConfig,
    cluster_name: pulumi.Output[str],
    after: Sequence[pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """EKS-managed add-ons and the controllers' Pod Identity associations (what the
    in-cluster controllers must be installed after). `after`: the node group."""

    def addon(
        addon_name: str,
        needs_nodes: bool,
        configuration: dict[str, str] | None = None,
        identities: list[aws.eks.AddonPodIdentityAssociationArgs] | None = None,
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{name}-{addon_name}",
            cluster_name=cluster_name,
            addon_name=addon_name,
            configuration_values=json.dumps(configuration) if configuration else None,
            pod_identity_associations=identities,
            # EKS installs some of these itself; ours takes them over.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=list(after) if needs_nodes else [])
            ),
        )

    ebs_role = pod_role("ebs-csi", managed_policies=[EBS_CSI_POLICY], opts=opts)
    addons = [
        addon(
            "vpc-cni",
            needs_nodes=False,
            configuration={"enableNetworkPolicy": "true"},
        ),
        addon("eks-pod-identity-agent", needs_nodes=False),
        addon(
            "aws-ebs-csi-driver",
            needs_nodes=True,
            identities=[
                aws.eks.AddonPodIdentityAssociationArgs(
                    role_arn=ebs_role.arn, service_account=EBS_CSI_ACCOUNT
                )
            ],
        ),
        addon("metrics-server", needs_nodes=True),
    ]
    associations = [
        pod_identity(
            "cluster-autoscaler",
            cluster_name=cluster_name,
            namespace=KUBE_SYSTEM,
            service_account=AUTOSCALER_ACCOUNT,
            policy=cluster_name.apply(_autoscaler_policy),
            opts=opts,
        ),
        pod_identity(
            "lb-controller",
            cluster_name=cluster_name,
            namespace=KUBE_SYSTEM,
            service_account=LB_CONTROLLER_ACCOUNT,
            policy=cluster_name.apply(lb_controller_policy),
            opts=opts,
        ),
    ]
    return [*addons, *associations]


def cluster_addons(
    config: StackConfig,
    cluster_name: pulumi.Output[str],
    vpc_id: pulumi.Output[str],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """The default StorageClass and the two controllers, inside the cluster; the load
    balancer controller's release (what creates Services and Ingresses waits for it)."""
    k8s.storage.v1.StorageClass(
        STORAGE_CLASS,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=STORAGE_CLASS,
            annotations={"storageclass.kubernetes.io/is-default-class": "true"},
        ),
        provisioner="ebs.csi.aws.com",
        parameters={"type": "gp3", "encrypted": "true"},
        # Bind where the pod lands: an EBS volume lives in one zone.
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        reclaim_policy="Retain" if config.deletion_protection else "Delete",
        opts=opts,
    )
    chart_version, image_tag = autoscaler_release(config.eks_version)
    release(
        "cluster-autoscaler",
        (AUTOSCALER_REPO, chart_version),
        namespace=KUBE_SYSTEM,
        values={
            "image": {"tag": image_tag},
            "cloudProvider": "aws",
            "awsRegion": config.aws_region,
            "autoDiscovery": {"clusterName": cluster_name},
            "rbac": {"serviceAccount": {"name": AUTOSCALER_ACCOUNT}},
            "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste"},
        },
        opts=opts,
    )
    repo, chart, version = LB_CONTROLLER_CHART
    return release(
        chart,
        (repo, version),
        namespace=KUBE_SYSTEM,
        values=lb_controller_values(config, cluster_name, vpc_id),
        opts=opts,
    )


def lb_controller_values(
    config: StackConfig, cluster_name: pulumi.Input[str], vpc_id: pulumi.Input[str]
) -> dict[str, object]:
    """The AWS Load Balancer Controller chart's values (LB_CONTROLLER_CHART)."""
    return {
        "clusterName": cluster_name,
        # Given, not looked up: the nodes' metadata service answers no pod (IMDSv2,
        # hop limit 1), and the chart passes these as --aws-region/--aws-vpc-id.
        "region": config.aws_region,
        "vpcId": vpc_id,
        "serviceAccount": {"name": LB_CONTROLLER_ACCOUNT},
        # The role below grants no WAF or Shield rights; the controller must not ask.
        "enableShield": False,
        "enableWaf": False,
        "enableWafv2": False,
        # The chart's Service mutator (failurePolicy Fail, every new Service) would
        # refuse every Service created while the controller has no ready pod; ours
        # name their class themselves (loadBalancerClass service.k8s.aws/nlb).
        "enableServiceMutatorWebhook": False,
    }


def autoscaler_release(eks_version: str) -> tuple[str, str]:
    """The autoscaler chart version and image tag for an EKS minor."""
    if eks_version not in AUTOSCALER_RELEASES:
        raise ValueError(f"no cluster autoscaler pinned for EKS {eks_version}: add it to addons.py")
    return AUTOSCALER_RELEASES[eks_version]


def _autoscaler_policy(cluster_name: str) -> str:
    """Read the node groups; resize only this cluster's (tagged by EKS)."""
    return policy_document(
        {
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup",
            ],
            "Resource": "*",
        },
        {
            "Action": [
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"
                }
            },
        },
    )
