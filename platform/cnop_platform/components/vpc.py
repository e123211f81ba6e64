"""The VPC an EKS cluster needs: public subnets with an internet gateway, private
subnets (where the nodes run) reaching out through a NAT gateway, in two zones."""

from __future__ import annotations

from ipaddress import ip_network

import pulumi
import pulumi_aws as aws

from cnop_platform.config import StackConfig

ZONES = ("a", "b")


def subnet_cidr(vpc_cidr: str, index: int) -> str:
    """The index-th /20 of the VPC's range."""
    return str(list(ip_network(vpc_cidr).subnets(new_prefix=20))[index])


def private_subnets(
    name: str, config: StackConfig, opts: pulumi.ResourceOptions
) -> list[aws.ec2.Subnet]:
    """Create the VPC and its routing; return the private subnets for the nodes."""
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
    for index, zone in enumerate(ZONES):
        subnet = aws.ec2.Subnet(
            f"{name}-public-{zone}",
            vpc_id=vpc.id,
            cidr_block=subnet_cidr(config.pod_cidr, index),
            availability_zone=f"{config.aws_region}{zone}",
            map_public_ip_on_launch=True,
            tags={**tags, "kubernetes.io/role/elb": "1"},
            opts=opts,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-public-{zone}", subnet_id=subnet.id, route_table_id=public_routes.id, opts=opts
        )
        public.append(subnet)
    address = aws.ec2.Eip(name, domain="vpc", tags=tags, opts=opts)
    nat = aws.ec2.NatGateway(
        name, allocation_id=address.id, subnet_id=public[0].id, tags=tags, opts=opts
    )
    private_routes = aws.ec2.RouteTable(
        f"{name}-private",
        vpc_id=vpc.id,
        routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
        tags=tags,
        opts=opts,
    )
    private = []
    for index, zone in enumerate(ZONES, start=len(ZONES)):
        subnet = aws.ec2.Subnet(
            f"{name}-private-{zone}",
            vpc_id=vpc.id,
            cidr_block=subnet_cidr(config.pod_cidr, index),
            availability_zone=f"{config.aws_region}{zone}",
            tags={**tags, "kubernetes.io/role/internal-elb": "1"},
            opts=opts,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-private-{zone}",
            subnet_id=subnet.id,
            route_table_id=private_routes.id,
            opts=opts,
        )
        private.append(subnet)
    return private
