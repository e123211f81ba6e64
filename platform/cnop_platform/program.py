"""The platform program: every environment from the same code, differing only in StackConfig."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from cnop_catalogue import (
    BY_NAME,
    COMPONENTS,
    SIGNERS,
    STORE_USERS,
    VERIFIERS,
    Component,
)
from cnop_platform.components.cdn import VIEWER_ADDRESS_HEADER
from cnop_platform.components.cluster import Cluster
from cnop_platform.components.data import Data, table_prefix
from cnop_platform.components.edge import EDGE_CONFIG, Edge, edge_settings
from cnop_platform.components.gitops import GitOps
from cnop_platform.components.limits_store import URL_KEY, URL_SECRET, LimitsStore
from cnop_platform.components.loadgen import LoadGenerator
from cnop_platform.components.monitoring import OTLP_ENDPOINT, Monitoring
from cnop_platform.components.network import STORE, NetworkSecurity
from cnop_platform.components.registry import Registry
from cnop_platform.components.secrets import KEYRING_FILE, SECRET_NAME, AuthKeys
from cnop_platform.components.service import Service, ServiceArgs
from cnop_platform.components.verification import PostDeployCheck
from cnop_platform.components.vpc import pod_networks, public_networks
from cnop_platform.config import StackConfig
from cnop_platform.environment import Site, service_environment
from cnop_platform.identity_keys import (
    KEY_FILE,
    KEY_MOUNT,
    PUBLIC_FILE,
    PUBLIC_MOUNT,
    IdentityKeys,
    key_secret,
)

SETTINGS_ENVIRONMENT = {"local": "development", "staging": "staging", "prod": "production"}
# Where the auth pods find their keyring: the mounted Secret.
KEYRING_MOUNT = "/var/run/secrets/cnop"
KEYRING_CHECKSUM = "cnop.io/keyring-checksum"


def site(config: StackConfig) -> Site:
    """The cluster as the services see it: cluster DNS, pod networks, the stack's store."""
    ns = config.namespace
    networks = ",".join(pod_networks(config))
    store = {
        "TABLE_PREFIX": table_prefix(config),
        "AWS_REGION": config.aws_region,
        "CREATE_TABLES": str(config.store == "in-cluster").lower(),
    }
    if config.store == "in-cluster":
        store["DYNAMODB_ENDPOINT_URL"] = f"http://{STORE[0]}.{ns}.svc.cluster.local:{STORE[1]}"
    return Site(
        environment=SETTINGS_ENVIRONMENT[config.environment],
        host="0.0.0.0",  # a pod's own network namespace
        port_offset=0,
        peer_url=lambda peer: f"http://{peer}.{ns}.svc.cluster.local:{BY_NAME[peer].port}",
        trusted_networks=networks,
        # The web UI's pods; the NLB keeps the client's own address and is not a proxy.
        trusted_proxies=networks,
        store=store,
        auth_keyring_file=f"{KEYRING_MOUNT}/{KEYRING_FILE}",
        auth_active_kid=config.auth_active_kid,
        otlp_endpoint=OTLP_ENDPOINT,
        cors_origins=None,  # from the edge ConfigMap: the domain is not the app layer's
        cookie_secure=config.environment != "local",
        identity_key_files=dict.fromkeys(SIGNERS, f"{KEY_MOUNT}/{KEY_FILE}"),
        identity_public_keys_file=f"{PUBLIC_MOUNT}/{PUBLIC_FILE}",
        # Behind the ALB Ingress, the web UI takes the browser's address from it.
        web_trusted_proxies=",".join(public_networks(config)) if config.web_ingress else None,
        # Behind CloudFront, the browser is the viewer CloudFront names.
        web_viewer_address_header=VIEWER_ADDRESS_HEADER if config.web_cdn else None,
    )


def service_env(component: Component, config: StackConfig) -> dict[str, str]:
    """The container environment of a component in this stack."""
    return service_environment(component, site(config), component.name in STORE_USERS)


def build(config: StackConfig, apps: bool) -> None:
    """Declare the platform. `apps`: also declare the app layer (else Argo CD applies it)."""
    cluster = Cluster("cnop", config)
    registry = Registry(config) if config.create_cluster else None
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
    # What the pods read or need to start, made before any of them (the app layer).
    prerequisites: list[pulumi.Resource] = [
        Data("cnop", config, cluster.cluster_name, apps, opts=in_namespace),
        keys := AuthKeys("cnop", config, opts=in_namespace),
        LimitsStore("cnop", config, cluster.network, apps, opts=in_namespace),
        IdentityKeys("cnop", config, opts=in_namespace),
        edge_settings(config, in_namespace),
    ]
    monitoring = Monitoring("cnop", config, apps, cluster.cluster_name, opts=opts)
    app_layer: list[pulumi.Resource] = []
    if apps:
        app_layer = declare_apps(
            config,
            keys,
            pulumi.ResourceOptions.merge(
                in_namespace, pulumi.ResourceOptions(depends_on=prerequisites)
            ),
        )
    if registry is not None:
        # `make images` pushes here, `make deploy` reaches the cluster by these (deploy.py).
        pulumi.export("repositories", registry.urls)
        pulumi.export("clusterName", cluster.cluster_name)
        pulumi.export("region", config.aws_region)
    if config.apps_via == "argocd":
        gitops = GitOps(
            "cnop",
            config,
            registry.urls if registry else {},
            after=[monitoring, *([registry] if registry else []), *prerequisites],
            opts=opts,
        )
        app_layer = [gitops.application]
    edge = Edge("cnop", config, after=app_layer, opts=in_namespace)
    if edge.cdn is not None:
        # Point cnop:domain's DNS record (an alias) here.
        pulumi.export("webCdnDomain", edge.cdn.distribution.domain_name)


def limits_store_env(component: Component) -> dict[str, tuple[str, str]]:
    """Where a component finds the limits store's URL (the Secret LimitsStore makes):
    the gateway for its limits, a receiver of signed calls for its shared nonces."""
    found = {}
    if component.public:
        found["LIMITS_STORE_URL"] = (URL_SECRET, URL_KEY)
    if component.name in VERIFIERS:
        found["NONCE_STORE_URL"] = (URL_SECRET, URL_KEY)
    return found


def declare_apps(
    config: StackConfig, keys: AuthKeys, opts: pulumi.ResourceOptions
) -> list[pulumi.Resource]:
    """The app layer as Pulumi resources (the local stack, and every render)."""
    NetworkSecurity("cnop", config, opts=opts)
    services: list[pulumi.Resource] = []
    for component in COMPONENTS:
        service = Service(
            component.name,
            ServiceArgs(
                component=component,
                config=config,
                env=service_env(component, config),
                secret_volume=SECRET_NAME if component.name == "auth" else None,
                identity_key=key_secret(component.name) if component.name in SIGNERS else None,
                identity_public_keys=component.name in VERIFIERS,
                env_from_config={"CORS_ORIGINS": (EDGE_CONFIG, "CORS_ORIGINS")}
                if component.public
                else {},
                env_from_secret=limits_store_env(component),
                # Where Pulumi applies the app layer, a new keyring rolls auth.
                pod_annotations={KEYRING_CHECKSUM: keys.checksum}
                if component.name == "auth" and config.apps_via == "pulumi"
                else {},
            ),
            opts=opts,
        )
        services.append(service)
    # Argo CD runs the check after each sync (a PostSync hook); `pulumi up`
    # creates it only once every Deployment is ready, to the same effect.
    PostDeployCheck(
        "cnop",
        config,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=services)),
    )
    LoadGenerator("cnop", config, opts=opts)
    return services
