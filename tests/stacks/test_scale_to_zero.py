"""The default deployment scales to zero: inference component, managed instance scaling, wake-up alarm."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk.assertions import Match

from helpers import Synthesized

COMPONENT = "AWS::SageMaker::InferenceComponent"


def _resources(synth: Synthesized, resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in synth.raw()["Resources"].items() if v["Type"] == resource_type}


def _one(synth: Synthesized, resource_type: str) -> tuple[str, dict[str, Any]]:
    (item,) = _resources(synth, resource_type).items()
    return item


def test_endpoint_config_has_a_model_less_variant_with_managed_instance_scaling(default_app: Synthesized) -> None:
    sagemaker = {"Service": "sagemaker.amazonaws.com"}
    role_id = next(
        k
        for k, r in _resources(default_app, "AWS::IAM::Role").items()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == sagemaker
    )
    _, model = _one(default_app, "AWS::SageMaker::Model")
    default_app.template().has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ExecutionRoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
            # The variant names no model: the endpoint config carries the model's network settings too.
            "EnableNetworkIsolation": True,
            "VpcConfig": model["Properties"]["VpcConfig"],
            "KmsKeyId": Match.absent(),
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": Match.absent(),
                    "InstanceType": "ml.g5.2xlarge",
                    "InitialInstanceCount": 1,
                    "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2},
                    "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
                    "VolumeSizeInGB": Match.absent(),
                }
            ],
        },
    )


def test_component_serves_the_model_with_the_deployments_gpus_memory_and_timeouts(default_app: Synthesized) -> None:
    model_id, _ = _one(default_app, "AWS::SageMaker::Model")
    endpoint_id, endpoint = _one(default_app, "AWS::SageMaker::Endpoint")
    _, component = _one(default_app, COMPONENT)
    properties = component["Properties"]
    assert properties["EndpointName"] == endpoint["Properties"]["EndpointName"]  # a fixed, derived name
    assert endpoint_id in component["DependsOn"]  # named by string: the order is explicit
    assert properties["VariantName"] == "AllTraffic"
    assert properties["RuntimeConfig"] == {"CopyCount": 1}
    assert properties["Specification"] == {
        "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
        "ComputeResourceRequirements": {"NumberOfAcceleratorDevicesRequired": 1, "MinMemoryRequiredInMb": 16384},
        "StartupParameters": {
            "ModelDataDownloadTimeoutInSeconds": 1800,
            "ContainerStartupHealthCheckTimeoutInSeconds": 1800,
        },
    }
    name = properties["InferenceComponentName"]
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", name) and len(name) <= 63
    assert "TgiSageMakerr1distillllama8b" in name  # unique per stack (and so per deployment)


def test_the_alarm_adds_a_copy_to_the_component_on_this_endpoint(default_app: Synthesized) -> None:
    """Follow the references from the alarm to the endpoint; names are checked, not trusted."""
    alarms = _resources(default_app, "AWS::CloudWatch::Alarm").values()
    (alarm,) = [a["Properties"] for a in alarms if a["Properties"].get("MetricName") == "NoCapacityInvocationFailures"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SageMaker", "NoCapacityInvocationFailures")
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    (action,) = alarm["AlarmActions"]
    policies = _resources(default_app, "AWS::ApplicationAutoScaling::ScalingPolicy")
    step = policies[action["Ref"]]["Properties"]
    assert step["PolicyType"] == "StepScaling"
    assert step["StepScalingPolicyConfiguration"] == {
        "AdjustmentType": "ChangeInCapacity",
        "MetricAggregationType": "Maximum",
        "Cooldown": 300,
        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
    }
    target_id = step["ScalingTargetId"]["Ref"]
    target = _resources(default_app, "AWS::ApplicationAutoScaling::ScalableTarget")[target_id]
    components = _resources(default_app, COMPONENT)
    assert set(target["DependsOn"]) >= set(components)
    ((component_id, component),) = components.items()
    name = component["Properties"]["InferenceComponentName"]
    assert target["Properties"]["ResourceId"] == f"inference-component/{name}"
    assert target["Properties"]["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (0, 2)
    assert alarm["Dimensions"] == [{"Name": "InferenceComponentName", "Value": name}]
    (endpoint_ref,) = [
        key
        for key, resource in _resources(default_app, "AWS::SageMaker::Endpoint").items()
        if resource["Properties"]["EndpointName"] == component["Properties"]["EndpointName"]
    ]
    assert endpoint_ref in component["DependsOn"] and component_id != endpoint_ref


def test_target_tracking_on_concurrent_requests_per_copy_scales_the_same_target(default_app: Synthesized) -> None:
    target_id, _ = _one(default_app, "AWS::ApplicationAutoScaling::ScalableTarget")
    default_app.template().has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": target_id},
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
                },
                "TargetValue": 5,
                "ScaleInCooldown": 600,
                "ScaleOutCooldown": 120,
            },
        },
    )
