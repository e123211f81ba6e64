"""cnop:gitops:GitOps: Argo CD syncs the rendered app layer of this stack from git.

Two owners, never the same object:
- `pulumi up` (a person, or CI through `make deploy STACK=`) owns the cluster,
  its add-ons, the tables and identities, the Helm releases, the Secrets and
  the edge: everything that carries an account-specific value.
- Argo CD owns deploy/<stack>/apps: workloads, in-cluster Services,
  NetworkPolicies, ServiceMonitors, PrometheusRules and dashboard ConfigMaps.

The Application lives in a project of its own that may deploy only into this
stack's namespace (and the dashboards' monitoring namespace), from this
repository only, and never a cluster-scoped object. Images are named without a
registry in git; the Application's kustomize override pins each to this
stack's ECR repository and pushed digest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from cnop_catalogue import IMAGES
from cnop_platform.components.helm import release
from cnop_platform.components.monitoring_values import NAMESPACE as MONITORING
from cnop_platform.components.netpol import declare_policies, isolated_namespace
from cnop_platform.config import IMAGE_NAMESPACE, StackConfig

ARGOCD_NAMESPACE = "argocd"
ARGOCD_CHART = ("https://argoproj.github.io/argo-helm", "8.1.3")
IN_CLUSTER = "https://kubernetes.default.svc"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
# Pulumi counts the Application created once Argo CD reports the app layer healthy
# (pulumi-kubernetes >= 4.18.4 lets `pulumi.com/waitFor` replace its default
# await), so what fronts the app layer (the NLB Service, the web Ingress) is made
# only once the pods and Services behind it exist.
APPLICATION_AWAIT = {
    "pulumi.com/waitFor": "jsonpath={.status.health.status}=Healthy",
    "pulumi.com/timeoutSeconds": "1800",
}
# Every kind the app layer holds (tests/platform_program checks deploy/ against it).
APP_KINDS = (
    ("", "ConfigMap"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("apps", "Deployment"),
    ("batch", "Job"),
    ("policy", "PodDisruptionBudget"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("monitoring.coreos.com", "ServiceMonitor"),
    ("monitoring.coreos.com", "PrometheusRule"),
)


def image_overrides(config: StackConfig, repositories: Mapping[str, str]) -> list[str]:
    """Kustomize image overrides: `cnop/<image>` → this stack's repository, by digest."""
    overrides = []
    for image in IMAGES:
        digest = config.image_digests.get(image)
        pinned = f"@{digest}" if digest else f":{config.image_tag}"
        overrides.append(f"{IMAGE_NAMESPACE}/{image}={repositories[image]}{pinned}")
    return overrides


def repository_credentials(
    config: StackConfig, opts: pulumi.ResourceOptions
) -> list[k8s.core.v1.Secret]:
    """Where gitRepo is private (the secret cnop:gitToken is set): the repository Secret
    Argo CD clones it with (argo-cd docs, declarative setup: a Secret labelled
    `argocd.argoproj.io/secret-type: repository` with `url`, `username`, `password`)."""
    token = pulumi.Config("cnop").get_secret("gitToken")
    if token is None:
        return []
    return [
        k8s.core.v1.Secret(
            "argocd-repository",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="cnop-repository",
                namespace=ARGOCD_NAMESPACE,
                labels={"argocd.argoproj.io/secret-type": "repository"},
            ),
            string_data={
                "type": "git",
                "url": config.git_repo or "",
                "username": config.git_username,
                "password": token,
            },
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["stringData"])
            ),
        )
    ]


class GitOps(pulumi.ComponentResource):
    """Argo CD, this stack's project and its Application."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        repositories: Mapping[str, pulumi.Output[str]],
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cnop:gitops:GitOps", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            ARGOCD_NAMESPACE,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ARGOCD_NAMESPACE),
            opts=child,
        )
        # Argo CD's pods talk to each other only; nothing else reaches them (its UI
        # and API through `kubectl port-forward`, which no policy sees).
        declare_policies(
            isolated_namespace(ARGOCD_NAMESPACE),
            ARGOCD_NAMESPACE,
            pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        argocd = release(
            "argo-cd",
            ARGOCD_CHART,
            namespace=ARGOCD_NAMESPACE,
            values={"configs": {"params": {"server.insecure": False}}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        credentials = repository_credentials(
            config, pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        )
        project_name = f"cnop-{config.environment}"
        project = k8s.apiextensions.CustomResource(
            f"{project_name}-project",
            api_version="argoproj.io/v1alpha1",
            kind="AppProject",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=project_name, namespace=ARGOCD_NAMESPACE),
            spec={
                "description": f"The app layer of the {config.environment} stack",
                "sourceRepos": [config.git_repo],
                "destinations": [
                    {"server": IN_CLUSTER, "namespace": config.namespace},
                    {"server": IN_CLUSTER, "namespace": MONITORING},
                ],
                "clusterResourceWhitelist": [],
                "namespaceResourceWhitelist": [
                    {"group": group, "kind": kind} for group, kind in APP_KINDS
                ],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[argocd]),
        )
        images = pulumi.Output.all(**repositories).apply(
            lambda resolved: image_overrides(config, resolved)
        )
        self.application = k8s.apiextensions.CustomResource(
            project_name,
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=project_name,
                namespace=ARGOCD_NAMESPACE,
                # Deleting the Application deletes what it synced, before Argo CD
                # itself goes (argo-cd docs: app deletion, "resources-finalizer").
                finalizers=[RESOURCES_FINALIZER],
                annotations=APPLICATION_AWAIT,
            ),
            spec={
                "project": project_name,
                "source": {
                    "repoURL": config.git_repo,
                    "targetRevision": config.git_revision,
                    "path": f"deploy/{config.environment}/apps",
                    "kustomize": {"images": images},
                },
                "destination": {"server": IN_CLUSTER, "namespace": config.namespace},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": [
                        "CreateNamespace=false",
                        "ServerSideApply=true",
                        # ServiceMonitor and PrometheusRule come from a chart Pulumi
                        # installs first; a dry run must not fail if it lags.
                        "SkipDryRunOnMissingResource=true",
                    ],
                    "retry": {
                        "limit": 5,
                        "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"},
                    },
                },
            },
            # The CRDs (the monitoring charts), the project, the image repositories
            # and what the pods read or need (Secrets, ConfigMaps, Pod Identity) first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[project, *credentials, *after]),
        )
        self.register_outputs({})
