"""The operations constructs compose on their own: per-component alarms and dashboards, no dependency cycles."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from tgi_sagemaker import (
    DeploymentAlarms,
    DeploymentDashboard,
    EndpointNetwork,
    HubWeights,
    InferenceComponentEndpoint,
    InstanceEndpoint,
    ScalableInferenceComponent,
    TgiImage,
    TgiModel,
    manage_function_log_groups,
)


def _model(stack: cdk.Stack) -> TgiModel:
    return TgiModel(
        stack,
        "Model",
        image=TgiImage.of("3.3.6"),
        weights=HubWeights(repo_id="deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"),
    )


def test_each_component_gets_its_own_alarms_and_rollback_and_the_stack_has_no_cycle() -> None:
    stack = cdk.Stack(cdk.App(), "Platform")
    model = _model(stack)
    endpoint = InferenceComponentEndpoint(stack, "Endpoint", role=model.role, instance_type="ml.g5.12xlarge")
    names = []
    for team in ("Chat", "Batch"):
        component = ScalableInferenceComponent(
            stack, team, endpoint=endpoint, model_name=model.model_name, accelerators_per_copy=2, min_memory_mb=8192
        )
        alarms = DeploymentAlarms(stack, f"{team}Alarms", serving=component, error_rate_threshold_percent=1)
        component.configure_updates(rollback_alarms=alarms.rollback_alarms, bake_time=cdk.Duration.minutes(3))
        DeploymentDashboard(stack, f"{team}Dashboard", serving=component, alarms=alarms.alarms)
        names.append(component.component_name)
    template = Template.from_stack(stack)  # a dependency cycle would raise here
    template.resource_count_is("AWS::CloudWatch::Dashboard", 2)
    for name in names:
        dimension = [{"Name": "InferenceComponentName", "Value": name}]
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm", {"MetricName": "ModelLatency", "Dimensions": dimension}
        )
    components = template.find_resources("AWS::SageMaker::InferenceComponent").values()
    assert all(
        c["Properties"]["DeploymentConfig"]["RollingUpdatePolicy"]["WaitIntervalInSeconds"] == 180 for c in components
    )


def test_instance_endpoint_updates_without_rollback_alarms() -> None:
    stack = cdk.Stack(cdk.App(), "Solo")
    model = _model(stack)
    endpoint = InstanceEndpoint(stack, "Endpoint", model_name=model.model_name, instance_type="ml.g5.2xlarge")
    endpoint.configure_updates(strategy="rolling")
    (resource,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Endpoint").values()
    assert resource["Properties"]["DeploymentConfig"] == {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
            "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
            "WaitIntervalInSeconds": 600,
        }
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"error_rate_threshold_percent": 0}, "error_rate_threshold_percent 0 must be above 0 and at most 100"),
        ({"gpu_memory_percent": 120}, "gpu_memory_percent 120 must be above 0 and at most 100"),
    ],
)
def test_alarm_thresholds_are_checked(kwargs: dict[str, float], message: str) -> None:
    stack = cdk.Stack(cdk.App(), "Bad")
    model = _model(stack)
    endpoint = InstanceEndpoint(stack, "Endpoint", model_name=model.model_name, instance_type="ml.g5.2xlarge")
    with pytest.raises(ValueError, match=f"DeploymentAlarms: {message}"):
        DeploymentAlarms(stack, "Alarms", serving=endpoint, **kwargs)  # type: ignore[arg-type]


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


def test_instance_gpu_figures_are_divided_by_the_gpu_count_component_ones_are_not() -> None:
    stack = cdk.Stack(cdk.App(), "Gpus")
    model = _model(stack)
    four = InstanceEndpoint(stack, "Four", model_name=model.model_name, instance_type="ml.g5.12xlarge")
    one = InstanceEndpoint(stack, "One", model_name=model.model_name, instance_type="ml.g5.2xlarge")
    memory = four.metric_utilization_percent("GPUMemory")
    assert isinstance(memory, cloudwatch.MathExpression) and memory.expression == "gpumemory_summed / 4"
    (summed,) = memory.using_metrics.values()
    assert (summed.namespace, summed.metric_name) == ("/aws/sagemaker/Endpoints", "GPUMemoryUtilization")
    assert isinstance(four.metric_utilization_percent("CPU"), cloudwatch.Metric)  # CPU is already a percentage
    assert isinstance(one.metric_utilization_percent("GPU"), cloudwatch.Metric)  # one GPU: nothing to divide
    endpoint = InferenceComponentEndpoint(stack, "Shared", role=model.role, instance_type="ml.g5.12xlarge")
    component = ScalableInferenceComponent(
        stack, "Component", endpoint=endpoint, model_name=model.model_name, accelerators_per_copy=2, min_memory_mb=8192
    )
    normalized = component.metric_utilization_percent("GPUMemory")
    assert (normalized.namespace, normalized.metric_name) == (
        "/aws/sagemaker/InferenceComponents",
        "GPUMemoryUtilizationNormalized",
    )
