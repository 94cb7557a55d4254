"""DeploymentAlarms over any served model: per-component alarms and rollback, thresholds, the copy's failures."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Template

from tgi_sagemaker import (
    DeploymentAlarms,
    InferenceComponentEndpoint,
    InstanceEndpoint,
    ScalableInferenceComponent,
    TgiModel,
)


def test_each_component_gets_its_own_alarms_and_rollback_and_the_stack_has_no_cycle(model: TgiModel) -> None:
    stack = cdk.Stack.of(model)
    endpoint = InferenceComponentEndpoint(stack, "Endpoint", role=model.role, instance_type="ml.g5.12xlarge")
    names = []
    for team in ("Chat", "Batch"):
        component = ScalableInferenceComponent(stack, team, endpoint=endpoint, model=model, min_memory_mb=8192)
        alarms = DeploymentAlarms(stack, f"{team}Alarms", serving=component, error_rate_threshold_percent=1)
        component.configure_updates(rollback_alarms=alarms.rollback_alarms, bake_time=cdk.Duration.minutes(3))
        names.append(component.component_name)
    template = Template.from_stack(stack)  # a dependency cycle would raise here
    for name in names:
        dimension = [{"Name": "InferenceComponentName", "Value": name}]
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm", {"MetricName": "ModelLatency", "Dimensions": dimension, "Period": 300}
        )
    for component in template.find_resources("AWS::SageMaker::InferenceComponent").values():
        config = component["Properties"]["DeploymentConfig"]
        assert config["RollingUpdatePolicy"]["WaitIntervalInSeconds"] == 180
        assert len(config["AutoRollbackConfiguration"]["Alarms"]) == 2  # 5xx rate and latency


def test_a_failed_copy_is_an_alarm_on_the_metric_given(model: TgiModel) -> None:
    stack = cdk.Stack.of(model)
    endpoint = InstanceEndpoint(stack, "Endpoint", model=model, instance_type="ml.g5.12xlarge")
    failures = cloudwatch.Metric(namespace="Copies", metric_name="Failed", statistic="Sum")
    alarms = DeploymentAlarms(stack, "Alarms", serving=endpoint, weights_copy_failures=failures)
    assert alarms.weights_copy_alarm is not None and alarms.weights_copy_alarm in alarms.alarms
    assert alarms.weights_copy_alarm not in alarms.rollback_alarms  # a copy failure is no reason to roll back
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "Copies",
            "MetricName": "Failed",
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
        },
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"error_rate_threshold_percent": 0}, "error_rate_threshold_percent 0 must be above 0 and at most 100"),
        ({"gpu_memory_percent": 120}, "gpu_memory_percent 120 must be above 0 and at most 100"),
        ({"model_latency_p90": cdk.Duration.hours(2)}, "model_latency_p90 7200s must be above 0 and at most 3600"),
    ],
)
def test_alarm_thresholds_are_checked(model: TgiModel, kwargs: dict[str, object], message: str) -> None:
    stack = cdk.Stack.of(model)
    endpoint = InstanceEndpoint(stack, "Endpoint", model=model, instance_type="ml.g5.12xlarge")
    with pytest.raises(ValueError, match=f"DeploymentAlarms: {message}"):
        DeploymentAlarms(stack, "Alarms", serving=endpoint, **kwargs)  # type: ignore[arg-type]
