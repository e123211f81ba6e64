"""CloudFront in front of the web UI (cnop:webCdn), read off the program under mocks.

What a real distribution relies on, each a test: the ALB's own certificate
names cnop:domain, so the Host header must reach it; CloudFront reads viewer
certificates from us-east-1 only; the ALB must admit CloudFront alone, or the
viewer address the web UI believes could be claimed by anyone.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cnop_platform.components import cdn
from cnop_platform.components.vpc import public_networks
from cnop_platform.config import StackConfig
from cnop_platform.render import RENDER_STAND_INS, render_config

from .test_cluster import _aws_config, of_type, one

pytestmark = pytest.mark.unit
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


@pytest.fixture(scope="module")
def prod(declared):
    return declared["prod"]


def web_env(objects, stack: str) -> dict[str, str]:
    """The web UI container's environment in a stack's app layer."""
    [web] = [
        o for o in objects[stack] if o["kind"] == "Deployment" and o["metadata"]["name"] == "web"
    ]
    return {
        e["name"]: e.get("value") for e in web["spec"]["template"]["spec"]["containers"][0]["env"]
    }


def test_prod_serves_the_web_ui_through_cloudfront_for_its_domain(prod):
    distribution = one(prod, DISTRIBUTION)
    assert distribution["aliases"] == [RENDER_STAND_INS["cnop:domain"]]
    certificate = distribution["viewerCertificate"]
    assert certificate["acmCertificateArn"] == RENDER_STAND_INS["cnop:cdnCertificateArn"]
    assert certificate["sslSupportMethod"] == "sni-only"
    assert certificate["minimumProtocolVersion"].startswith("TLSv1.2")


def test_the_origin_is_the_web_ingress_alb_over_https(prod):
    [origin] = one(prod, DISTRIBUTION)["origins"]
    # The hostname the load balancer controller wrote into the Ingress's status.
    assert origin["domainName"].endswith(".elb.amazonaws.com")
    assert origin["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    assert origin["customOriginConfig"]["originSslProtocols"] == ["TLSv1.2"]


def test_static_files_are_cached_and_compressed_at_the_edge(prod):
    [static] = one(prod, DISTRIBUTION)["orderedCacheBehaviors"]
    assert static["pathPattern"] == "/static/*"
    assert static["cachePolicyId"] == cdn.CACHING_OPTIMIZED
    assert static["compress"] is True
    assert static["allowedMethods"] == ["GET", "HEAD"]


def test_pages_and_api_pass_through_uncached_and_uncompressed(prod):
    default = one(prod, DISTRIBUTION)["defaultCacheBehavior"]
    assert default["cachePolicyId"] == cdn.CACHING_DISABLED
    assert default["compress"] is False  # BREACH: API answers are never compressed
    assert set(default["allowedMethods"]) >= {"POST", "PUT", "PATCH", "DELETE"}
    assert default["viewerProtocolPolicy"] == "redirect-to-https"


def test_every_behaviour_sends_the_host_and_the_viewer_address_to_the_origin(prod):
    # Host: the ALB routes by it, and CloudFront checks the ALB's certificate against it.
    distribution = one(prod, DISTRIBUTION)
    behaviours = [distribution["defaultCacheBehavior"], *distribution["orderedCacheBehaviors"]]
    for behaviour in behaviours:
        assert behaviour["originRequestPolicyId"] == cdn.ALL_VIEWER_AND_CLOUDFRONT_HEADERS


def test_only_cloudfront_may_reach_the_web_alb(prod):
    ingress = one(prod, INGRESS)
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/security-group-prefix-lists"] == "pl-3b927c52"
    assert "alb.ingress.kubernetes.io/inbound-cidrs" not in annotations


def test_the_web_ui_takes_the_browser_from_cloudfronts_header_from_the_alb_only(objects):
    env = web_env(objects, "prod")
    assert env["VIEWER_ADDRESS_HEADER"] == cdn.VIEWER_ADDRESS_HEADER
    config = StackConfig.from_flat(render_config("prod"))
    assert env["TRUSTED_PROXIES"] == ",".join(public_networks(config))


@pytest.mark.parametrize("stack", ["local", "staging"])
def test_other_stacks_have_no_cdn(declared, objects, stack):
    assert of_type(declared[stack], DISTRIBUTION) == []
    assert "VIEWER_ADDRESS_HEADER" not in web_env(objects, stack)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"webCdn": True}, "webCdn needs webIngress"),
        ({"webCdn": True, "webIngress": True}, "webCdn needs cdnCertificateArn"),
        (
            {
                "webCdn": True,
                "webIngress": True,
                "cdnCertificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/x",
            },
            "us-east-1",
        ),
    ],
)
def test_a_cdn_needs_its_alb_and_a_certificate_cloudfront_can_read(changes, message):
    with pytest.raises(ValidationError, match=message):
        StackConfig.model_validate({**_aws_config(), **changes})
