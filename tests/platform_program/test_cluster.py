"""What a first `pulumi up` on AWS needs, read off the program's resources under mocks.

Each test names the constraint of EKS, a controller or a chart that the
program relies on; the program would pass any mock without it.
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from cnop_catalogue import IMAGES
from cnop_platform import render
from cnop_platform.components.addons import autoscaler_release
from cnop_platform.components.gitops import APP_KINDS, image_overrides
from cnop_platform.components.vpc import pod_networks, public_networks
from cnop_platform.config import StackConfig
from cnop_platform.render import (
    RENDER_STAND_INS,
    SECRET_SIG,
    objects_with,
    render_config,
    run,
)

pytestmark = pytest.mark.unit
AWS = ["staging", "prod"]


def of_type(declared, typ):
    return [(name, inputs) for t, name, inputs in declared if t == typ]


def one(declared, typ):
    (found,) = of_type(declared, typ)
    return found[1]


@pytest.mark.parametrize("stack", AWS)
def test_the_kubernetes_provider_waits_for_the_nodes_and_add_ons(options, stack):
    provider = options[stack][("pulumi:providers:kubernetes", "cnop")]
    waits_for = {type(r).__name__ for r in provider.depends_on}
    assert "NodeGroup" in waits_for
    assert "Addon" in waits_for


@pytest.mark.parametrize("stack", AWS)
def test_network_policies_are_enforced_by_the_vpc_cni(declared, stack):
    addons = {
        inputs["addonName"]: inputs
        for _n, inputs in of_type(declared[stack], "aws:eks/addon:Addon")
    }
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert {"eks-pod-identity-agent", "aws-ebs-csi-driver", "metrics-server"} <= set(addons)
    (ebs,) = addons["aws-ebs-csi-driver"]["podIdentityAssociations"]
    assert ebs["serviceAccount"] == "ebs-csi-controller-sa"


@pytest.mark.parametrize("stack", AWS)
def test_volumes_can_bind_a_default_encrypted_gp3_class(cluster_objects, stack):
    (storage_class,) = [o for o in cluster_objects[stack] if o["kind"] == "StorageClass"]
    assert storage_class["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }
    assert storage_class["provisioner"] == "ebs.csi.aws.com"  # the add-on's driver
    assert storage_class["parameters"] == {"type": "gp3", "encrypted": "true"}
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    expected = "Retain" if stack == "prod" else "Delete"
    assert storage_class["reclaimPolicy"] == expected


@pytest.mark.parametrize("stack", AWS)
def test_nodes_grow_and_hpas_have_metrics(declared, stack):
    releases = {
        inputs["chart"]: inputs
        for _n, inputs in of_type(declared[stack], "kubernetes:helm.sh/v3:Release")
    }
    autoscaler = releases["cluster-autoscaler"]["values"]
    assert autoscaler["autoDiscovery"]["clusterName"] == "cnop-" + stack
    associations = {
        (i["namespace"], i["serviceAccount"])
        for _n, i in of_type(
            declared[stack], "aws:eks/podIdentityAssociation:PodIdentityAssociation"
        )
    }
    assert ("kube-system", autoscaler["rbac"]["serviceAccount"]["name"]) in associations
    lb = releases["aws-load-balancer-controller"]["values"]
    assert ("kube-system", lb["serviceAccount"]["name"]) in associations
    nodes = one(declared[stack], "aws:eks/nodeGroup:NodeGroup")
    assert nodes["scalingConfig"]["maxSize"] > nodes["scalingConfig"]["minSize"]


@pytest.mark.parametrize("stack", AWS)
def test_the_control_plane_is_pinned_and_reachable_only_from_named_networks(declared, stack):
    cluster = one(declared[stack], "aws:eks/cluster:Cluster")
    assert cluster["version"] == "1.33"
    assert cluster["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    assert cluster["vpcConfig"]["publicAccessCidrs"] == ["192.0.2.0/24"]
    # A reviewer's first question after an incident: who did what, who got in.
    assert {"audit", "authenticator"} <= set(cluster["enabledClusterLogTypes"])
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    entry = one(declared[stack], "aws:eks/accessEntry:AccessEntry")
    policy = one(declared[stack], "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert policy["principalArn"] == entry["principalArn"]
    assert one(declared[stack], "aws:eks/nodeGroup:NodeGroup")["version"] == "1.33"


@pytest.mark.parametrize("stack", AWS)
def test_kubeconfig_names_the_region(declared, stack):
    providers = of_type(declared[stack], "pulumi:providers:kubernetes")
    assert {name for name, _inputs in providers} == {"cnop", "cnop-addons"}
    for _name, provider in providers:
        args = json.loads(provider["kubeconfig"])["users"][0]["user"]["exec"]["args"]
        assert args[args.index("--region") + 1] == "eu-west-1"


@pytest.mark.parametrize("stack", AWS)
def test_dynamodb_is_reached_through_a_gateway_endpoint(declared, stack):
    endpoint = one(declared[stack], "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint["serviceName"] == "com.amazonaws.eu-west-1.dynamodb"
    assert endpoint["vpcEndpointType"] == "Gateway"
    private_tables = [
        f"{name}-id"
        for name, _inputs in of_type(declared[stack], "aws:ec2/routeTable:RouteTable")
        if "-private" in name
    ]
    assert sorted(endpoint["routeTableIds"]) == sorted(private_tables)
    assert len(private_tables) == (2 if stack == "prod" else 1)


def test_each_stack_pushes_to_repositories_of_its_own(declared):
    names = {
        stack: {i["name"] for _n, i in of_type(declared[stack], "aws:ecr/repository:Repository")}
        for stack in AWS
    }
    assert names["staging"] == {f"cnop-staging/{image}" for image in IMAGES}
    assert names["staging"].isdisjoint(names["prod"])


def test_images_are_pinned_by_digest_where_digests_are_known():
    digest = "sha256:" + "ab" * 32
    config = StackConfig.model_validate({**_aws_config(), "imageDigests": {"gateway": digest}})
    repositories = {
        image: f"acct.dkr.ecr.eu-west-1.amazonaws.com/cnop-prod/{image}" for image in IMAGES
    }
    overrides = image_overrides(config, repositories)
    assert (
        f"cnop/gateway=acct.dkr.ecr.eu-west-1.amazonaws.com/cnop-prod/gateway@{digest}" in overrides
    )
    assert "cnop/auth=acct.dkr.ecr.eu-west-1.amazonaws.com/cnop-prod/auth:0.1.0" in overrides


@pytest.mark.parametrize("stack", AWS)
def test_argo_cd_deploys_only_into_this_stack_from_this_repository(cluster_objects, stack):
    (project,) = [o for o in cluster_objects[stack] if o["kind"] == "AppProject"]
    (app,) = [o for o in cluster_objects[stack] if o["kind"] == "Application"]
    assert app["spec"]["project"] == project["metadata"]["name"] == f"cnop-{stack}"
    assert {d["namespace"] for d in project["spec"]["destinations"]} == {"cnop", "monitoring"}
    assert project["spec"]["clusterResourceWhitelist"] == []
    assert project["spec"]["sourceRepos"] == [app["spec"]["source"]["repoURL"]]
    assert app["spec"]["syncPolicy"]["retry"]["limit"] >= 3
    images = app["spec"]["source"]["kustomize"]["images"]
    assert sorted(i.split("=")[0] for i in images) == sorted(f"cnop/{i}" for i in IMAGES)
    # No Pulumi Kubernetes Operator: `pulumi up` is run by a person or CI (make deploy).
    assert not [o for o in cluster_objects[stack] if o["apiVersion"].startswith("pulumi.com/")]


@pytest.mark.parametrize("stack", AWS)
def test_backends_trust_only_the_pod_subnets(objects, stack):
    config = StackConfig.model_validate(_aws_config())
    private, public = pod_networks(config), public_networks(config)
    assert set(private).isdisjoint(public)
    for deployment in [o for o in objects[stack] if o["kind"] == "Deployment"]:
        env = {
            e["name"]: e.get("value")
            for e in deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
        }
        # The web UI behind its ALB Ingress (prod) trusts the ALB's public subnets instead.
        behind_alb = deployment["metadata"]["name"] == "web" and stack == "prod"
        for variable in ("TRUSTED_NETWORKS", "TRUSTED_PROXIES"):
            if variable in env:
                expected = public if behind_alb and variable == "TRUSTED_PROXIES" else private
                assert env[variable].split(",") == expected, deployment["metadata"]["name"]


@pytest.mark.parametrize("stack", ["prod"])
def test_prod_state_is_protected_from_pulumi_destroy(options, stack):
    protected = {key for key, opts in options[stack].items() if opts.protect}
    tables = {k for k in options[stack] if k[0] == "aws:dynamodb/table:Table"}
    assert tables
    assert tables <= protected
    assert ("aws:eks/cluster:Cluster", "cnop") in protected
    assert ("aws:s3/bucket:Bucket", "loki") in protected
    assert not any(opts.protect for opts in _staging_options(options))


def _staging_options(options):
    return options["staging"].values()


def test_rotating_the_keyring_rolls_the_auth_pods():
    # The checksum of the keyring is on auth's pod template (local: Pulumi applies it).
    first = _auth_template_annotations({"cnop:authSigningKeys": '{"k1": "' + "a" * 48 + '"}'})
    second = _auth_template_annotations({"cnop:authSigningKeys": '{"k1": "' + "b" * 48 + '"}'})
    assert first["cnop.io/keyring-checksum"] != second["cnop.io/keyring-checksum"]


def _auth_template_annotations(overrides):
    (auth,) = [
        o
        for o in objects_with("local", overrides)
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "auth"
    ]
    return auth["spec"]["template"]["metadata"]["annotations"]


def _aws_config():
    return {
        "environment": "prod",
        "imageTag": "0.1.0",
        "createCluster": True,
        "store": "dynamodb",
        "replicas": 2,
        "podCidr": "10.0.0.0/16",
        "expose": "loadbalancer",
        "domain": "shop.test",
        "retentionDays": 30,
        "gitRepo": "https://git.test/cnop.git",
        "gitRevision": "main",
        "authActiveKid": "k1",
        "appsVia": "argocd",
        "apiAccessCidrs": ["192.0.2.0/24"],
        "clusterAdmins": ["arn:aws:iam::111122223333:role/ci"],
        "awsRegion": "eu-west-1",
        "tlsCertificateArn": "arn:aws:acm:eu-west-1:111122223333:certificate/x",
        "apiDomain": "api.shop.test",
        "hostedZoneId": "Z0123456789ABC",
        "alertReceiver": "pagerduty",
        "deletionProtection": True,
    }


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("apiAccessCidrs", "apiAccessCidrs"),
        ("clusterAdmins", "clusterAdmins"),
        ("tlsCertificateArn", "tlsCertificateArn"),
        ("gitRepo", "gitRepo"),
        ("apiDomain", "needs apiDomain"),
        ("hostedZoneId", "needs hostedZoneId"),
        ("alertReceiver", "needs an alertReceiver"),
    ],
)
def test_a_cloud_stack_refuses_to_run_without_what_only_the_account_knows(missing, message):
    raw = _aws_config()
    del raw[missing]
    with pytest.raises(ValidationError, match=message):
        StackConfig.model_validate(raw)


def test_an_all_digit_image_tag_stays_a_tag():
    mocks = run("local", {"cnop:imageTag": "20261130"})
    images = {
        inputs["spec"]["template"]["spec"]["containers"][0]["image"]
        for typ, _n, inputs in mocks.resources
        if typ == "kubernetes:apps/v1:Deployment" and inputs["metadata"]["name"] == "gateway"
    }
    assert images == {"localhost:5001/cnop/gateway:20261130"}


def test_digests_must_be_digests():
    with pytest.raises(ValidationError, match="sha256"):
        StackConfig.model_validate({**_aws_config(), "imageDigests": {"gateway": "latest"}})


@pytest.mark.parametrize("stack", AWS)
def test_the_project_admits_every_kind_and_namespace_the_app_layer_holds(objects, stack):
    # Argo CD refuses to sync an object its project does not whitelist.
    allowed = {(group, kind) for group, kind in APP_KINDS}
    for obj in objects[stack]:
        group = obj["apiVersion"].rpartition("/")[0]
        assert (group, obj["kind"]) in allowed, (obj["kind"], obj["metadata"]["name"])
        assert obj["metadata"]["namespace"] in {"cnop", "monitoring"}


@pytest.mark.parametrize("stack", AWS)
def test_the_limits_store_is_private_encrypted_and_token_protected(declared, stack):
    redis = one(declared[stack], "aws:elasticache/replicationGroup:ReplicationGroup")
    assert redis["transitEncryptionEnabled"] is True
    assert redis["atRestEncryptionEnabled"] is True
    assert redis["authToken"]  # a Pulumi secret (the render's stand-in here)
    assert redis["automaticFailoverEnabled"] is (stack == "prod")
    group = one(declared[stack], "aws:ec2/securityGroup:SecurityGroup")
    (rule,) = group["ingress"]
    assert (rule["fromPort"], rule["toPort"]) == (6379, 6379)
    assert rule["cidrBlocks"] == ["10.0.32.0/20", "10.0.48.0/20"]  # the pod subnets only
    subnets = one(declared[stack], "aws:elasticache/subnetGroup:SubnetGroup")
    assert all("-private-" in subnet for subnet in subnets["subnetIds"])


@pytest.mark.parametrize("stack", AWS)
def test_the_lb_controller_adds_no_failing_service_webhook_and_needs_no_metadata(declared, stack):
    """aws-load-balancer-controller chart 1.13.4 (aws/eks-charts at a69a33a):
    templates/webhook.yaml registers `mservice.elbv2.k8s.aws` on every Service CREATE
    with `serviceMutatorWebhookConfig.failurePolicy: Fail` unless
    `enableServiceMutatorWebhook` is false; templates/deployment.yaml turns `region`
    and `vpcId` into --aws-region/--aws-vpc-id, which spare it the metadata service."""
    releases = {
        inputs["chart"]: inputs["values"]
        for _n, inputs in of_type(declared[stack], "kubernetes:helm.sh/v3:Release")
    }
    values = releases["aws-load-balancer-controller"]
    assert values["enableServiceMutatorWebhook"] is False
    assert values["region"] == "eu-west-1"
    assert values["vpcId"]
    (public,) = [o for o in render.objects(stack) if o["metadata"].get("name") == "gateway-public"]
    # With the mutator off, the Service must name the controller's class itself.
    assert public["spec"]["loadBalancerClass"] == "service.k8s.aws/nlb"


@pytest.mark.parametrize("stack", AWS)
def test_destroy_leaves_no_repository_or_synced_object_behind(declared, cluster_objects, stack):
    """ECR refuses to delete a repository holding images unless forced; Argo CD deletes
    what an Application synced only when it carries the resources finalizer."""
    protected = StackConfig.from_flat(render.render_config(stack)).deletion_protection
    for _name, repository in of_type(declared[stack], "aws:ecr/repository:Repository"):
        assert repository["forceDelete"] is (not protected)
    (application,) = [o for o in cluster_objects[stack] if o["kind"] == "Application"]
    assert application["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]


def test_the_api_and_the_web_ui_do_not_share_a_name():
    with pytest.raises(ValidationError, match="apiDomain must differ from domain"):
        StackConfig.model_validate({**_aws_config(), "apiDomain": "shop.test"})


def test_staging_may_page_nobody_but_a_protected_prod_may_not():
    staging = {**_aws_config(), "environment": "staging", "deletionProtection": False}
    del staging["alertReceiver"]
    assert StackConfig.model_validate(staging).alert_receiver == "none"
    with pytest.raises(ValidationError, match="needs an alertReceiver"):
        StackConfig.model_validate(
            {**_aws_config(), "alertReceiver": "none", "deletionProtection": True}
        )
    assert StackConfig.from_flat(render_config("prod")).deletion_protection


@pytest.mark.parametrize("stack", AWS)
def test_each_front_door_has_its_own_name_pointed_by_the_same_up(declared, stack):
    """One `pulumi up` makes the load balancers and the names that point at them: the
    API's name at the NLB the controller made under the name the Service asks for,
    the web UI's at CloudFront (prod) or nowhere public (staging has no web Ingress)."""
    records = {
        (inputs["name"], inputs["type"]): inputs
        for _n, inputs in of_type(declared[stack], "aws:route53/record:Record")
    }
    api = RENDER_STAND_INS["cnop:apiDomain"]
    web = RENDER_STAND_INS["cnop:domain"]
    (alias,) = records[(api, "A")]["aliases"]
    assert alias["name"] == f"cnop-{stack}-api-0123456789.elb.mock"
    for record in records.values():
        assert record["zoneId"] == RENDER_STAND_INS["cnop:hostedZoneId"]
        assert record["aliases"][0]["evaluateTargetHealth"] is True
    (public,) = [o for o in render.objects(stack) if o["metadata"].get("name") == "gateway-public"]
    annotations = public["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-name"] == f"cnop-{stack}-api"
    # Not the controller's NLB default (ELBSecurityPolicy-2016-08 takes TLS 1.0).
    policy = annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"]
    assert policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    if stack == "prod":
        for kind in ("A", "AAAA"):
            (cdn,) = records[(web, kind)]["aliases"]
            assert cdn == {
                "name": "d111111abcdef8.cloudfront.net",
                "zoneId": "Z2FDTNDATAQYW2",
                "evaluateTargetHealth": True,
            }
    else:
        assert set(records) == {(api, "A")}


def _lb_controller_statements(declared, stack):
    (policy,) = [
        json.loads(inputs["policy"])
        for _n, inputs in of_type(declared[stack], "aws:iam/rolePolicy:RolePolicy")
        if "elasticloadbalancing:CreateLoadBalancer" in inputs["policy"]
    ]
    return policy["Statement"]


def _actions(statement):
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


@pytest.mark.parametrize("stack", AWS)
def test_one_stacks_lb_controller_cannot_touch_anothers_load_balancers(declared, stack):
    """kubernetes-sigs/aws-load-balancer-controller v2.13.4 docs/install/iam_policy.json
    conditions creating, changing and deleting load balancers, target groups and
    security groups on the `elbv2.k8s.aws/cluster` tag, which the controller sets to
    its cluster's name (pkg/deploy/tracking/provider.go). Here the tag must name this
    stack's cluster, so staging's controller cannot change prod's in a shared account."""
    cluster = f"cnop-{stack}"
    guarded = {
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:RemoveTags",
        "ec2:DeleteSecurityGroup",
        "ec2:DeleteTags",
    }
    seen = set()
    for statement in _lb_controller_statements(declared, stack):
        touched = _actions(statement) & guarded
        resources = statement["Resource"]
        on_listeners_only = isinstance(resources, list) and all(
            ":listener" in arn for arn in resources
        )
        if not touched or on_listeners_only:  # listeners carry no cluster tag (upstream)
            continue
        seen |= touched
        equals = statement["Condition"]["StringEquals"]
        tag = equals.get("aws:ResourceTag/elbv2.k8s.aws/cluster") or equals.get(
            "aws:RequestTag/elbv2.k8s.aws/cluster"
        )
        assert tag == cluster, (touched, statement["Condition"])
    assert seen == guarded
    # Nothing the chart values switch off is granted.
    granted = set().union(*map(_actions, _lb_controller_statements(declared, stack)))
    assert not any(a.startswith(("wafv2:", "waf-regional:", "shield:", "cognito")) for a in granted)


@pytest.mark.parametrize("stack", AWS)
def test_no_pod_reaches_the_nodes_metadata_and_nothing_needs_to(declared, stack):
    """IMDSv2 with a hop limit of 1: a pod's request is one hop further and never
    answered, so no pod can take the node's role. What would otherwise look the
    region or VPC up there is given them: the LB controller's `region`/`vpcId`
    (chart 1.13.4 templates/deployment.yaml → --aws-region/--aws-vpc-id), the
    autoscaler's `awsRegion`; the EBS CSI driver falls back to the Kubernetes API
    by itself (kubernetes-sigs/aws-ebs-csi-driver v1.64 pkg/cloud/metadata:
    DefaultMetadataSources = imds, kubernetes)."""
    (template,) = [i for _n, i in of_type(declared[stack], "aws:ec2/launchTemplate:LaunchTemplate")]
    assert template["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
    }
    nodes = one(declared[stack], "aws:eks/nodeGroup:NodeGroup")
    assert nodes["launchTemplate"]["id"]
    releases = {
        inputs["chart"]: inputs["values"]
        for _n, inputs in of_type(declared[stack], "kubernetes:helm.sh/v3:Release")
    }
    assert releases["aws-load-balancer-controller"]["region"] == "eu-west-1"
    assert releases["aws-load-balancer-controller"]["vpcId"]
    assert releases["cluster-autoscaler"]["awsRegion"] == "eu-west-1"


@pytest.mark.parametrize("stack", AWS)
def test_the_cluster_autoscaler_runs_the_clusters_own_minor(declared, stack):
    """kubernetes/autoscaler supports each Kubernetes minor with the autoscaler of the
    same minor only; chart 9.46.6 (the old pin) defaulted to v1.32.0 under EKS 1.33."""
    eks = one(declared[stack], "aws:eks/cluster:Cluster")["version"]
    releases = {
        inputs["chart"]: inputs
        for _n, inputs in of_type(declared[stack], "kubernetes:helm.sh/v3:Release")
    }
    tag = releases["cluster-autoscaler"]["values"]["image"]["tag"]
    assert tag.removeprefix("v").rsplit(".", 1)[0] == eks
    assert releases["cluster-autoscaler"]["version"] == "9.51.0"


def test_an_eks_minor_without_a_pinned_autoscaler_is_refused():
    with pytest.raises(ValueError, match=r"no cluster autoscaler pinned for EKS 1\.99"):
        autoscaler_release("1.99")


def test_a_private_repository_is_cloned_with_the_token_kept_as_a_secret():
    """Argo CD finds repository credentials in Secrets labelled
    `argocd.argoproj.io/secret-type: repository` (argo-cd docs, declarative setup)."""
    assert not [
        i for t, n, i in run("prod").resources if n == "argocd-repository"
    ]  # a public repository needs none
    mocks = run("prod", {"cnop:gitToken": "ghp_standin", "cnop:gitUsername": "ci-bot"})
    (secret,) = [i for t, n, i in mocks.resources if n == "argocd-repository"]
    assert secret["metadata"]["namespace"] == "argocd"
    assert secret["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}
    data = secret["stringData"]
    assert data[SECRET_SIG]  # the token never travels bare
    assert data["value"]["url"] == RENDER_STAND_INS["cnop:gitRepo"]
    assert data["value"]["username"] == "ci-bot"
    assert data["value"]["password"] == "ghp_standin"


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        (
            "arn:aws:acm:us-east-1:111122223333:certificate/x",
            "ACM certificate in us-east-1, but the stack deploys to eu-west-1",
        ),
        ("arn:aws:iam::111122223333:role/ci", "not an ACM certificate ARN"),
        ("not-an-arn", "not an ACM certificate ARN"),
    ],
)
def test_the_tls_certificate_must_be_in_the_stacks_region(arn, message):
    # docs/deploying.md: the region is aws:region of Pulumi.<stack>.yaml, and the
    # load balancers' certificate is requested there.
    with pytest.raises(ValidationError, match=message):
        StackConfig.model_validate({**_aws_config(), "tlsCertificateArn": arn})
    assert StackConfig.model_validate(_aws_config()).aws_region == "eu-west-1"
