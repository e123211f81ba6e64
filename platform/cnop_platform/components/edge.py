"""cnop:edge:Edge: how clients reach the platform, and what only this stack knows of it.

- The gateway's public endpoint: a Service of the AWS Load Balancer Controller's
  NLB class, TLS on 443 with the stack's ACM certificate, forwarding to the
  gateway's API port only (never its admin port), targets by pod IP with the
  client's address preserved, so the gateway sees who really called.
- The web UI through an ALB Ingress with TLS, where the stack asks for it,
  and CloudFront in front of that ALB where it asks for a CDN (cdn.py).
- A ConfigMap of the values only this stack knows (the browser origins), read
  by the gateway: the app layer in deploy/ stays free of them (`edge_settings`,
  declared before the app layer, whose gateway pods read it).

These are Pulumi's: they carry the account's certificate and domain. The load
balancers' objects wait for the app layer (`after`): the NLB Service's endpoints
are the gateway pods, and the Ingress's backend is the web Service, both of
which Argo CD creates; the load balancer controller builds no ALB for an
Ingress whose backend Service does not exist yet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from cnop_catalogue import BY_NAME, local_web_origins
from cnop_platform.components.cdn import WebCdn, origin_facing_prefix_list
from cnop_platform.components.dns import alias_to_load_balancer, aliases_to_cdn, load_balancer_name
from cnop_platform.components.pod import labels
from cnop_platform.config import StackConfig

EDGE_CONFIG = "cnop-edge"
PUBLIC_GATEWAY = "gateway-public"
NLB = "service.beta.kubernetes.io/aws-load-balancer"
# TLS 1.2 and 1.3 only, on both front doors: the controller's NLB default
# (ELBSecurityPolicy-2016-08, v2.13 docs/guide/service/annotations.md) still takes 1.0.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def cors_origins(config: StackConfig) -> str:
    """The browser origins the gateway answers cross-origin requests for."""
    origins = [f"https://{config.domain}"]
    if config.environment == "local":
        origins += local_web_origins()
    return ",".join(origins)


def nlb_annotations(config: StackConfig) -> dict[str, str]:
    """An internet-facing NLB with TLS, IP targets, and the client's address kept."""
    return {
        f"{NLB}-name": load_balancer_name(config, "api"),
        f"{NLB}-type": "external",
        f"{NLB}-scheme": "internet-facing",
        f"{NLB}-nlb-target-type": "ip",
        f"{NLB}-ssl-cert": config.tls_certificate_arn or "",
        f"{NLB}-ssl-ports": "https",
        f"{NLB}-ssl-negotiation-policy": TLS_POLICY,
        f"{NLB}-target-group-attributes": "preserve_client_ip.enabled=true",
    }


def alb_hostname(status: k8s.networking.v1.outputs.IngressStatus | None) -> str:
    """The ALB the load balancer controller made for the Ingress (Pulumi waits for it)."""
    ingress = status.load_balancer.ingress if status and status.load_balancer else None
    if not ingress or not ingress[0].hostname:
        raise ValueError("the web Ingress has no load balancer hostname in its status yet")
    return ingress[0].hostname


def edge_settings(config: StackConfig, opts: pulumi.ResourceOptions) -> k8s.core.v1.ConfigMap:
    """The ConfigMap of what only this stack knows, which the gateway pods read."""
    return k8s.core.v1.ConfigMap(
        EDGE_CONFIG,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=EDGE_CONFIG,
            namespace=config.namespace,
            labels={"app.kubernetes.io/part-of": "cnop"},
        ),
        data={"CORS_ORIGINS": cors_origins(config)},
        opts=opts,
    )


class Edge(pulumi.ComponentResource):
    """The stack's public endpoints, once the app layer they front is up (`after`)."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        after: Sequence[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cnop:edge:Edge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(after))
        self.cdn: WebCdn | None = None
        self.gateway: k8s.core.v1.Service | None = None
        self.web: k8s.networking.v1.Ingress | None = None
        if config.expose == "loadbalancer":
            gateway = BY_NAME["gateway"]
            self.gateway = k8s.core.v1.Service(
                PUBLIC_GATEWAY,
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=PUBLIC_GATEWAY,
                    namespace=config.namespace,
                    labels=labels("gateway"),
                    annotations=nlb_annotations(config),
                ),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type="LoadBalancer",
                    load_balancer_class="service.k8s.aws/nlb",
                    selector=labels("gateway"),
                    ports=[
                        k8s.core.v1.ServicePortArgs(
                            name="https", port=443, target_port=gateway.port, protocol="TCP"
                        )
                    ],
                ),
                opts=child,
            )
        if config.web_ingress:
            self.web = self._web_ingress(config, child)
            if config.web_cdn:
                # Pulumi waits for the Ingress to have its ALB, so its hostname is known.
                alb = self.web.status.apply(alb_hostname)
                self.cdn = WebCdn(
                    name,
                    config,
                    alb,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.web]),
                )
        if config.hosted_zone_id:
            self._names(config)
        self.register_outputs({})

    def _names(self, config: StackConfig) -> None:
        """Point the stack's public names at what was just made (dns.py)."""
        child = pulumi.ResourceOptions(parent=self)
        if self.gateway is not None and config.api_domain:
            alias_to_load_balancer(
                config, domain=config.api_domain, door="api", made=self.gateway.status, opts=child
            )
        if self.cdn is not None:
            aliases_to_cdn(config, self.cdn.distribution, child)
        elif self.web is not None:
            alias_to_load_balancer(
                config, domain=config.domain, door="web", made=self.web.status, opts=child
            )

    @staticmethod
    def _web_ingress(
        config: StackConfig, child: pulumi.ResourceOptions
    ) -> k8s.networking.v1.Ingress:
        web = BY_NAME["web"]
        annotations: dict[str, pulumi.Input[str]] = {
            "alb.ingress.kubernetes.io/load-balancer-name": load_balancer_name(config, "web"),
            "alb.ingress.kubernetes.io/scheme": "internet-facing",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/certificate-arn": config.tls_certificate_arn or "",
            "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTPS": 443}]),
            "alb.ingress.kubernetes.io/ssl-policy": TLS_POLICY,
            "alb.ingress.kubernetes.io/healthcheck-path": "/health",
        }
        if config.web_cdn:
            # Only CloudFront may reach the ALB (in place of the default 0.0.0.0/0):
            # nobody can go around the CDN and name their own viewer address.
            annotations["alb.ingress.kubernetes.io/security-group-prefix-lists"] = (
                origin_facing_prefix_list()
            )
        return k8s.networking.v1.Ingress(
            "web",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="web",
                namespace=config.namespace,
                labels=labels("web"),
                annotations=annotations,
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name="alb",
                tls=[k8s.networking.v1.IngressTLSArgs(hosts=[config.domain])],
                rules=[
                    k8s.networking.v1.IngressRuleArgs(
                        host=config.domain,
                        http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                            paths=[
                                k8s.networking.v1.HTTPIngressPathArgs(
                                    path="/",
                                    path_type="Prefix",
                                    backend=k8s.networking.v1.IngressBackendArgs(
                                        service=k8s.networking.v1.IngressServiceBackendArgs(
                                            name="web",
                                            port=k8s.networking.v1.ServiceBackendPortArgs(
                                                number=web.port
                                            ),
                                        )
                                    ),
                                )
                            ]
                        ),
                    )
                ],
            ),
            opts=child,
        )
