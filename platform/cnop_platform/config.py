"""Stack configuration: Pulumi.<stack>.yaml → this module → components → container env.

The program reads its settings only through `StackConfig.from_pulumi()`; the
renderer feeds the same stack file into Pulumi's config when it runs the
program under mocks, so both paths see identical values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, get_origin

import pulumi
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

STACKS = Path(__file__).resolve().parents[1] / "stacks"
NAMESPACE = "cnop"
# The image names of the app layer that Argo CD rewrites to a registry and digest.
IMAGE_NAMESPACE = "cnop"


def _acm_region(arn: str) -> str:
    """The region of an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."""
    match = re.fullmatch(r"arn:aws[\w-]*:acm:([a-z0-9-]+):\d{12}:certificate/[\w-]+", arn)
    if match is None:
        raise ValueError(f"tlsCertificateArn is not an ACM certificate ARN: {arn!r}")
    return match.group(1)


class StackConfig(BaseModel):
    """Everything that differs between environments."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    environment: Literal["local", "staging", "prod"]
    namespace: str = NAMESPACE
    # Where the app images live when `pulumi up` applies the app layer; AWS stacks
    # push to their own ECR repositories instead (see `image`).
    image_registry: str | None = Field(default=None, alias="imageRegistry")
    image_tag: str = Field(alias="imageTag")
    kube_context: str | None = Field(default=None, alias="kubeContext")
    create_cluster: bool = Field(alias="createCluster")
    store: Literal["in-cluster", "dynamodb"]
    replicas: int = Field(ge=1)
    max_replicas: int | None = Field(default=None, alias="maxReplicas")
    pod_cidr: str = Field(alias="podCidr")
    # A NAT gateway in each zone (prod) rather than one for the VPC (staging).
    nat_gateway_per_zone: bool = Field(default=False, alias="natGatewayPerZone")
    # port-forward: nothing public; loadbalancer: the gateway behind an NLB with TLS.
    expose: Literal["port-forward", "loadbalancer"]
    # The web UI's public name (its Ingress, its CDN) and the API's own (the NLB):
    # two front doors, two names; both records live in the Route 53 zone below.
    domain: str
    api_domain: str | None = Field(default=None, alias="apiDomain")
    hosted_zone_id: str | None = Field(default=None, alias="hostedZoneId", pattern=r"^Z[A-Z0-9]+$")
    retention_days: int = Field(alias="retentionDays", ge=1)
    deletion_protection: bool = Field(default=False, alias="deletionProtection")
    git_repo: str | None = Field(default=None, alias="gitRepo")
    # For a private gitRepo: the user Argo CD clones as, with the secret cnop:gitToken.
    git_username: str = Field(default="git", alias="gitUsername")
    git_revision: str = Field(alias="gitRevision")
    aws_region: str = Field(default="us-east-1", alias="awsRegion")
    auth_active_kid: str = Field(alias="authActiveKid")
    # The capacity gate: the steady rate load runs aim at, the least throughput
    # that passes, and how many Locust workers the cluster's load test runs.
    load_steady_rps: float = Field(default=10.0, alias="loadSteadyRps", gt=0)
    load_min_rps: float = Field(default=8.0, alias="loadMinRps", gt=0)
    load_workers: int = Field(default=0, alias="loadWorkers", ge=0)
    # The in-cluster Locust master and workers run only when this is switched on.
    load_generator: bool = Field(default=False, alias="loadGenerator")
    # Who applies the app layer: `pulumi up` itself, or Argo CD from deploy/<stack>/.
    apps_via: Literal["pulumi", "argocd"] = Field(alias="appsVia")
    # Image digests by image name (`make images STACK=` records them): Argo CD runs
    # exactly what was pushed, never whatever a tag points at later.
    image_digests: dict[str, str] = Field(default_factory=dict, alias="imageDigests")
    # EKS: the pinned Kubernetes minor, who may reach the API endpoint, and the
    # IAM principals that administer the cluster (access entries).
    eks_version: str = Field(default="1.33", alias="eksVersion", pattern=r"^1\.\d+$")
    api_access_cidrs: list[str] = Field(default_factory=list, alias="apiAccessCidrs")
    cluster_admins: list[str] = Field(default_factory=list, alias="clusterAdmins")
    node_instance_type: str = Field(default="t3.large", alias="nodeInstanceType")
    # The ACM certificate of the public endpoints (the gateway's NLB, the web Ingress).
    tls_certificate_arn: str | None = Field(default=None, alias="tlsCertificateArn")
    web_ingress: bool = Field(default=False, alias="webIngress")
    # CloudFront in front of the web UI (components/cdn.py); its certificate must
    # live in us-east-1, where CloudFront reads certificates from.
    web_cdn: bool = Field(default=False, alias="webCdn")
    cdn_certificate_arn: str | None = Field(
        default=None,
        alias="cdnCertificateArn",
        pattern=r"^arn:aws:acm:us-east-1:\d{12}:certificate/",
    )
    # Where alerts link their runbooks (absolute, ending in /); unset: the runbooks
    # in gitRepo at gitRevision (a GitHub-style /blob/ URL).
    runbook_base_url: str | None = Field(
        default=None, alias="runbookBaseUrl", pattern=r"^(https://|file:///).+/$"
    )
    # Where Alertmanager sends: the URL itself is the secret `cnop:alertReceiverUrl`.
    alert_receiver: Literal["none", "webhook", "slack", "pagerduty"] = Field(
        default="none", alias="alertReceiver"
    )

    @model_validator(mode="after")
    def _cloud_needs(self) -> StackConfig:
        """A cluster we create is reachable only from named networks and exposed over TLS."""
        if self.apps_via == "pulumi" and not self.image_registry:
            raise ValueError("appsVia=pulumi needs imageRegistry")
        if self.apps_via == "argocd" and not self.git_repo:
            raise ValueError("appsVia=argocd needs gitRepo (what Argo CD clones)")
        if self.create_cluster and not self.api_access_cidrs:
            raise ValueError("createCluster needs apiAccessCidrs (who may reach the EKS API)")
        if self.create_cluster and not self.cluster_admins:
            # The cluster grants its creator nothing: whoever runs `pulumi up` is listed here.
            raise ValueError("createCluster needs clusterAdmins (IAM principals, CI's included)")
        if self.deletion_protection and self.alert_receiver == "none":
            # The stack whose data is protected is production: it pages someone.
            raise ValueError(
                "a protected stack (deletionProtection, prod) needs an alertReceiver:"
                " a prod that pages nobody is a configuration error"
            )
        bad = {k: v for k, v in self.image_digests.items() if not v.startswith("sha256:")}
        if bad:
            raise ValueError(f"imageDigests must be sha256:<hex> digests, not {bad}")
        return self

    @model_validator(mode="after")
    def _front_doors(self) -> StackConfig:
        """Each public front door has its own name, certificate and DNS zone."""
        if self.expose != "port-forward" and not self.tls_certificate_arn:
            raise ValueError(f"expose={self.expose} needs tlsCertificateArn (ACM certificate)")
        if self.expose == "loadbalancer" and not self.api_domain:
            raise ValueError("expose=loadbalancer needs apiDomain (the API's own public name)")
        if self.api_domain is not None and self.api_domain == self.domain:
            raise ValueError("apiDomain must differ from domain: each names one front door")
        if self.create_cluster and self.expose == "loadbalancer" and not self.hosted_zone_id:
            raise ValueError("a public cloud stack needs hostedZoneId (where its names live)")
        if self.web_ingress and self.expose == "port-forward":
            raise ValueError("webIngress needs a stack that exposes its gateway")
        if self.web_cdn and not self.web_ingress:
            raise ValueError("webCdn needs webIngress (the CDN's origin is the web UI's ALB)")
        if self.web_cdn and not self.cdn_certificate_arn:
            raise ValueError("webCdn needs cdnCertificateArn (an ACM certificate in us-east-1)")
        if self.tls_certificate_arn:
            # An NLB's or ALB's listener takes a certificate of its own region only: a
            # certificate requested elsewhere fails the first `pulumi up` at the listener.
            region = _acm_region(self.tls_certificate_arn)
            if region != self.aws_region:
                raise ValueError(
                    f"tlsCertificateArn is an ACM certificate in {region}, but the stack"
                    f" deploys to {self.aws_region} (aws:region in Pulumi.<stack>.yaml):"
                    f" request it in {self.aws_region}"
                )
        return self

    @property
    def autoscaled(self) -> bool:
        """HPAs and PDBs exist where more than one replica runs."""
        return self.max_replicas is not None and self.replicas >= 2

    def image(self, component: str) -> str:
        """The image a manifest names: one name everywhere.

        Where Argo CD applies the app layer, manifests name the image only
        (`cnop/<component>`); the Application's kustomize override points it at
        the stack's own registry and digest, so deploy/ holds nothing
        account-specific.
        """
        if self.apps_via == "argocd":
            return f"{IMAGE_NAMESPACE}/{component}"
        return f"{self.image_registry}/{component}:{self.image_tag}"

    @classmethod
    def from_pulumi(cls) -> StackConfig:
        """Read the running stack's configuration (plain values; secrets are read apart)."""
        config = pulumi.Config("cnop")
        flat = {
            f"cnop:{key}": value
            for key in (info.alias or name for name, info in cls.model_fields.items())
            if (value := config.get(key)) is not None
        }
        region = pulumi.Config("aws").get("region")
        return cls.from_flat({**flat, **({"aws:region": region} if region else {})})

    @classmethod
    def from_flat(cls, flat: dict[str, str]) -> StackConfig:
        """From `project:key` → string pairs, as Pulumi passes config (other keys ignored)."""
        raw: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            key = info.alias or name
            value = flat.get(f"cnop:{key}")
            if value is not None:
                raw[key] = _typed(value, info.annotation)
        raw.setdefault("awsRegion", flat.get("aws:region") or "us-east-1")
        return cls.model_validate(raw)


def _typed(value: str, annotation: Any) -> Any:
    # Pulumi hands every config value over as a string; structured values as JSON.
    # A text field stays text, so a tag such as `20261130` is not read as a number.
    if annotation in (str, str | None) or get_origin(annotation) is Literal:
        return value
    return yaml.safe_load(value)


def stack_file_config(stack: str) -> dict[str, str]:
    """A stack file's config as Pulumi would pass it (`project:key` → string value)."""
    raw = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]
    flat: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and "secure" in value:
            continue  # secrets never come from the file in tests; see the renderer
        if isinstance(value, (dict, list)):
            flat[key] = json.dumps(value)
        else:
            flat[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return flat
