"""IServedModel: both serving constructs grant, measure, update and report capacity the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from tgi_sagemaker import (
    InferenceComponentEndpoint,
    InstanceEndpoint,
    IServedModel,
    ScalableInferenceComponent,
    TgiModel,
)

MakeModel = Callable[..., TgiModel]


def _instance_endpoint(stack: cdk.Stack, model: TgiModel) -> IServedModel:
    return InstanceEndpoint(stack, "Served", model=model, instance_type="ml.g5.2xlarge")


def _component(stack: cdk.Stack, model: TgiModel) -> IServedModel:
    endpoint = InferenceComponentEndpoint(stack, "Endpoint", role=model.role, instance_type="ml.g5.2xlarge")
    return ScalableInferenceComponent(stack, "Served", endpoint=endpoint, model=model, min_memory_mb=4096)


SERVING = pytest.mark.parametrize("serve", [_instance_endpoint, _component], ids=["instances", "component"])


@SERVING
def test_grant_invoke_allows_invoking_the_endpoint_that_serves_the_model(
    stack: cdk.Stack, make_model: MakeModel, serve: Callable[[cdk.Stack, TgiModel], IServedModel]
) -> None:
    """A component's grant names its own ARN beside the endpoint's: SageMaker then refuses its other components."""
    served = serve(stack, make_model(environment={"SM_NUM_GPUS": "1"}))
    served.grant_invoke(iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal()))
    template = Template.from_stack(stack)
    (endpoint_id,) = template.find_resources("AWS::SageMaker::Endpoint")
    components = list(template.find_resources("AWS::SageMaker::InferenceComponent"))
    resources: Any = {"Ref": endpoint_id}
    if components:
        resources = [resources, {"Fn::GetAtt": [components[0], "InferenceComponentArn"]}]
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("Caller")}],
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
                            "Resource": resources,
                        }
                    )
                ]
            },
        },
    )


@SERVING
def test_metric_options_go_over_the_helpers_defaults_and_the_dimensions_stay(
    stack: cdk.Stack, make_model: MakeModel, serve: Callable[[cdk.Stack, TgiModel], IServedModel]
) -> None:
    served = serve(stack, make_model(environment={"SM_NUM_GPUS": "1"}))
    default = served.metric_invocations()
    assert (default.statistic, default.period.to_seconds(), default.label) == ("Sum", 60, None)
    five = cdk.Duration.minutes(5)
    chosen = served.metric_invocations(statistic="SampleCount", period=five, label="requests", color="#ff0000")
    assert (chosen.statistic, chosen.period.to_seconds(), chosen.label, chosen.color) == (
        "SampleCount",
        300,
        "requests",
        "#ff0000",
    )
    assert stack.resolve(chosen.dimensions) == stack.resolve(default.dimensions)
    latency = served.metric_model_latency("p99", period=five)
    assert (latency.metric_name, latency.statistic, latency.period.to_seconds()) == ("ModelLatency", "p99", 300)
    errors = served.metric_invocation_errors("4XX", statistic="Average")
    assert (errors.metric_name, errors.statistic) == ("Invocation4XXErrors", "Average")
    utilization = served.metric_utilization_percent("GPUMemory", period=five)
    assert isinstance(utilization, cloudwatch.Metric) and utilization.period.to_seconds() == 300


@SERVING
def test_capacity_starts_with_the_instances_and_updates_take_the_default_strategy(
    stack: cdk.Stack, make_model: MakeModel, serve: Callable[[cdk.Stack, TgiModel], IServedModel]
) -> None:
    served = serve(stack, make_model(environment={"SM_NUM_GPUS": "1"}))
    instances = served.capacity_metrics()[0]
    assert isinstance(instances, cloudwatch.Metric)
    assert (instances.namespace, instances.metric_name, instances.statistic) == (
        "/aws/sagemaker/Endpoints",
        "CPUUtilization",
        "SampleCount",
    )
    served.configure_updates(bake_time=cdk.Duration.minutes(4))
    template = Template.from_stack(stack)
    resources = [
        *template.find_resources("AWS::SageMaker::Endpoint").values(),
        *template.find_resources("AWS::SageMaker::InferenceComponent").values(),
    ]
    (config,) = [r["Properties"]["DeploymentConfig"] for r in resources if "DeploymentConfig" in r["Properties"]]
    if isinstance(served, InstanceEndpoint):  # blue/green: the old fleet waits out the bake time
        assert config["BlueGreenUpdatePolicy"]["TerminationWaitInSeconds"] == 240
    else:  # copy by copy, the bake time between copies
        assert config["RollingUpdatePolicy"]["WaitIntervalInSeconds"] == 240
