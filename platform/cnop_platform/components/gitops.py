"""cnop:gitops:GitOps: Argo CD syncs the rendered app manifests; PKO runs `pulumi up`.

Two paths, each owning its own objects:
- Argo CD (Helm release) and one Application per environment sync
  deploy/<stack>/: the namespaced app layer (workloads, Services, NetworkPolicies,
  ServiceMonitors, PrometheusRules, dashboard ConfigMaps).
- The Pulumi Kubernetes Operator's `Stack` runs this program for what needs the
  engine: the cluster, the tables and IAM, the Helm releases and the auth Secret.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from cnop_platform.config import StackConfig

ARGOCD_NAMESPACE = "argocd"
ARGOCD_CHART = ("https://argoproj.github.io/argo-helm", "8.1.3")


class GitOps(pulumi.ComponentResource):
    """Argo CD, its Application for this environment, and the PKO Stack."""

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cnop:gitops:GitOps", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            ARGOCD_NAMESPACE,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ARGOCD_NAMESPACE),
            opts=child,
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        repo, version = ARGOCD_CHART
        argocd = k8s.helm.v3.Release(
            "argo-cd",
            name="argo-cd",
            chart="argo-cd",
            version=version,
            namespace=ARGOCD_NAMESPACE,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
            values={"configs": {"params": {"server.insecure": False}}},
            opts=after,
        )
        k8s.apiextensions.CustomResource(
            f"cnop-{config.environment}",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"cnop-{config.environment}", namespace=ARGOCD_NAMESPACE
            ),
            spec={
                "project": "default",
                "source": {
                    "repoURL": config.git_repo,
                    "targetRevision": config.git_revision,
                    "path": f"deploy/{config.environment}/apps",
                },
                "destination": {
                    "server": "https://kubernetes.default.svc",
                    "namespace": config.namespace,
                },
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": ["CreateNamespace=false", "ServerSideApply=true"],
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[argocd]),
        )
        k8s.apiextensions.CustomResource(
            f"cnop-{config.environment}-infra",
            api_version="pulumi.com/v1",
            kind="Stack",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"cnop-{config.environment}-infra", namespace=ARGOCD_NAMESPACE
            ),
            spec={
                "stack": f"cnop/{config.environment}",
                "projectRepo": config.git_repo,
                "branch": config.git_revision,
                "refresh": True,
                "destroyOnFinalize": False,
                "envRefs": {
                    "PULUMI_ACCESS_TOKEN": {
                        "type": "Secret",
                        "secret": {"name": "pulumi-api-secret", "key": "accessToken"},
                    }
                },
            },
            opts=after,
        )
        self.register_outputs({})
