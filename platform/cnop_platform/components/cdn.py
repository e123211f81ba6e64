"""cnop:cdn:WebCdn: CloudFront in front of the web UI, caching its static files at the edge.

Where a stack asks for it (`cnop:webCdn`), browsers reach the web UI through
CloudFront, whose origin is the web UI's ALB:

- `/static/*` is cached at the edge (the managed CachingOptimized policy, which
  honours the files' year-long `immutable` Cache-Control and compresses with
  gzip or brotli);
- everything else (pages, `/api`, `/session`) passes through uncached and
  uncompressed (the managed CachingDisabled policy; compressing API answers
  would reopen the BREACH side channel the web UI closes).

Every viewer header, Host included, goes on to the ALB: the ALB routes by
Host, and CloudFront checks the ALB's certificate against it (the certificate
names cnop:domain, not the ALB's own hostname). CloudFront also adds
`CloudFront-Viewer-Address`, from which the web UI takes the browser's address;
the ALB's security group admits CloudFront's origin-facing addresses only, so
no one can reach the ALB around the CDN and claim an address.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from cnop_platform.config import StackConfig

# AWS-managed policies, by their fixed IDs (CloudFront developer guide).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_AND_CLOUDFRONT_HEADERS = "33f36d7e-f396-46d9-90e0-52428a34d9dc"
ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
VIEWER_ADDRESS_HEADER = "cloudfront-viewer-address"
ORIGIN_ID = "web-alb"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
READ_METHODS = ["GET", "HEAD"]


def origin_facing_prefix_list() -> pulumi.Output[str]:
    """The managed prefix list of CloudFront's addresses towards origins."""
    return aws.ec2.get_managed_prefix_list_output(name=ORIGIN_FACING).id


class WebCdn(pulumi.ComponentResource):
    """A CloudFront distribution for cnop:domain with the web UI's ALB as its origin."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        alb_hostname: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cnop:cdn:WebCdn", name, None, opts)
        self.distribution = aws.cloudfront.Distribution(
            f"{name}-web",
            comment=f"cnop {config.environment}: web UI, static files cached",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class="PriceClass_100",
            aliases=[config.domain],
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=ORIGIN_ID,
                    domain_name=alb_hostname,
                    custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                        http_port=80,
                        https_port=443,
                        origin_protocol_policy="https-only",
                        origin_ssl_protocols=["TLSv1.2"],
                    ),
                )
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=ALL_METHODS,
                cached_methods=READ_METHODS,
                cache_policy_id=CACHING_DISABLED,
                origin_request_policy_id=ALL_VIEWER_AND_CLOUDFRONT_HEADERS,
                compress=False,
            ),
            ordered_cache_behaviors=[
                aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                    path_pattern="/static/*",
                    target_origin_id=ORIGIN_ID,
                    viewer_protocol_policy="redirect-to-https",
                    allowed_methods=READ_METHODS,
                    cached_methods=READ_METHODS,
                    cache_policy_id=CACHING_OPTIMIZED,
                    origin_request_policy_id=ALL_VIEWER_AND_CLOUDFRONT_HEADERS,
                    compress=True,
                )
            ],
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none"
                )
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=config.cdn_certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"domain_name": self.distribution.domain_name})
