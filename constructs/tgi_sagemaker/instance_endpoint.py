"""An instance-based SageMaker endpoint for one model, with target-tracking autoscaling on invocations."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from tgi_sagemaker.compliance import acknowledge_local_nvme_encryption
from tgi_sagemaker.prop_checks import (
    STARTUP_TIMEOUT_RANGE,
    known_instance_type,
    raise_problems,
    startup_timeouts,
    within,
)


class InstanceEndpoint(Construct):
    """Endpoint config + endpoint with one instance-based production variant, and its autoscaling.

    :param model_name: the SageMaker model to serve (``TgiModel.model_name``).
    :param instance_type: e.g. ``ml.g5.2xlarge``.
    :param min_instances: lower bound of autoscaling and the initial count. Default: 1.
    :param max_instances: upper bound of autoscaling. Default: 2.
    :param invocations_per_instance: target of ``SageMakerVariantInvocationsPerInstance`` (per minute). Default: 30.
    :param scale_in_cooldown: Default: 10 minutes.
    :param scale_out_cooldown: Default: 2 minutes.
    :param model_data_download_timeout: ``ModelDataDownloadTimeoutInSeconds``. Default: 30 minutes.
    :param container_startup_health_check_timeout: ``ContainerStartupHealthCheckTimeoutInSeconds``: how long
        TGI may take to download, load and warm up before /ping must answer. Default: 30 minutes.
    :param variant_name: Default: ``AllTraffic``.

    No ``KmsKeyId`` and no ``VolumeSizeInGB``: every GPU instance type here has local NVMe storage (encrypted by
    the hardware), for which CreateEndpointConfig rejects both.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_name: str,
        instance_type: str,
        min_instances: int = 1,
        max_instances: int = 2,
        invocations_per_instance: float = 30.0,
        scale_in_cooldown: cdk.Duration | None = None,
        scale_out_cooldown: cdk.Duration | None = None,
        model_data_download_timeout: cdk.Duration | None = None,
        container_startup_health_check_timeout: cdk.Duration | None = None,
        variant_name: str = "AllTraffic",
    ) -> None:
        super().__init__(scope, construct_id)
        timeouts = startup_timeouts(model_data_download_timeout, container_startup_health_check_timeout)
        _validate(instance_type, min_instances, max_instances, invocations_per_instance, timeouts)
        self.variant_name = variant_name
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=variant_name,
                    model_name=model_name,
                    instance_type=instance_type,
                    initial_instance_count=min_instances,
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
        acknowledge_local_nvme_encryption(self.endpoint_config)
        self.endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint", endpoint_config_name=self.endpoint_config.attr_endpoint_config_name
        )
        self.scalable_target = appscaling.ScalableTarget(
            self,
            "ScalableTarget",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{variant_name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=min_instances,
            max_capacity=max_instances,
        )
        self.scaling_policy = self.scalable_target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=scale_in_cooldown or cdk.Duration.minutes(10),
            scale_out_cooldown=scale_out_cooldown or cdk.Duration.minutes(2),
        )

    @property
    def endpoint_name(self) -> str:
        return self.endpoint.attr_endpoint_name

    @property
    def endpoint_arn(self) -> str:
        return self.endpoint.ref

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke the endpoint, streaming or not."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self.endpoint_arn],
        )

    def metric(
        self, metric_name: str, *, statistic: str = "Average", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """A metric of this endpoint's variant in ``AWS/SageMaker`` (e.g. ``Invocations``, ``ModelLatency``)."""
        return cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": self.variant_name},
            statistic=statistic,
            period=period or cdk.Duration.minutes(1),
        )

    def metric_invocations(self) -> cloudwatch.Metric:
        return self.metric("Invocations", statistic="Sum")

    def metric_model_latency(self, statistic: str = "p90") -> cloudwatch.Metric:
        return self.metric("ModelLatency", statistic=statistic)


def _validate(
    instance_type: str, min_instances: int, max_instances: int, target: float, timeouts: dict[str, float]
) -> None:
    problems: list[str] = []
    known_instance_type(instance_type, problems)
    if min_instances < 1:
        problems.append(f"min_instances {min_instances} must be >= 1 (instance-based variants cannot scale to 0)")
    if max_instances < min_instances:
        problems.append(f"max_instances {max_instances} must be >= min_instances {min_instances}")
    if target <= 0:
        problems.append(f"invocations_per_instance {target} must be > 0")
    within(timeouts, STARTUP_TIMEOUT_RANGE, problems)
    raise_problems("InstanceEndpoint", problems)
