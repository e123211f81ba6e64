"""The stack's public names as Route 53 alias records, made in the same `pulumi up`
as the load balancers they point at (cnop:hostedZoneId is the zone they live in):

- cnop:apiDomain → the gateway's NLB (the API's front door);
- cnop:domain → CloudFront where the stack has a CDN, else the web UI's ALB.

The AWS Load Balancer Controller names a load balancer as its object's annotation
says (`service.beta.kubernetes.io/aws-load-balancer-name`,
`alb.ingress.kubernetes.io/load-balancer-name`; kubernetes-sigs/
aws-load-balancer-controller v2.13 docs, guide/service/annotations.md and
guide/ingress/annotations.md: at most 32 letters, digits and hyphens), so once the
Service or Ingress exists the program looks the load balancer up by that name for
what an alias needs: its DNS name and its canonical hosted zone.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws

from cnop_platform.config import StackConfig

# CloudFront's alias target zone, the same for every distribution (Route 53 docs:
# "Values for alias records", CloudFront distribution).
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
LB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")


def load_balancer_name(config: StackConfig, door: str) -> str:
    """The name the controller gives a front door's load balancer ("api" or "web")."""
    name = f"cnop-{config.environment}-{door}"
    if not LB_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid load balancer name")
    return name


def alias_to_load_balancer(
    config: StackConfig,
    *,
    domain: str,
    door: str,
    made: pulumi.Output[object],
    opts: pulumi.ResourceOptions,
) -> aws.route53.Record:
    """`domain` as an alias of the load balancer the controller made for `made`."""
    found = aws.lb.get_load_balancer_output(
        # Looked up only once the object behind it exists (its status is known).
        name=made.apply(lambda _: load_balancer_name(config, door))
    )
    return _alias(config, door, domain, target=found.dns_name, zone=found.zone_id, opts=opts)


def aliases_to_cdn(
    config: StackConfig, distribution: aws.cloudfront.Distribution, opts: pulumi.ResourceOptions
) -> list[aws.route53.Record]:
    """cnop:domain as aliases (IPv4 and IPv6) of the web UI's distribution."""
    return [
        _alias(
            config,
            f"web-{kind.lower()}",
            config.domain,
            target=distribution.domain_name,
            zone=distribution.hosted_zone_id,
            kind=kind,
            opts=opts,
        )
        for kind in ("A", "AAAA")
    ]


def _alias(
    config: StackConfig,
    record: str,
    domain: str,
    *,
    target: pulumi.Input[str],
    zone: pulumi.Input[str],
    kind: str = "A",
    opts: pulumi.ResourceOptions,
) -> aws.route53.Record:
    assert config.hosted_zone_id is not None  # StackConfig requires it where names are public
    return aws.route53.Record(
        record,
        zone_id=config.hosted_zone_id,
        name=domain,
        type=kind,
        aliases=[
            aws.route53.RecordAliasArgs(name=target, zone_id=zone, evaluate_target_health=True)
        ],
        # A name someone pointed by hand before is taken over, not refused.
        allow_overwrite=True,
        opts=opts,
    )
