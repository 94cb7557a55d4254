"""An endpoint that hosts inference components on instances SageMaker adds and removes, down to zero."""

from __future__ import annotations

from typing import Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct
from typing_extensions import Unpack

from tgi_sagemaker import defaults
from tgi_sagemaker.compliance import acknowledge_local_nvme_encryption
from tgi_sagemaker.endpoint_network import EndpointNetwork
from tgi_sagemaker.execution_role import grant_sagemaker_log_group
from tgi_sagemaker.instance_type import InstanceType
from tgi_sagemaker.prop_checks import instance_type_of, raise_problems
from tgi_sagemaker.serving_metrics import MetricOptions, instance_count_metric


class InferenceComponentEndpoint(Construct):
    """Endpoint config + endpoint with one variant without a model, and managed instance scaling.

    Models join it as inference components (``ScalableInferenceComponent``); SageMaker adds instances when a
    component needs room for a copy and removes idle ones, down to ``min_instances`` (0: nothing runs, nothing
    bills but storage).

    :param role: execution role SageMaker uses for the endpoint (required once inference components are used).
    :param instance_type: an ``InstanceType`` or its name, e.g. ``ml.g5.2xlarge``. A type the catalog does not list
        (or a token) is accepted: the components' checks that need its figures (GPUs, memory) are skipped.
    :param min_instances: lower bound of managed instance scaling. Default: 0.
    :param max_instances: upper bound of managed instance scaling. Default: 2.
    :param network: subnets and security groups of the variant, where SageMaker runs the components' containers:
        their models' network (checked when a component joins). Default: none.
    :param network_isolation: ``EnableNetworkIsolation`` of the endpoint config, which SageMaker applies to the
        components' containers: their models' ``TgiModel.network_isolation`` (checked when a component joins).
        Default: False.
    :param inference_ami_version: ``InferenceAmiVersion`` of the variant: the AMI whose NVIDIA driver the
        components' images need (``ServingRuntime.inference_ami_version``: CUDA 13 images). Default: none,
        SageMaker's default AMI.
    :param variant_name: Default: ``AllTraffic``.
    :param endpoint_name: Default: derived from the construct path, unique in the stack's account and region (known
        before deployment, so that a pipeline can grant invoking exactly this endpoint).

    CloudFormation creates the endpoint with one instance (``InitialInstanceCount`` cannot be 0); it goes away once
    the components have scaled to zero copies. No ``KmsKeyId``/``VolumeSizeInGB``: GPU types have local NVMe.
    ``role`` may write the endpoint's log group (``/aws/sagemaker/Endpoints/<endpoint_name>``); each component
    grants its own.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role: iam.IRole,
        instance_type: InstanceType | str,
        min_instances: int = defaults.MIN_INSTANCES_WITH_SCALE_TO_ZERO,
        max_instances: int = defaults.MAX_INSTANCES,
        network: EndpointNetwork | None = None,
        network_isolation: bool = False,
        inference_ami_version: str | None = None,
        variant_name: str = defaults.VARIANT_NAME,
        endpoint_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.endpoint_name = endpoint_name or cdk.Names.unique_resource_name(self, max_length=63, separator="-")
        self.instance_type = _validate(instance_type, min_instances, max_instances)
        self.role = role
        self.variant_name = variant_name
        self.min_instances = min_instances
        self.max_instances = max_instances
        self.network = network
        self.network_isolation = network_isolation
        self.inference_ami_version = inference_ami_version
        self._components: list[HostedComponent] = []
        vpc_config = None
        if network is not None:
            vpc_config = sagemaker.CfnEndpointConfig.VpcConfigProperty(
                security_group_ids=network.security_group_ids, subnets=network.subnet_ids
            )
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            execution_role_arn=role.role_arn,
            # Endpoints whose variant names no model carry the model's network settings here as well.
            enable_network_isolation=network_isolation,
            vpc_config=vpc_config,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=variant_name,
                    instance_type=self.instance_type.name,
                    initial_instance_count=1,
                    inference_ami_version=inference_ami_version,
                    managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                        status="ENABLED", min_instance_count=min_instances, max_instance_count=max_instances
                    ),
                    routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                        routing_strategy="LEAST_OUTSTANDING_REQUESTS"
                    ),
                )
            ],
        )
        grant_sagemaker_log_group(self, role, "Endpoints", self.endpoint_name)
        # SageMaker checks the role when it creates the endpoint: its policy must exist by then.
        self.endpoint_config.node.add_dependency(role)
        acknowledge_local_nvme_encryption(self.endpoint_config, self.instance_type)
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )

    @property
    def endpoint_arn(self) -> str:
        return self.endpoint.ref

    def metric_instance_count(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Instances running (managed instance scaling). Default: the sample count of ``CPUUtilization`` a minute,
        labelled ``instances``."""
        return instance_count_metric({"EndpointName": self.endpoint_name, "VariantName": self.variant_name}, **options)

    @property
    def components(self) -> list[HostedComponent]:
        """The components placed on this endpoint so far, in the order they joined."""
        return list(self._components)

    def gpus_held_at_once(self) -> int:
        """GPUs the components need at the same time: each is created with one copy and keeps its minimum."""
        return sum(c.accelerators_per_copy * max(c.min_copies, 1) for c in self._components)

    def _add_component(self, component: HostedComponent) -> None:
        """Called by ``ScalableInferenceComponent`` once it has checked that it fits next to the others."""
        self._components.append(component)


class HostedComponent(Protocol):
    """What an endpoint knows of a component on it: enough to see whether the next one still fits."""

    component_name: str
    accelerators_per_copy: int
    min_copies: int


def _validate(instance_type: InstanceType | str, min_instances: int, max_instances: int) -> InstanceType:
    problems: list[str] = []
    instance = instance_type_of(instance_type, problems)
    if min_instances < 0:
        problems.append(f"min_instances {min_instances} must be >= 0")
    if max_instances < max(1, min_instances):
        problems.append(f"max_instances {max_instances} must be >= 1 and >= min_instances {min_instances}")
    raise_problems("InferenceComponentEndpoint", problems)
    assert instance is not None  # a bad form is a problem raised above
    return instance
