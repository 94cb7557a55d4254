"""Least-privilege execution role for SageMaker models, whatever container they run.

No managed policy: container metrics, and (with a ``network``) the network interfaces SageMaker creates in the
model's subnets (``network_interface_statements``, which a model also adds to a role it is given). The rest is
granted by whoever knows the resource: image pull (the runtime's image), model data (weights sources), and the log
group of each endpoint or inference component (``grant_sagemaker_log_group``, which the endpoint constructs call:
SageMaker names the group after them).
"""

from __future__ import annotations

from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from tgi_sagemaker.compliance import acknowledge, acknowledge_wildcards
from tgi_sagemaker.endpoint_network import EndpointNetwork

# What SageMaker calls with the execution role for a model or endpoint config with a VpcConfig.
_ENI_ACTIONS_ON_ITS_OWN_INTERFACES = [
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
]
_DESCRIBE_ACTIONS = [
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]
_LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]

# Every wildcard this role may hold, each with why (acknowledged one by one: a wildcard added by someone else, that
# none of these describes, is still reported).
WILDCARD_REASONS = {
    r"^\*$": "Resource '*' is only on calls IAM offers no resource for: ecr:GetAuthorizationToken, "
    "cloudwatch:PutMetricData (conditioned to /aws/sagemaker/* namespaces) and, with a VPC, SageMaker's ec2:Describe* "
    "calls.",
    r":network-interface/\*$": "A network interface gets its id when SageMaker creates it: creating one is allowed "
    "only in the endpoint's subnets with its security groups, and sharing or deleting one only where ec2:Subnet is "
    "one of those subnets.",
    r":\*:(subnet|security-group)/": "Subnets and security groups given by id may belong to the account that shares "
    "the VPC; the ids are unique across accounts, so the account is left open and the id names the one resource.",
    r":log-stream:\*$": "Log streams of the one log group SageMaker names after this endpoint or inference "
    "component; SageMaker names a stream after each instance and container it starts.",
    r"/models/.+\*$": "The objects under the model's own weights prefix (models/<repo>/), which SageMaker copies to "
    "/opt/ml/model.",
}


class ModelExecutionRole(Construct):
    """An IAM role SageMaker assumes to run a model's container.

    Trusted by SageMaker for this account only (``aws:SourceAccount``).

    :param network: the model's subnets and security groups: SageMaker may create network interfaces in exactly
        those, and share or delete interfaces in those subnets. Default: none (no VPC access).
    :param description: the role's description. Default: "Runs the container of a SageMaker model".
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: EndpointNetwork | None = None,
        description: str = "Runs the container of a SageMaker model",
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=description,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )
        if network is not None:
            for statement in network_interface_statements(network):
                self.role.add_to_policy(statement)
        acknowledge_wildcards(self.role, reasons=WILDCARD_REASONS)
        acknowledge(
            self.role,
            {
                "HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy": "CDK grants attach one inline policy to this "
                "role alone; it is never shared, and it is created and deleted with the role.",
            },
        )


class TgiExecutionRole(ModelExecutionRole):
    """A ``ModelExecutionRole`` described as running TGI, as it was before the runtime seam.

    :param network: as ``ModelExecutionRole``'s. Default: none (no VPC access).
    """

    def __init__(self, scope: Construct, construct_id: str, *, network: EndpointNetwork | None = None) -> None:
        super().__init__(
            scope, construct_id, network=network, description="Runs the TGI container of a SageMaker model"
        )


def network_interface_statements(network: EndpointNetwork) -> list[iam.PolicyStatement]:
    """What SageMaker needs, acting with a model's execution role, to create the network interfaces of a model with
    ``network`` as its VpcConfig (only in its subnets, with its security groups), and to share, describe and delete
    them."""
    own_interfaces = cdk.Stack.of(network).format_arn(service="ec2", resource="network-interface", resource_name="*")
    return [
        # CreateNetworkInterface authorizes the new interface (no id yet), its subnet and its security groups.
        iam.PolicyStatement(actions=["ec2:CreateNetworkInterface"], resources=[own_interfaces]),
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface"], resources=[*network.subnet_arns, *network.security_group_arns]
        ),
        iam.PolicyStatement(
            actions=_ENI_ACTIONS_ON_ITS_OWN_INTERFACES,
            resources=[own_interfaces],
            conditions={"ArnLike": {"ec2:Subnet": network.subnet_arns}},
        ),
        iam.PolicyStatement(actions=_DESCRIBE_ACTIONS, resources=["*"]),
    ]


def grant_sagemaker_log_group(
    scope: Construct, grantee: iam.IGrantable, kind: Literal["Endpoints", "InferenceComponents"], name: str
) -> iam.Grant:
    """Let SageMaker, acting with ``grantee``, create and write the log group it names after an endpoint or an
    inference component: ``/aws/sagemaker/<kind>/<name>`` (kind ``Endpoints`` or ``InferenceComponents``).

    SageMaker's ARNs spell endpoint and component names in lower case, while log group names are case-sensitive
    and documented with the name as given: both spellings of this one name are granted, so that the container's
    logs cannot be lost to the difference.
    """
    stack = cdk.Stack.of(scope)
    resources = []
    for spelling in dict.fromkeys([name, name.lower()]):
        group = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/{kind}/{spelling}",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        resources += [group, f"{group}:log-stream:*"]
    return iam.Grant.add_to_principal(grantee=grantee, actions=_LOG_ACTIONS, resource_arns=resources)
