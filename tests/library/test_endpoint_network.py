"""EndpointNetwork: a new isolated VPC or an existing one by ids, and what SageMaker's VpcConfig accepts."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from tgi_sagemaker import EndpointNetwork, TgiModel

MakeModel = Callable[..., TgiModel]


def test_isolated_network_has_no_nat_and_no_internet_egress(stack: cdk.Stack, make_model: MakeModel) -> None:
    network = EndpointNetwork(stack, "Network", allow_internet_egress=False)
    model = make_model(network=network)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupEgress": [
                Match.object_like({"Description": "S3 through the gateway endpoint", "FromPort": 443})
            ]
        },
    )
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})
    assert model.connections.security_groups == network.security_groups
    assert not network.allow_internet_egress


def test_the_s3_endpoint_of_a_network_nobody_reads_through_allows_this_accounts_buckets_only(
    stack: cdk.Stack, make_model: MakeModel
) -> None:
    make_model(network=EndpointNetwork(stack, "Network", allow_internet_egress=True))  # Hub weights: no S3 reads
    (endpoint,) = Template.from_stack(stack).find_resources("AWS::EC2::VPCEndpoint").values()
    (statement,) = endpoint["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}}
    assert statement["Action"] == ["s3:GetObject", "s3:ListBucket"]


def test_connections_of_a_networked_model_allow_adding_rules(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model(network=EndpointNetwork(stack, "Network", allow_internet_egress=True))
    model.connections.allow_to(ec2.Peer.ipv4("10.9.0.0/16"), ec2.Port.tcp(5432), "feature store")
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupEgress": Match.array_with([Match.object_like({"CidrIp": "10.9.0.0/16", "FromPort": 5432})])},
    )


def test_existing_network_needs_a_vpc_id_or_security_groups(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="give vpc_id"):
        EndpointNetwork.from_ids(stack, "Network", vpc_id=None, subnet_ids=["subnet-0a1b2c3d"])
    assert stack.node.try_find_child("NetworkImport") is None  # refused before anything was created


def test_what_vpc_config_cannot_take_is_refused_all_at_once(stack: cdk.Stack) -> None:
    groups = [f"sg-0000000{i}" for i in range(6)]
    with pytest.raises(ValueError) as refused:
        EndpointNetwork.from_ids(
            stack,
            "Network",
            vpc_id="vpc-0a1b2c3d",
            subnet_ids=[f"subnet-{i:08x}" for i in range(17)],
            security_group_ids=groups,
            allow_internet_egress=True,
            s3_prefix_list_id="pl-63a5400a",
        )
    message = str(refused.value)
    assert message.startswith("EndpointNetwork: subnet_ids has 17: SageMaker takes 1 to 16 subnets")
    assert "security_groups has 6: SageMaker takes at most 5" in message
    assert "s3_prefix_list_id limits egress to S3; drop it or allow_internet_egress" in message


def test_existing_network_needs_a_subnet(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="subnet_ids has 0: SageMaker takes 1 to 16"):
        EndpointNetwork.from_ids(stack, "Network", vpc_id="vpc-0a1b2c3d", subnet_ids=[])


def test_pinned_zones_must_be_of_the_stacks_region() -> None:
    stack = cdk.Stack(cdk.App(), "Regional", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    with pytest.raises(ValueError, match=r"availability_zones \['us-east-1a'\] are not zones of .* eu-west-1"):
        EndpointNetwork(stack, "Network", availability_zones=["eu-west-1a", "us-east-1a"])
    EndpointNetwork(stack, "Pinned", availability_zones=["eu-west-1a", "eu-west-1b"])  # its own zones: accepted
