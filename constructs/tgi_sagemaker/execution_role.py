"""Least-privilege execution role for SageMaker models that serve TGI.

No managed policy: logs of SageMaker endpoints, container metrics, and (with ``vpc_access``) the network
interfaces SageMaker creates in the VPC. Image pull and model data are granted by whoever binds them
(``TgiImage.bind``, weights sources).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from tgi_sagemaker.compliance import acknowledge, acknowledge_checkov, acknowledge_wildcards

# The ENI actions SageMaker calls with the execution role when a model has a VpcConfig.
_VPC_ACCESS_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]


class TgiExecutionRole(Construct):
    """An IAM role SageMaker assumes to run a TGI model.

    :param vpc_access: allow SageMaker to manage network interfaces in the model's VPC. Default: False.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc_access: bool = False) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs the TGI container of a SageMaker model",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/sagemaker/Endpoints/*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )
        if vpc_access:
            self.role.add_to_policy(iam.PolicyStatement(actions=_VPC_ACCESS_ACTIONS, resources=["*"]))
        acknowledge_wildcards(
            self.role,
            "Wildcards the APIs force: SageMaker names an endpoint's log group after the endpoint, which "
            "CloudFormation names only after the model that needs this role exists (the grant is limited to endpoint "
            "log groups of this account and region); ecr:GetAuthorizationToken, cloudwatch:PutMetricData (limited "
            "to /aws/sagemaker/* namespaces) and the EC2 network-interface calls have no resource scope; the weights "
            "grant covers the objects under the model's own prefix.",
        )
        unscoped = (
            "Only the calls IAM offers no resource for are unscoped: the EC2 network-interface calls SageMaker makes "
            "for the VPC (incl. CreateNetworkInterfacePermission), ecr:GetAuthorizationToken and "
            "cloudwatch:PutMetricData (conditioned to /aws/sagemaker/* namespaces)."
        )
        acknowledge_checkov(self, {"CKV_AWS_109": unscoped, "CKV_AWS_111": unscoped}, "AWS::IAM::Policy")
        acknowledge(
            self.role,
            {
                "HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy": "CDK grants attach one inline policy to this "
                "role alone; it is never shared, and it is created and deleted with the role.",
            },
        )
