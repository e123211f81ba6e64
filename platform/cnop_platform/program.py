"""The platform program: every environment from the same code, differing only in StackConfig."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from cnop_platform.catalogue import COMPONENTS, Component
from cnop_platform.components.cluster import Cluster
from cnop_platform.components.data import STORE_USERS, Data, table_prefix
from cnop_platform.components.gitops import GitOps
from cnop_platform.components.loadgen import LoadGenerator
from cnop_platform.components.monitoring import OTLP_ENDPOINT, Monitoring
from cnop_platform.components.network import STORE, NetworkSecurity
from cnop_platform.components.secrets import KEYRING_FILE, SECRET_NAME, AuthKeys
from cnop_platform.components.service import Service, ServiceArgs
from cnop_platform.components.verification import PostDeployCheck
from cnop_platform.config import StackConfig

SETTINGS_ENVIRONMENT = {"local": "development", "staging": "staging", "prod": "production"}


def service_env(component: Component, config: StackConfig) -> dict[str, str]:
    """The container environment: stack config → settings of each service."""
    ns = config.namespace
    env = {
        "ENVIRONMENT": SETTINGS_ENVIRONMENT[config.environment],
        "HOST": "0.0.0.0",
        "PORT": str(component.port),
        "TRUSTED_NETWORKS": config.pod_cidr,
        "OTEL_EXPORTER_OTLP_ENDPOINT": OTLP_ENDPOINT,
    }
    by_name = {c.name: c for c in COMPONENTS}
    for peer in component.peers:
        env[f"{peer.upper()}_URL"] = f"http://{peer}.{ns}.svc.cluster.local:{by_name[peer].port}"
    if component.admin_port:
        env["ADMIN_PORT"] = str(component.admin_port)
    if component.name in STORE_USERS:
        env["TABLE_PREFIX"] = table_prefix(config)
        env["AWS_REGION"] = config.aws_region
        in_cluster = config.store == "in-cluster"
        env["CREATE_TABLES"] = str(in_cluster).lower()
        if in_cluster:
            env["DYNAMODB_ENDPOINT_URL"] = f"http://{STORE[0]}.{ns}.svc.cluster.local:{STORE[1]}"
    if component.name == "auth":
        env["SIGNING_KEYS_FILE"] = f"/var/run/secrets/cnop/{KEYRING_FILE}"
        env["ACTIVE_KID"] = config.auth_active_kid
    if component.name == "web" and config.environment != "local":
        env["COOKIE_SECURE"] = "true"
    if component.public:
        # The web UI's pods forward the browser's address; NetworkPolicy lets
        # only them (and, on exposed stacks, the load balancer) reach us.
        env["TRUSTED_PROXIES"] = config.pod_cidr
        origins = [f"https://{config.domain}"]
        if config.environment == "local":
            origins += ["http://localhost:3000", "http://127.0.0.1:3000"]
        env["CORS_ORIGINS"] = ",".join(origins)
    return env


def build(config: StackConfig, apps: bool) -> None:
    """Declare the platform. `apps`: also declare the app layer (else Argo CD applies it)."""
    cluster = Cluster("cnop", config)
    opts = pulumi.ResourceOptions(providers={"kubernetes": cluster.provider})
    namespace = k8s.core.v1.Namespace(
        config.namespace,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=config.namespace,
            labels={
                "pod-security.kubernetes.io/enforce": "restricted",
                "app.kubernetes.io/part-of": "cnop",
            },
        ),
        opts=opts,
    )
    in_namespace = pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(depends_on=[namespace])
    )
    data = Data("cnop", config, cluster.oidc, apps, opts=in_namespace)
    AuthKeys("cnop", config, opts=in_namespace)
    Monitoring("cnop", config, apps, opts=opts)
    if apps:
        NetworkSecurity("cnop", config, opts=in_namespace)
        services = []
        for component in COMPONENTS:
            role = data.role_arns.get(component.name)
            service = Service(
                component.name,
                ServiceArgs(
                    component=component,
                    config=config,
                    env=service_env(component, config),
                    secret_volume=SECRET_NAME if component.name == "auth" else None,
                    service_account_annotations={"eks.amazonaws.com/role-arn": role}
                    if role is not None
                    else {},
                ),
                opts=in_namespace,
            )
            services.append(service)
        # Argo CD runs the check after each sync (a PostSync hook); `pulumi up`
        # creates it only once every Deployment is ready, to the same effect.
        PostDeployCheck(
            "cnop",
            config,
            opts=pulumi.ResourceOptions.merge(
                in_namespace, pulumi.ResourceOptions(depends_on=services)
            ),
        )
        LoadGenerator("cnop", config, opts=in_namespace)
    if config.apps_via == "argocd":
        GitOps("cnop", config, opts=opts)
