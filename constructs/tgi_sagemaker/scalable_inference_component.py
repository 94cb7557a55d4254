"""A model as an inference component whose copies autoscale between zero and a maximum."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from tgi_sagemaker import defaults
from tgi_sagemaker.execution_role import grant_sagemaker_log_group
from tgi_sagemaker.inference_component_endpoint import InferenceComponentEndpoint
from tgi_sagemaker.prop_checks import (
    COOLDOWN_RANGE,
    STARTUP_TIMEOUT_RANGE,
    known_instance_type,
    raise_problems,
    startup_timeouts,
    within,
)
from tgi_sagemaker.serving_metrics import (
    COMPONENT_UTILIZATION_NAMESPACE,
    InvocationMetrics,
    Resource,
    sagemaker_metric,
)

_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")


class ScalableInferenceComponent(InvocationMetrics, Construct):
    """``AWS::SageMaker::InferenceComponent`` with copy-count autoscaling that reaches zero and wakes on demand.

    - target tracking on ``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution``;
    - scale out from zero: target tracking cannot leave 0 copies, so an alarm on ``NoCapacityInvocationFailures``
      (requests that found no copy) triggers a step policy that adds one copy.

    :param endpoint: the endpoint to join.
    :param model_name: the SageMaker model the component serves (``TgiModel.model_name``).
    :param accelerators_per_copy: GPUs a copy gets (``NumberOfAcceleratorDevicesRequired``; = SM_NUM_GPUS).
    :param min_memory_mb: host memory reserved for a copy (``MinMemoryRequiredInMb``, required by the API).
    :param min_copies: Default: 0 (scale to zero).
    :param max_copies: Default: 1.
    :param concurrent_requests_per_copy: target tracking target. Default: 5.
    :param scale_in_cooldown: Default: 10 minutes.
    :param scale_out_cooldown: Default: 2 minutes.
    :param scale_out_from_zero_cooldown: pause after the alarm added a copy, while it starts. Default: 5 minutes.
    :param model_data_download_timeout: Default: 30 minutes.
    :param container_startup_health_check_timeout: Default: 30 minutes.
    :param component_name: Default: derived from the construct path, unique in the stack's account and region,
        stable across updates (the autoscaling resource id is built from it; the API returns no name attribute).

    The endpoint's role may write the component's log group (``/aws/sagemaker/InferenceComponents/<name>``), where
    its containers log; ``grant_write_logs`` grants it to another role.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: InferenceComponentEndpoint,
        model_name: str,
        accelerators_per_copy: int,
        min_memory_mb: int,
        min_copies: int = defaults.MIN_COPIES,
        max_copies: int = 1,
        concurrent_requests_per_copy: float = defaults.CONCURRENT_REQUESTS_PER_COPY,
        scale_in_cooldown: cdk.Duration | None = None,
        scale_out_cooldown: cdk.Duration | None = None,
        scale_out_from_zero_cooldown: cdk.Duration | None = None,
        model_data_download_timeout: cdk.Duration | None = None,
        container_startup_health_check_timeout: cdk.Duration | None = None,
        component_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        cooldowns = {
            "scale_in_cooldown": _seconds(scale_in_cooldown, defaults.SCALE_IN_COOLDOWN_SECONDS),
            "scale_out_cooldown": _seconds(scale_out_cooldown, defaults.SCALE_OUT_COOLDOWN_SECONDS),
            "scale_out_from_zero_cooldown": _seconds(
                scale_out_from_zero_cooldown, defaults.SCALE_OUT_FROM_ZERO_COOLDOWN_SECONDS
            ),
        }
        timeouts = startup_timeouts(model_data_download_timeout, container_startup_health_check_timeout)
        self.component_name = component_name or cdk.Names.unique_resource_name(self, max_length=63, separator="-")
        _validate(
            endpoint,
            self.component_name,
            accelerators_per_copy,
            min_memory_mb,
            min_copies,
            max_copies,
            concurrent_requests_per_copy,
            cooldowns,
            timeouts,
        )
        self.endpoint = endpoint
        self.component = sagemaker.CfnInferenceComponent(
            self,
            "Component",
            inference_component_name=self.component_name,
            endpoint_name=endpoint.endpoint_name,
            variant_name=endpoint.variant_name,
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                model_name=model_name,
                compute_resource_requirements=sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                    number_of_accelerator_devices_required=accelerators_per_copy,
                    min_memory_required_in_mb=min_memory_mb,
                ),
                startup_parameters=sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                    model_data_download_timeout_in_seconds=int(timeouts["model_data_download_timeout"]),
                    container_startup_health_check_timeout_in_seconds=int(
                        timeouts["container_startup_health_check_timeout"]
                    ),
                ),
            ),
            # Created with one copy (whether the API takes 0 at create is unverified); autoscaling takes it to 0.
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(copy_count=1),
        )
        # The endpoint is named by a plain string: the component must still wait for it to exist.
        self.component.node.add_dependency(endpoint.endpoint)
        self.grant_write_logs(endpoint.role)
        self.scalable_target = appscaling.ScalableTarget(
            self,
            "ScalableTarget",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"inference-component/{self.component_name}",
            scalable_dimension="sagemaker:inference-component:DesiredCopyCount",
            min_capacity=min_copies,
            max_capacity=max_copies,
        )
        # The resource id is a plain string: without this, CloudFormation could register it before the component.
        self.scalable_target.node.add_dependency(self.component)
        self.target_tracking_policy = self.scalable_target.scale_to_track_metric(
            "ConcurrentRequestsPerCopy",
            target_value=concurrent_requests_per_copy,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION,
            scale_in_cooldown=cdk.Duration.seconds(cooldowns["scale_in_cooldown"]),
            scale_out_cooldown=cdk.Duration.seconds(cooldowns["scale_out_cooldown"]),
        )
        self.scale_out_from_zero_action = appscaling.StepScalingAction(
            self,
            "ScaleOutFromZero",
            scaling_target=self.scalable_target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
            cooldown=cdk.Duration.seconds(cooldowns["scale_out_from_zero_cooldown"]),
        )
        self.scale_out_from_zero_action.add_adjustment(adjustment=1, lower_bound=0)
        self.scale_out_from_zero_alarm = cloudwatch.Alarm(
            self,
            "NoCapacityAlarm",
            alarm_description="Requests found no copy of the model: add one (scale out from zero)",
            metric=self.metric("NoCapacityInvocationFailures", statistic="Maximum"),
            threshold=1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.scale_out_from_zero_alarm.add_alarm_action(
            cloudwatch_actions.ApplicationScalingAction(self.scale_out_from_zero_action)
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke this component (streaming or not) through its endpoint."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self.endpoint.endpoint_arn],
        )

    def grant_write_logs(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to create and write this component's log group, where its containers log."""
        return grant_sagemaker_log_group(self, grantee, "InferenceComponents", self.component_name)

    def configure_updates(
        self, *, bake_time: cdk.Duration | None = None, rollback_alarms: Sequence[cloudwatch.IAlarm] = ()
    ) -> None:
        """A new model reaches the component one copy at a time, ``bake_time`` between copies; any of
        ``rollback_alarms`` in ALARM meanwhile rolls it back (one copy at a time). Default bake time: 10 minutes.

        The alarms must not depend on the component: build them from this construct's ``metric_*`` helpers,
        which name the component by ``component_name``, not by a CloudFormation attribute.
        """
        one_copy = sagemaker.CfnInferenceComponent.InferenceComponentCapacitySizeProperty(type="COPY_COUNT", value=1)
        rollback = None
        if rollback_alarms:
            rollback = sagemaker.CfnInferenceComponent.AutoRollbackConfigurationProperty(
                alarms=[sagemaker.CfnInferenceComponent.AlarmProperty(alarm_name=a.alarm_name) for a in rollback_alarms]
            )
        self.component.deployment_config = sagemaker.CfnInferenceComponent.InferenceComponentDeploymentConfigProperty(
            rolling_update_policy=sagemaker.CfnInferenceComponent.InferenceComponentRollingUpdatePolicyProperty(
                maximum_batch_size=one_copy,
                rollback_maximum_batch_size=one_copy,
                wait_interval_in_seconds=int((bake_time or cdk.Duration.minutes(10)).to_seconds()),
            ),
            auto_rollback_configuration=rollback,
        )

    def metric_no_capacity_failures(self) -> cloudwatch.Metric:
        """Requests that found no copy: each one while scaled to zero (the wake-up alarm watches its maximum)."""
        return self.metric("NoCapacityInvocationFailures", statistic="Sum")

    def metric_utilization_percent(self, resource: Resource) -> cloudwatch.Metric:
        """0-100 of what the copies reserved (``...UtilizationNormalized``)."""
        return sagemaker_metric(COMPONENT_UTILIZATION_NAMESPACE, f"{resource}UtilizationNormalized", self._dimensions)

    def metric_copy_count(self) -> cloudwatch.Metric:
        return sagemaker_metric(
            COMPONENT_UTILIZATION_NAMESPACE, "CopyCount", self._dimensions, statistic="Maximum", label="copies"
        )

    @property
    def _dimensions(self) -> dict[str, str]:
        return {"InferenceComponentName": self.component_name}


def _validate(
    endpoint: InferenceComponentEndpoint,
    name: str,
    accelerators: int,
    min_memory_mb: int,
    min_copies: int,
    max_copies: int,
    target: float,
    cooldowns: dict[str, float],
    timeouts: dict[str, float],
) -> None:
    problems: list[str] = []
    if not cdk.Token.is_unresolved(name) and not (len(name) <= 63 and _NAME.match(name)):
        problems.append(f"component_name {name!r} must be 1-63 letters, digits and '-', not starting with '-'")
    instance = known_instance_type(endpoint.instance_type, problems)
    if accelerators < 1:
        problems.append(f"accelerators_per_copy {accelerators} must be >= 1")
    elif instance is not None and accelerators > instance.gpu_count:
        problems.append(
            f"accelerators_per_copy {accelerators} is above the {instance.gpu_count} GPU(s) of {instance.name}"
        )
    if instance is not None and not 1 <= min_memory_mb <= instance.memory_gib * 1024:
        problems.append(
            f"min_memory_mb {min_memory_mb} must be between 1 and {instance.memory_gib * 1024} on {instance.name}"
        )
    if min_copies < 0:
        problems.append(f"min_copies {min_copies} must be >= 0")
    if max_copies < max(1, min_copies):
        problems.append(f"max_copies {max_copies} must be >= 1 and >= min_copies {min_copies}")
    if instance is not None and accelerators >= 1:
        room = endpoint.max_instances * (instance.gpu_count // accelerators)
        if max_copies > room:
            problems.append(
                f"max_copies {max_copies} do not fit on {endpoint.max_instances} x {instance.name} ({room} fit)"
            )
    if target <= 0:
        problems.append(f"concurrent_requests_per_copy {target} must be > 0")
    within(cooldowns, COOLDOWN_RANGE, problems)
    within(timeouts, STARTUP_TIMEOUT_RANGE, problems)
    raise_problems("ScalableInferenceComponent", problems)


def _seconds(duration: cdk.Duration | None, default_seconds: int) -> float:
    return duration.to_seconds() if duration is not None else float(default_seconds)
