"""The network a SageMaker endpoint runs in: a new VPC or an existing one, and its security group."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tgi_sagemaker import defaults
from tgi_sagemaker.compliance import acknowledge

MAX_SUBNETS = 16  # VpcConfig.Subnets of a SageMaker model or endpoint config
MAX_SECURITY_GROUPS = 5  # VpcConfig.SecurityGroupIds


class EndpointNetwork(Construct):
    """Subnets and security groups for a SageMaker model's ``VpcConfig``.

    :param vpc: an existing VPC. Default: a new VPC with private subnets, an S3 gateway endpoint and flow logs.
    :param subnets: the subnets the endpoint uses. Default: the private subnets of the VPC.
    :param subnet_ids: subnet ids to use as they are (an imported VPC); overrides ``subnets``. Default: none.
    :param security_groups: the endpoint's security groups. Default: a new group with no inbound rules and
        outbound HTTPS only: to S3 (the ``s3_prefix_list_id`` when given, else any address, which in a VPC without
        internet egress routes to S3's gateway endpoint only), or to the Hub with ``allow_internet_egress``.
    :param allow_internet_egress: give the container a route to the internet (a NAT gateway in a new VPC and
        HTTPS out in the new security group), as Hub-direct weights need. Default: False.
    :param s3_prefix_list_id: the region's S3 managed prefix list (``com.amazonaws.<region>.s3``): the new security
        group's HTTPS egress goes to it alone. Needs no internet egress. Default: none (synthesis looks nothing up).
    :param max_azs: availability zones of a new VPC. Default: 2.
    :param availability_zones: pinned zones of a new VPC (no look-up at synth). Default: the region's first ones.
    :param flow_log_retention: of a new VPC's flow-log group. Default: one year.

    A new VPC's S3 gateway endpoint has a policy: it allows the reads granted with ``allow_s3_read`` (a model's
    ``S3PrefixWeights`` grant theirs), or, when none was granted, reads of buckets in this stack's account only.
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
        s3_prefix_list_id: str | None = None,
        max_azs: int = defaults.MAX_AZS,
        availability_zones: Sequence[str] | None = None,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, construct_id)
        _validate(self, subnet_ids, security_groups, allow_internet_egress, s3_prefix_list_id, availability_zones)
        self.allow_internet_egress = allow_internet_egress
        self._s3_reads: list[iam.PolicyStatement] = []
        self.s3_endpoint: ec2.GatewayVpcEndpoint | None = None
        # Which subnets and groups this stack made (their ARNs carry its account) and which it was given by id (a
        # shared VPC's belong to the account that owns the VPC).
        self._given_subnets = bool(subnet_ids) or vpc is not None
        self._given_groups = bool(security_groups)
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
            if s3_prefix_list_id is not None:
                group.add_egress_rule(ec2.Peer.prefix_list(s3_prefix_list_id), ec2.Port.tcp(443), "S3 (prefix list)")
            else:
                # Without internet egress the subnets route nothing but S3 (gateway endpoint): HTTPS out reaches S3.
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
        s3_prefix_list_id: str | None = None,
    ) -> EndpointNetwork:
        """An existing VPC by ids, without look-ups. ``vpc_id`` is needed only to create the security group."""
        if vpc_id is None and not security_group_ids:
            raise ValueError("EndpointNetwork.from_ids: give vpc_id (to create a security group) or security_group_ids")
        holder = Construct(scope, f"{construct_id}Import")
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
            s3_prefix_list_id=s3_prefix_list_id,
        )

    @property
    def security_group_ids(self) -> list[str]:
        return [group.security_group_id for group in self.security_groups]

    @property
    def subnet_arns(self) -> list[str]:
        """The endpoint's subnets as IAM resources; subnets given by id may belong to another account (a shared
        VPC), so their account is ``*`` (subnet ids are unique across accounts)."""
        return [self._ec2_arn("subnet", subnet, given=self._given_subnets) for subnet in self.subnet_ids]

    @property
    def security_group_arns(self) -> list[str]:
        """The endpoint's security groups as IAM resources (groups given by id: any account, as ``subnet_arns``)."""
        return [self._ec2_arn("security-group", group, given=self._given_groups) for group in self.security_group_ids]

    def allow_s3_read(self, bucket: s3.IBucket, key_pattern: str) -> None:
        """Let SageMaker read ``key_pattern`` objects of ``bucket`` (and list it) through the S3 gateway endpoint
        of a new VPC. A VPC given by id keeps its own endpoints and their policies: nothing to do here."""
        if self.s3_endpoint is None:
            return
        self._s3_reads += [
            iam.PolicyStatement(
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(key_pattern)],
            ),
            iam.PolicyStatement(
                principals=[iam.AnyPrincipal()],
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [key_pattern]}},
            ),
        ]

    def _s3_endpoint_policy(self) -> iam.PolicyDocument:
        statements = self._s3_reads or [
            iam.PolicyStatement(
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject", "s3:ListBucket"],
                resources=["*"],
                conditions={"StringEquals": {"aws:ResourceAccount": cdk.Stack.of(self).account}},
            )
        ]
        return iam.PolicyDocument(statements=statements)

    def _ec2_arn(self, resource: str, resource_id: str, *, given: bool) -> str:
        return cdk.Stack.of(self).format_arn(
            service="ec2", resource=resource, resource_name=resource_id, account="*" if given else None
        )

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
        )
        self.s3_endpoint = vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        endpoint = self.s3_endpoint.node.default_child
        assert isinstance(endpoint, ec2.CfnVPCEndpoint)
        endpoint.policy_document = cdk.Lazy.any(_Produce(self._s3_endpoint_policy))  # the grants made until synth
        if availability_zones:
            acknowledge(
                vpc,
                {
                    "CloudFormation-Validate::W3010": "The zones are pinned on purpose (availability_zones): "
                    "synthesis looks nothing up, and every run renders the same subnets in the same zones.",
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
                    "because internet egress was asked for (allow_internet_egress; network.egress in the config), "
                    "as Hub-direct weights need.",
                },
            )
        return vpc


def _validate(
    scope: Construct,
    subnet_ids: Sequence[str] | None,
    security_groups: Sequence[ec2.ISecurityGroup] | None,
    egress: bool,
    s3_prefix_list_id: str | None,
    availability_zones: Sequence[str] | None,
) -> None:
    """What SageMaker's VpcConfig takes (1-16 subnets, 1-5 security groups), and settings that contradict."""
    problems = []
    if subnet_ids is not None and not 1 <= len(subnet_ids) <= MAX_SUBNETS:
        problems.append(f"subnet_ids has {len(subnet_ids)}: SageMaker takes 1 to {MAX_SUBNETS} subnets; list those")
    if security_groups is not None and len(security_groups) > MAX_SECURITY_GROUPS:
        problems.append(
            f"security_groups has {len(security_groups)}: SageMaker takes at most {MAX_SECURITY_GROUPS}; list fewer"
        )
    if s3_prefix_list_id is not None and egress:
        problems.append("s3_prefix_list_id limits egress to S3; drop it or allow_internet_egress")
    region = cdk.Stack.of(scope).region
    if availability_zones and not cdk.Token.is_unresolved(region):
        wrong = [zone for zone in availability_zones if not zone.startswith(region)]
        if wrong:
            problems.append(
                f"availability_zones {wrong} are not zones of the stack's region {region}: use e.g. '{region}a'"
            )
    if problems:
        raise ValueError("EndpointNetwork: " + "; ".join(problems))


@jsii.implements(cdk.IStableAnyProducer)
class _Produce:
    def __init__(self, produce: Callable[[], Any]) -> None:
        self._produce = produce

    def produce(self) -> Any:
        return self._produce()
