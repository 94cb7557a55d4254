"""manage_function_log_groups: CDK's own helper functions get log groups that expire, once."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from tgi_sagemaker import EndpointNetwork, manage_function_log_groups


def test_function_log_groups_are_added_once_and_only_where_missing() -> None:
    stack = cdk.Stack(cdk.App(), "Net")
    EndpointNetwork(stack, "Network")  # restricting the default security group adds a CDK helper function
    first = manage_function_log_groups(stack, logs.RetentionDays.ONE_MONTH)
    assert len(first) == 1 and manage_function_log_groups(stack, logs.RetentionDays.ONE_MONTH) == []
    template = Template.from_stack(stack)
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    ((group_id, group),) = template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 30}}
    ).items()
    assert function["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": group_id}}
    assert group["DeletionPolicy"] == "RetainExceptOnCreate"
