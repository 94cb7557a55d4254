"""What Application Auto Scaling moves for a served model: an endpoint variant's instances or a component's copies.

Written once for both serving constructs, as aws-cdk's ``Endpoint.autoScaleInstanceCount()`` returns a
``ScalableInstanceCount``. Unlike aws-cdk's ``BaseScalableAttribute``, a count is not a construct of its own: its
scalable target, policies and alarm are children of the serving construct, under the ids they have always had
(``ScalableTarget``, ``InvocationsPerInstance``...), so that deployed stacks keep their resources.
"""

from __future__ import annotations

from typing import ClassVar

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from constructs import Construct, IConstruct


class ScalableCount:
    """A SageMaker count (``DIMENSION``) of ``resource_id`` between ``min_capacity`` and ``max_capacity``,
    registered once ``scaled`` exists.

    ``scalable_target`` is the ``appscaling.ScalableTarget``: add scheduled or step scaling to it as to any other.
    """

    DIMENSION: ClassVar[str]

    def __init__(
        self, owner: Construct, *, scaled: IConstruct, resource_id: str, min_capacity: int, max_capacity: int
    ) -> None:
        self._owner = owner
        self.scalable_target = appscaling.ScalableTarget(
            owner,
            "ScalableTarget",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=resource_id,
            scalable_dimension=self.DIMENSION,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
        )
        # The resource id is a plain string: without this, CloudFormation could register it before what it scales.
        self.scalable_target.node.add_dependency(scaled)

    def scale_to_track(
        self,
        policy_id: str,
        *,
        predefined_metric: appscaling.PredefinedMetric,
        target_value: float,
        scale_in_cooldown: cdk.Duration,
        scale_out_cooldown: cdk.Duration,
    ) -> appscaling.TargetTrackingScalingPolicy:
        """Target tracking on one of SageMaker's predefined metrics."""
        return self.scalable_target.scale_to_track_metric(
            policy_id,
            target_value=target_value,
            predefined_metric=predefined_metric,
            scale_in_cooldown=scale_in_cooldown,
            scale_out_cooldown=scale_out_cooldown,
        )


class ScalableInstanceCount(ScalableCount):
    """The instance count of an endpoint variant (resource id ``endpoint/<endpoint>/variant/<variant>``)."""

    DIMENSION = "sagemaker:variant:DesiredInstanceCount"

    def scale_on_invocations(
        self, *, invocations_per_instance: float, scale_in_cooldown: cdk.Duration, scale_out_cooldown: cdk.Duration
    ) -> appscaling.TargetTrackingScalingPolicy:
        """Keep ``SageMakerVariantInvocationsPerInstance`` (a minute's requests per instance) near the target."""
        return self.scale_to_track(
            "InvocationsPerInstance",
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            target_value=invocations_per_instance,
            scale_in_cooldown=scale_in_cooldown,
            scale_out_cooldown=scale_out_cooldown,
        )


class ScalableCopyCount(ScalableCount):
    """The copy count of an inference component (resource id ``inference-component/<component>``), which may
    reach zero."""

    DIMENSION = "sagemaker:inference-component:DesiredCopyCount"

    def scale_on_concurrent_requests(
        self, *, requests_per_copy: float, scale_in_cooldown: cdk.Duration, scale_out_cooldown: cdk.Duration
    ) -> appscaling.TargetTrackingScalingPolicy:
        """Keep concurrent requests per copy near the target (high resolution: scale-out in about 30 s)."""
        return self.scale_to_track(
            "ConcurrentRequestsPerCopy",
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION,
            target_value=requests_per_copy,
            scale_in_cooldown=scale_in_cooldown,
            scale_out_cooldown=scale_out_cooldown,
        )

    def scale_out_from_zero(
        self, *, no_capacity_failures: cloudwatch.IMetric, cooldown: cdk.Duration
    ) -> tuple[appscaling.StepScalingAction, cloudwatch.Alarm]:
        """Target tracking cannot leave zero copies: an alarm on requests that found no copy (their maximum a
        minute) adds one, and waits ``cooldown`` while it starts."""
        action = appscaling.StepScalingAction(
            self._owner,
            "ScaleOutFromZero",
            scaling_target=self.scalable_target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
            cooldown=cooldown,
        )
        action.add_adjustment(adjustment=1, lower_bound=0)
        alarm = cloudwatch.Alarm(
            self._owner,
            "NoCapacityAlarm",
            alarm_description="Requests found no copy of the model: add one (scale out from zero)",
            metric=no_capacity_failures,
            threshold=1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.ApplicationScalingAction(action))
        return action, alarm
