"""The models' execution role on its own: who may assume it, what it holds with and without a network, and the log
group grant the endpoint constructs give it."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from tgi_sagemaker import EndpointNetwork, ModelExecutionRole, TgiExecutionRole
from tgi_sagemaker.execution_role import grant_sagemaker_log_group

METRICS_STATEMENT = {
    "Action": "cloudwatch:PutMetricData",
    "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
    "Effect": "Allow",
    "Resource": "*",
}


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Stack")


def _only(stack: cdk.Stack, resource_type: str) -> dict[str, Any]:
    (resource,) = Template.from_stack(stack).find_resources(resource_type).values()
    return resource


def test_the_role_is_trusted_by_sagemaker_for_this_account_only() -> None:
    stack = _stack()
    ModelExecutionRole(stack, "ExecutionRole")
    role = _only(stack, "AWS::IAM::Role")["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
        }
    ]
    assert role["Description"] == "Runs the container of a SageMaker model"
    assert "ManagedPolicyArns" not in role


def test_without_a_network_the_role_may_publish_container_metrics_only() -> None:
    stack = _stack()
    ModelExecutionRole(stack, "ExecutionRole")
    assert _only(stack, "AWS::IAM::Policy")["Properties"]["PolicyDocument"]["Statement"] == [METRICS_STATEMENT]


def test_with_a_network_the_role_may_create_interfaces_in_its_subnets_with_its_groups_only() -> None:
    stack = _stack()
    network = EndpointNetwork.from_ids(
        stack, "Network", vpc_id=None, subnet_ids=["subnet-0a1b", "subnet-2c3d"], security_group_ids=["sg-0e4f"]
    )
    ModelExecutionRole(stack, "ExecutionRole", network=network)
    statements = _only(stack, "AWS::IAM::Policy")["Properties"]["PolicyDocument"]["Statement"]
    assert statements[0] == METRICS_STATEMENT
    create_in_own, create_where, share_or_delete, describe = statements[1:]
    subnets = stack.resolve(network.subnet_arns)
    assert create_in_own["Action"] == "ec2:CreateNetworkInterface"
    assert json.dumps(create_in_own["Resource"]).endswith(':network-interface/*"]]}')
    assert create_where["Resource"] == [*subnets, *stack.resolve(network.security_group_arns)]
    assert "subnet/subnet-0a1b" in json.dumps(subnets) and "security-group/sg-0e4f" in json.dumps(create_where)
    assert share_or_delete["Action"] == [
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
    ]
    assert share_or_delete["Condition"] == {"ArnLike": {"ec2:Subnet": subnets}}
    assert all(action.startswith("ec2:Describe") for action in describe["Action"]) and describe["Resource"] == "*"


def test_the_tgi_role_keeps_its_description() -> None:
    stack = _stack()
    TgiExecutionRole(stack, "ExecutionRole")
    assert _only(stack, "AWS::IAM::Role")["Properties"]["Description"] == "Runs the TGI container of a SageMaker model"


def test_the_log_group_grant_names_the_group_in_both_spellings_sagemaker_may_use() -> None:
    stack = _stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    grant_sagemaker_log_group(stack, role, "InferenceComponents", "Chat-A")
    (statement,) = _only(stack, "AWS::IAM::Policy")["Properties"]["PolicyDocument"]["Statement"]
    rendered = json.dumps(statement["Resource"])
    for name in ("Chat-A", "chat-a"):
        assert f':log-group:/aws/sagemaker/InferenceComponents/{name}"' in rendered
        assert f':log-group:/aws/sagemaker/InferenceComponents/{name}:log-stream:*"' in rendered
    assert rendered.count(":log-group:") == 4
