"""An instance-based SageMaker endpoint for one model, with target-tracking autoscaling on invocations."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct
from typing_extensions import Unpack

from tgi_sagemaker import defaults, limits
from tgi_sagemaker.compliance import GPU_COUNT_UNKNOWN_WARNING, acknowledge_local_nvme_encryption
from tgi_sagemaker.execution_role import grant_sagemaker_log_group
from tgi_sagemaker.instance_type import InstanceType
from tgi_sagemaker.prop_checks import (
    COOLDOWN_RANGE,
    STARTUP_TIMEOUT_RANGE,
    bake_time_seconds,
    instance_type_of,
    model_problems,
    raise_problems,
    seconds,
    startup_timeouts,
    within,
)
from tgi_sagemaker.scalable_count import ScalableInstanceCount
from tgi_sagemaker.served_model import UpdateStrategy
from tgi_sagemaker.serving_metrics import (
    ENDPOINT_UTILIZATION_NAMESPACE,
    InvocationMetrics,
    MetricOptions,
    Resource,
    instance_count_metric,
    sagemaker_metric,
)
from tgi_sagemaker.serving_model import ServingModel


class InstanceEndpoint(InvocationMetrics, Construct):
    """Endpoint config + endpoint with one instance-based production variant, and its autoscaling.

    Serves a model (``IServedModel``): ``grant_invoke``, ``configure_updates``, ``metric_*``, ``capacity_metrics``.

    :param model: the model to serve. Its execution role may write the endpoint's log group
        (``/aws/sagemaker/Endpoints/<endpoint_name>``), where the container logs.
    :param instance_type: an ``InstanceType`` or its name, e.g. ``ml.g5.2xlarge``. A type the catalog does not list
        (or a token) is accepted: the checks that need its figures are skipped, and GPU utilization stays summed
        over its GPUs (a warning says so) unless ``InstanceType.of(name, gpu_count=N)`` declares them.
    :param min_instances: lower bound of autoscaling and the initial count. Default: 1.
    :param max_instances: upper bound of autoscaling. Default: 2.
    :param invocations_per_instance: target of ``SageMakerVariantInvocationsPerInstance`` (per minute). Default: 30.
    :param scale_in_cooldown: Default: 10 minutes.
    :param scale_out_cooldown: Default: 2 minutes.
    :param model_data_download_timeout: ``ModelDataDownloadTimeoutInSeconds``. Default: 30 minutes.
    :param container_startup_health_check_timeout: ``ContainerStartupHealthCheckTimeoutInSeconds``: how long
        TGI may take to download, load and warm up before /ping must answer. Default: 30 minutes.
    :param variant_name: Default: ``AllTraffic``.
    :param endpoint_name: Default: derived from the construct path, unique in the stack's account and region. Set
        here rather than by CloudFormation so that alarms on the endpoint's metrics can exist before it does: the
        endpoint's update policy names them for rollback (``configure_updates``).

    No ``KmsKeyId`` and no ``VolumeSizeInGB``: every GPU instance type here has local NVMe storage (encrypted by
    the hardware), for which CreateEndpointConfig rejects both.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model: ServingModel,
        instance_type: InstanceType | str,
        min_instances: int = defaults.MIN_INSTANCES_WITH_INSTANCES,
        max_instances: int = defaults.MAX_INSTANCES,
        invocations_per_instance: float = defaults.INVOCATIONS_PER_INSTANCE,
        scale_in_cooldown: cdk.Duration | None = None,
        scale_out_cooldown: cdk.Duration | None = None,
        model_data_download_timeout: cdk.Duration | None = None,
        container_startup_health_check_timeout: cdk.Duration | None = None,
        variant_name: str = defaults.VARIANT_NAME,
        endpoint_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        timeouts = startup_timeouts(model_data_download_timeout, container_startup_health_check_timeout)
        cooldowns = {
            "scale_in_cooldown": seconds(scale_in_cooldown, defaults.SCALE_IN_COOLDOWN_SECONDS),
            "scale_out_cooldown": seconds(scale_out_cooldown, defaults.SCALE_OUT_COOLDOWN_SECONDS),
        }
        self.instance_type = _validate(
            model, instance_type, min_instances, max_instances, invocations_per_instance, cooldowns, timeouts
        )
        self.model = model
        self.variant_name = variant_name
        self.endpoint_name = endpoint_name or cdk.Names.unique_resource_name(self, max_length=63, separator="-")
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=variant_name,
                    model_name=model.model_name,
                    instance_type=self.instance_type.name,
                    initial_instance_count=min_instances,
                    # The AMI whose driver the model's image needs (CUDA 13); None: SageMaker's default.
                    inference_ami_version=model.runtime.inference_ami_version,
                    model_data_download_timeout_in_seconds=int(timeouts["model_data_download_timeout"]),
                    container_startup_health_check_timeout_in_seconds=int(
                        timeouts["container_startup_health_check_timeout"]
                    ),
                    routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                        routing_strategy="LEAST_OUTSTANDING_REQUESTS"
                    ),
                )
            ],
        )
        acknowledge_local_nvme_encryption(self.endpoint_config, self.instance_type)
        if self.instance_type.gpu_count is None:
            cdk.Annotations.of(self).add_warning_v2(
                GPU_COUNT_UNKNOWN_WARNING,
                "SageMaker sums GPU utilization over an instance's GPUs (0-100 x GPUs) and how many "
                f"{self.instance_type} has is unknown here: GPU graphs and alarms read the sum. "
                "Fix: InstanceType.of(name, gpu_count=N)",
            )
        self.grant_write_logs(model.role)
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )
        self.instance_count = ScalableInstanceCount(
            self,
            scaled=self.endpoint,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{variant_name}",
            min_capacity=min_instances,
            max_capacity=max_instances,
        )
        self.scalable_target = self.instance_count.scalable_target
        self.scaling_policy = self.instance_count.scale_on_invocations(
            invocations_per_instance=invocations_per_instance,
            scale_in_cooldown=cdk.Duration.seconds(cooldowns["scale_in_cooldown"]),
            scale_out_cooldown=cdk.Duration.seconds(cooldowns["scale_out_cooldown"]),
        )

    @property
    def endpoint_arn(self) -> str:
        return self.endpoint.ref

    def configure_updates(
        self,
        *,
        strategy: UpdateStrategy | None = None,
        bake_time: cdk.Duration | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        """How a new model or instance type reaches the endpoint, and what rolls it back.

        ``blue_green`` (the default): a whole new fleet, all traffic at once, the old fleet kept for ``bake_time``
        while the alarms watch (needs room for twice the instances). ``rolling``: one instance at a time,
        ``bake_time`` between steps. Any of ``rollback_alarms`` in ALARM during the update rolls it back; an alarm
        already in ALARM when an update starts stops it, so fix or silence it first. Default bake time: 10 minutes.
        """
        bake = bake_time_seconds("InstanceEndpoint", bake_time)
        strategy = strategy or "blue_green"
        one_instance = sagemaker.CfnEndpoint.CapacitySizeProperty(type="INSTANCE_COUNT", value=1)
        rollback = None
        if rollback_alarms:
            rollback = sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=alarm.alarm_name) for alarm in rollback_alarms]
            )
        self.endpoint.deployment_config = sagemaker.CfnEndpoint.DeploymentConfigProperty(
            auto_rollback_configuration=rollback,
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(type="ALL_AT_ONCE"),
                termination_wait_in_seconds=bake,
            )
            if strategy == "blue_green"
            else None,
            rolling_update_policy=sagemaker.CfnEndpoint.RollingUpdatePolicyProperty(
                maximum_batch_size=one_instance, wait_interval_in_seconds=bake, rollback_maximum_batch_size=one_instance
            )
            if strategy == "rolling"
            else None,
        )

    def grant_write_logs(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` (the model's execution role) to create and write the endpoint's log group."""
        return grant_sagemaker_log_group(self, grantee, "Endpoints", self.endpoint_name)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke the endpoint, streaming or not."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self.endpoint_arn],
        )

    def metric_utilization_percent(self, resource: Resource, **options: Unpack[MetricOptions]) -> cloudwatch.IMetric:
        """0-100. SageMaker sums GPU figures over the instance's GPUs (0-100 x GPUs): divided here when the
        instance type's GPU count is known. Default: the average over one minute."""
        label = options.pop("label", None)
        metric = sagemaker_metric(ENDPOINT_UTILIZATION_NAMESPACE, f"{resource}Utilization", self._dimensions, **options)
        gpus = self.instance_type.gpu_count or 1
        if resource.startswith("GPU") and gpus > 1:
            metric_id = f"{resource.lower()}_summed"  # distinct per resource: both GPU ones share a graph
            return cloudwatch.MathExpression(
                expression=f"{metric_id} / {gpus}",
                using_metrics={metric_id: metric},
                label=label or f"{resource} %",
                period=metric.period,
            )
        return metric if label is None else metric.with_(label=label)

    def metric_instance_count(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Instances running. Default: the sample count of ``CPUUtilization`` a minute, labelled ``instances``."""
        return instance_count_metric(self._dimensions, **options)

    def capacity_metrics(self) -> list[cloudwatch.IMetric]:
        return [self.metric_instance_count()]

    @property
    def _dimensions(self) -> dict[str, str]:
        return {"EndpointName": self.endpoint_name, "VariantName": self.variant_name}


def _validate(
    model: ServingModel,
    instance_type: InstanceType | str,
    min_instances: int,
    max_instances: int,
    target: float,
    cooldowns: dict[str, float],
    timeouts: dict[str, float],
) -> InstanceType:
    problems = model_problems(model)
    instance = instance_type_of(instance_type, problems)
    gpus = instance.gpu_count if instance is not None else None
    shards, variable = model.gpus_per_copy, model.runtime.gpus_per_copy_variable
    if gpus is not None and shards is not None and shards > gpus:
        problems.append(
            f"model shards over {variable}={shards} GPUs and {instance} has {gpus}: the container would not start; "
            f"use an instance type with at least {shards} GPUs, or lower the model's {variable}"
        )
    if min_instances < limits.MIN_VARIANT_INSTANCES:
        problems.append(f"min_instances {min_instances} must be >= 1 (instance-based variants cannot scale to 0)")
    if max_instances < min_instances:
        problems.append(f"max_instances {max_instances} must be >= min_instances {min_instances}")
    if target <= 0:
        problems.append(f"invocations_per_instance {target} must be > 0")
    within(cooldowns, COOLDOWN_RANGE, problems)
    within(timeouts, STARTUP_TIMEOUT_RANGE, problems)
    raise_problems("InstanceEndpoint", problems)
    assert instance is not None  # a bad form is a problem raised above
    return instance
