"""DeploymentDashboard over any served model: its capacity row is the model's, the copy rows only when given."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from tgi_sagemaker import (
    DeploymentDashboard,
    InferenceComponentEndpoint,
    InstanceEndpoint,
    ScalableInferenceComponent,
    TgiModel,
)


def _titles_and_metrics(stack: cdk.Stack) -> dict[str, list[list[Any]]]:
    (dashboard,) = Template.from_stack(stack).find_resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else "token" for part in parts)  # tokens stand inside strings
    widgets = json.loads(text)["widgets"]
    return {w["properties"]["title"]: w["properties"].get("metrics", []) for w in widgets}


def test_a_components_capacity_row_shows_instances_copies_and_requests_that_found_none(model: TgiModel) -> None:
    stack = cdk.Stack.of(model)
    endpoint = InferenceComponentEndpoint(stack, "Endpoint", role=model.role, instance_type="ml.g5.12xlarge")
    component = ScalableInferenceComponent(stack, "Chat", endpoint=endpoint, model=model, min_memory_mb=8192)
    DeploymentDashboard(stack, "Dashboard", serving=component)
    metrics = _titles_and_metrics(stack)
    assert [m[1] for m in metrics["Capacity"]] == ["CPUUtilization", "CopyCount", "NoCapacityInvocationFailures"]
    assert not [title for title in metrics if title.startswith("Weights copy")]


def test_the_copy_rows_show_the_state_machine_and_the_function_given(model: TgiModel) -> None:
    stack = cdk.Stack.of(model)
    endpoint = InstanceEndpoint(stack, "Endpoint", model=model, instance_type="ml.g5.2xlarge")
    machine = sfn.StateMachine.from_state_machine_name(stack, "Copy", "weights-copy")
    function = lambda_.Function.from_function_name(stack, "CopyFile", "copy-file")
    DeploymentDashboard(
        stack, "Dashboard", serving=endpoint, weights_copy_state_machine=machine, weights_copy_function=function
    )
    metrics = _titles_and_metrics(stack)
    assert [m[1] for m in metrics["Capacity"]] == ["CPUUtilization"]
    executions = metrics["Weights copy: executions"]
    assert [m[1] for m in executions] == ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"]
    copy_file = metrics["Weights copy: copy-file function"]
    assert [(m[0], m[1], m[2]) for m in copy_file] == [
        ("AWS/Lambda", "Invocations", "FunctionName"),
        ("AWS/Lambda", "Errors", "FunctionName"),
    ]
