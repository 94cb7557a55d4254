"""ScalableCount: the one place a SageMaker count is registered with Application Auto Scaling."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Match, Template
from constructs import Construct

from tgi_sagemaker import ScalableCopyCount


def _component(owner: Construct) -> sagemaker.CfnInferenceComponent:
    specification = sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(model_name="m")
    return sagemaker.CfnInferenceComponent(
        owner, "Component", endpoint_name="e", inference_component_name="chat", specification=specification
    )


def test_a_copy_count_is_registered_after_its_component_and_wakes_from_zero(stack: cdk.Stack) -> None:
    owner = Construct(stack, "Chat")
    component = _component(owner)
    count = ScalableCopyCount(
        owner, scaled=component, resource_id="inference-component/chat", min_capacity=0, max_capacity=3
    )
    count.scale_on_concurrent_requests(
        requests_per_copy=4, scale_in_cooldown=cdk.Duration.minutes(10), scale_out_cooldown=cdk.Duration.minutes(2)
    )
    no_capacity = cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="NoCapacityInvocationFailures")
    action, alarm = count.scale_out_from_zero(no_capacity_failures=no_capacity, cooldown=cdk.Duration.minutes(5))
    assert {child.node.id for child in owner.node.children} == {
        "Component",
        "ScalableTarget",
        "ScaleOutFromZero",
        "NoCapacityAlarm",
    }  # the owner's children, under the ids deployed stacks already have
    template = Template.from_stack(stack)
    ((target_id, target),) = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").items()
    assert target["Properties"]["ResourceId"] == "inference-component/chat"
    assert target["Properties"]["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert target["DependsOn"] == [stack.get_logical_id(component)]
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "StepScaling",
            "ScalingTargetId": {"Ref": target_id},
            "StepScalingPolicyConfiguration": Match.object_like(
                {"Cooldown": 300, "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]}
            ),
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"AlarmActions": [{"Ref": stack.get_logical_id(action.node.default_child)}], "Threshold": 1},  # type: ignore[arg-type]
    )
    assert alarm.metric is no_capacity
