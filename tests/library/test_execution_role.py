"""TgiExecutionRole on its own: trusted by SageMaker of this account, network interfaces only where given."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from tgi_sagemaker import EndpointNetwork, TgiExecutionRole


def _statements(stack: cdk.Stack) -> list[dict[str, Any]]:
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    return [statement for policy in policies for statement in policy["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_without_a_network_the_role_may_publish_sagemaker_metrics_and_nothing_of_ec2(stack: cdk.Stack) -> None:
    TgiExecutionRole(stack, "Role")
    (role,) = Template.from_stack(stack).find_resources("AWS::IAM::Role").values()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (metrics,) = _statements(stack)
    assert metrics["Action"] == "cloudwatch:PutMetricData"
    assert metrics["Condition"] == {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}


def test_with_a_network_interfaces_are_created_in_its_subnets_and_groups_only(stack: cdk.Stack) -> None:
    network = EndpointNetwork.from_ids(
        stack, "Network", vpc_id=None, subnet_ids=["subnet-0a1b2c3d"], security_group_ids=["sg-0a1b2c3d"]
    )
    TgiExecutionRole(stack, "Role", network=network)
    statements = _statements(stack)
    creates = [s for s in statements if _actions(s) == ["ec2:CreateNetworkInterface"]]
    resources = [
        stack.resolve(r)
        for s in creates
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    rendered = str(resources)
    assert "subnet/subnet-0a1b2c3d" in rendered and "security-group/sg-0a1b2c3d" in rendered
    (shares,) = [s for s in statements if "ec2:DeleteNetworkInterface" in _actions(s)]
    assert "subnet/subnet-0a1b2c3d" in str(shares["Condition"]["ArnLike"]["ec2:Subnet"])
