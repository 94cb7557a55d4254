"""The network a SageMaker endpoint runs in: a new VPC or an existing one, and its security group."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from tgi_sagemaker.compliance import acknowledge


class EndpointNetwork(Construct):
    """Subnets and security groups for a SageMaker model's ``VpcConfig``.

    :param vpc: an existing VPC. Default: a new VPC with private subnets, an S3 gateway endpoint and flow logs.
    :param subnets: the subnets the endpoint uses. Default: the private subnets of the VPC.
    :param subnet_ids: subnet ids to use as they are (an imported VPC); overrides ``subnets``. Default: none.
    :param security_groups: the endpoint's security groups. Default: a new group with no inbound rules and,
        outbound HTTPS only (to S3 through the gateway endpoint, or to the Hub with ``allow_internet_egress``).
    :param allow_internet_egress: give the container a route to the internet (a NAT gateway in a new VPC and
        HTTPS out in the new security group), as Hub-direct weights need. Default: False.
    :param max_azs: availability zones of a new VPC. Default: 2.
    :param availability_zones: pinned zones of a new VPC (no look-up at synth). Default: the region's first ones.
    :param flow_log_retention: of a new VPC's flow-log group. Default: one year.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        subnet_ids: Sequence[str] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        allow_internet_egress: bool = False,
        max_azs: int = 2,
        availability_zones: Sequence[str] | None = None,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = vpc or self._new_vpc(allow_internet_egress, max_azs, availability_zones, flow_log_retention)
        selection = subnets or ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS if allow_internet_egress else ec2.SubnetType.PRIVATE_ISOLATED
        )
        if subnet_ids:
            self.subnet_ids: list[str] = list(subnet_ids)
        else:
            self.subnet_ids = self.vpc.select_subnets(
                subnet_type=selection.subnet_type,
                subnets=selection.subnets,
                subnet_group_name=selection.subnet_group_name,
                availability_zones=selection.availability_zones,
            ).subnet_ids
        if security_groups:
            self.security_groups = list(security_groups)
        else:
            group = ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=self.vpc,
                allow_all_outbound=False,
                description="SageMaker TGI endpoint: no inbound; outbound only what the model needs",
            )
            # Without internet egress the subnets route nothing but S3 (gateway endpoint): HTTPS out reaches S3 only.
            reach = "Hugging Face Hub over HTTPS" if allow_internet_egress else "S3 through the gateway endpoint"
            group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), reach)
            self.security_groups = [group]
        self.connections = ec2.Connections(security_groups=self.security_groups)

    @classmethod
    def from_ids(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        vpc_id: str | None,
        subnet_ids: Sequence[str],
        security_group_ids: Sequence[str] = (),
        allow_internet_egress: bool = False,
    ) -> EndpointNetwork:
        """An existing VPC by ids, without look-ups. ``vpc_id`` is needed only to create the security group."""
        holder = Construct(scope, f"{construct_id}Import")
        if vpc_id is None and not security_group_ids:
            raise ValueError("EndpointNetwork.from_ids: give vpc_id (to create a security group) or security_group_ids")
        # Only the VPC id is used (a new security group needs it). The zones are unknown without a look-up and
        # unused: the subnets are given by id, so the placeholder never reaches a template.
        vpc = ec2.Vpc.from_vpc_attributes(holder, "Vpc", vpc_id=vpc_id or "", availability_zones=["unknown"])
        groups = [
            ec2.SecurityGroup.from_security_group_id(holder, f"SecurityGroup{i}", group_id, mutable=False)
            for i, group_id in enumerate(security_group_ids)
        ]
        return cls(
            scope,
            construct_id,
            vpc=vpc,
            subnet_ids=subnet_ids,
            security_groups=groups or None,
            allow_internet_egress=allow_internet_egress,
        )

    @property
    def security_group_ids(self) -> list[str]:
        return [group.security_group_id for group in self.security_groups]

    def _new_vpc(
        self, egress: bool, max_azs: int, availability_zones: Sequence[str] | None, retention: logs.RetentionDays
    ) -> ec2.Vpc:
        private = ec2.SubnetConfiguration(
            name="Endpoint",
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS if egress else ec2.SubnetType.PRIVATE_ISOLATED,
            cidr_mask=22,
        )
        public = ec2.SubnetConfiguration(
            name="Egress", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=26, map_public_ip_on_launch=False
        )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=None if availability_zones else max_azs,
            availability_zones=list(availability_zones) if availability_zones else None,
            nat_gateways=1 if egress else 0,
            subnet_configuration=[public, private] if egress else [private],
            restrict_default_security_group=True,  # whatever the app's feature flags say
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
        )
        if availability_zones:
            acknowledge(
                vpc,
                {
                    "CloudFormation-Validate::W3010": "The zones are pinned in the config on purpose: synthesis looks "
                    "nothing up, and every run renders the same subnets in the same zones.",
                },
            )
        flow_logs = logs.LogGroup(  # kept when the stack goes; removed with a stack whose first creation failed
            self, "FlowLogs", retention=retention, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        )
        vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
        acknowledge(
            flow_logs,
            {
                "HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted": "Flow logs hold connection metadata, "
                "no payloads; CloudWatch Logs encrypts them at rest with AWS-owned keys.",
            },
        )
        acknowledge(
            vpc,
            {
                "HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy": "The flow-log role's policy is CDK's inline "
                "grant to write this VPC's flow-log group; it belongs to that role alone.",
            },
        )
        if egress:
            acknowledge(
                vpc,
                {
                    "HIPAA.Security::HIPAA.Security-VPCNoUnrestrictedRouteToIGW": "Only the NAT gateway lives in "
                    "the public subnets; the endpoint's subnets reach the internet through it, outbound only, "
                    "because the deployment has network.egress on (Hub-direct weights).",
                },
            )
        return vpc
