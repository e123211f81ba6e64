"""The VPC an EKS cluster needs: public subnets with an internet gateway (load
balancers, the NAT), private subnets (nodes and pods) reaching out through a NAT
gateway, in two zones, and DynamoDB reached through a gateway endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_network

import pulumi
import pulumi_aws as aws

from cnop_platform.config import StackConfig

ZONES = ("a", "b")
# The cluster's Service addresses, set explicitly rather than left to EKS's choice so
# that the NetworkPolicies can keep pods off them (the API server's `kubernetes`
# Service among them). Outside every VPC range the program uses.
SERVICE_CIDR = "172.20.0.0/16"


def subnet_cidr(vpc_cidr: str, index: int) -> str:
    """The index-th /20 of the VPC's range."""
    return str(list(ip_network(vpc_cidr).subnets(new_prefix=20))[index])


def pod_networks(config: StackConfig) -> list[str]:
    """Where pods get their addresses: the private subnets on EKS (the VPC CNI hands
    pods addresses of their node's subnet), the pod CIDR elsewhere. The public
    subnets, where load balancers and the NAT live, are never among them."""
    if not config.create_cluster:
        return [config.pod_cidr]
    return [subnet_cidr(config.pod_cidr, index) for index in range(len(ZONES), 2 * len(ZONES))]


def public_networks(config: StackConfig) -> list[str]:
    """The public subnets: the load balancers' and the NAT's addresses."""
    return [subnet_cidr(config.pod_cidr, index) for index in range(len(ZONES))]


@dataclass(frozen=True)
class Network:
    """What the cluster is placed in."""

    vpc: aws.ec2.Vpc
    private: list[aws.ec2.Subnet]


def network(name: str, config: StackConfig, opts: pulumi.ResourceOptions) -> Network:
    """Create the VPC and its routing; return it with the private subnets for the nodes."""
    tags = {"Name": f"cnop-{config.environment}"}
    vpc = aws.ec2.Vpc(
        name,
        cidr_block=config.pod_cidr,
        enable_dns_hostnames=True,
        enable_dns_support=True,
        tags=tags,
        opts=opts,
    )
    gateway = aws.ec2.InternetGateway(name, vpc_id=vpc.id, tags=tags, opts=opts)
    public_routes = aws.ec2.RouteTable(
        f"{name}-public",
        vpc_id=vpc.id,
        routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
        tags=tags,
        opts=opts,
    )
    public = []
    for cidr, zone in zip(public_networks(config), ZONES, strict=True):
        subnet = aws.ec2.Subnet(
            f"{name}-public-{zone}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=f"{config.aws_region}{zone}",
            map_public_ip_on_launch=True,
            tags={**tags, "kubernetes.io/role/elb": "1"},
            opts=opts,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-public-{zone}", subnet_id=subnet.id, route_table_id=public_routes.id, opts=opts
        )
        public.append(subnet)
    # One NAT gateway (staging), or one per zone (prod: a zone's outage takes only its
    # own pods' way out), each private subnet routed through its zone's or the one.
    per_zone = config.nat_gateway_per_zone
    routes = []
    for index, zone in enumerate(ZONES if per_zone else ZONES[:1]):
        suffix = f"-{zone}" if per_zone else ""
        address = aws.ec2.Eip(f"{name}{suffix}", domain="vpc", tags=tags, opts=opts)
        nat = aws.ec2.NatGateway(
            f"{name}{suffix}",
            allocation_id=address.id,
            subnet_id=public[index].id,
            tags=tags,
            opts=opts,
        )
        routes.append(
            aws.ec2.RouteTable(
                f"{name}-private{suffix}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags=tags,
                opts=opts,
            )
        )
    private = []
    for index, (cidr, zone) in enumerate(zip(pod_networks(config), ZONES, strict=True)):
        subnet = aws.ec2.Subnet(
            f"{name}-private-{zone}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=f"{config.aws_region}{zone}",
            tags={**tags, "kubernetes.io/role/internal-elb": "1"},
            opts=opts,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-private-{zone}",
            subnet_id=subnet.id,
            route_table_id=routes[index if per_zone else 0].id,
            opts=opts,
        )
        private.append(subnet)
    # DynamoDB traffic stays on AWS's network: no NAT, no public endpoint.
    aws.ec2.VpcEndpoint(
        f"{name}-dynamodb",
        vpc_id=vpc.id,
        service_name=f"com.amazonaws.{config.aws_region}.dynamodb",
        vpc_endpoint_type="Gateway",
        route_table_ids=[table.id for table in routes],
        tags=tags,
        opts=opts,
    )
    return Network(vpc=vpc, private=private)
