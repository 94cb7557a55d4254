"""Constructs that host Hugging Face LLMs on Amazon SageMaker with the TGI container.

Names load on first use, so ``tgi-sagemaker invoke`` and ``bench`` start without importing aws_cdk.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tgi_sagemaker.compliance import add_compliance_checks
    from tgi_sagemaker.config.errors import ConfigError, ConfigProblem
    from tgi_sagemaker.config.resolve import ResolvedApp, ResolvedDeployment, load_app, resolve_app
    from tgi_sagemaker.config.spec import AppSpec, DeploymentSpec
    from tgi_sagemaker.endpoint_network import EndpointNetwork
    from tgi_sagemaker.execution_role import ModelExecutionRole, TgiExecutionRole
    from tgi_sagemaker.hub_weights_copy import HubWeightsCopy
    from tgi_sagemaker.inference_component_endpoint import InferenceComponentEndpoint
    from tgi_sagemaker.instance_endpoint import InstanceEndpoint
    from tgi_sagemaker.instance_type import InstanceType
    from tgi_sagemaker.model_bucket import ModelBucket
    from tgi_sagemaker.model_weights import (
        UNPINNED_HUB_REVISION_WARNING,
        HubWeights,
        ModelWeights,
        S3PrefixWeights,
        WeightsBinding,
    )
    from tgi_sagemaker.operations.alarm_topic import AlarmTopic
    from tgi_sagemaker.operations.deployment_alarms import DeploymentAlarms
    from tgi_sagemaker.operations.deployment_dashboard import DeploymentDashboard
    from tgi_sagemaker.operations.function_log_groups import manage_function_log_groups
    from tgi_sagemaker.runtimes.runtime import ServingRuntime
    from tgi_sagemaker.runtimes.tgi.image import TgiImage
    from tgi_sagemaker.runtimes.tgi.runtime import Tgi
    from tgi_sagemaker.scalable_count import ScalableCopyCount, ScalableCount, ScalableInstanceCount
    from tgi_sagemaker.scalable_inference_component import ScalableInferenceComponent
    from tgi_sagemaker.served_model import IServedModel, UpdateStrategy
    from tgi_sagemaker.serving_metrics import MetricOptions
    from tgi_sagemaker.serving_model import ServingModel
    from tgi_sagemaker.tgi_model import TgiModel

__all__ = [
    "UNPINNED_HUB_REVISION_WARNING",
    "AlarmTopic",
    "AppSpec",
    "ConfigError",
    "ConfigProblem",
    "DeploymentAlarms",
    "DeploymentDashboard",
    "DeploymentSpec",
    "EndpointNetwork",
    "HubWeights",
    "HubWeightsCopy",
    "IServedModel",
    "InferenceComponentEndpoint",
    "InstanceEndpoint",
    "InstanceType",
    "MetricOptions",
    "ModelBucket",
    "ModelExecutionRole",
    "ModelWeights",
    "ResolvedApp",
    "ResolvedDeployment",
    "S3PrefixWeights",
    "ScalableCopyCount",
    "ScalableCount",
    "ScalableInferenceComponent",
    "ScalableInstanceCount",
    "ServingModel",
    "ServingRuntime",
    "Tgi",
    "TgiExecutionRole",
    "TgiImage",
    "TgiModel",
    "UpdateStrategy",
    "WeightsBinding",
    "add_compliance_checks",
    "load_app",
    "manage_function_log_groups",
    "resolve_app",
]

_MODULES = {
    "AlarmTopic": "tgi_sagemaker.operations.alarm_topic",
    "DeploymentAlarms": "tgi_sagemaker.operations.deployment_alarms",
    "DeploymentDashboard": "tgi_sagemaker.operations.deployment_dashboard",
    "manage_function_log_groups": "tgi_sagemaker.operations.function_log_groups",
    "AppSpec": "tgi_sagemaker.config.spec",
    "ConfigError": "tgi_sagemaker.config.errors",
    "ConfigProblem": "tgi_sagemaker.config.errors",
    "DeploymentSpec": "tgi_sagemaker.config.spec",
    "EndpointNetwork": "tgi_sagemaker.endpoint_network",
    "HubWeights": "tgi_sagemaker.model_weights",
    "HubWeightsCopy": "tgi_sagemaker.hub_weights_copy",
    "IServedModel": "tgi_sagemaker.served_model",
    "InferenceComponentEndpoint": "tgi_sagemaker.inference_component_endpoint",
    "InstanceEndpoint": "tgi_sagemaker.instance_endpoint",
    "InstanceType": "tgi_sagemaker.instance_type",
    "MetricOptions": "tgi_sagemaker.serving_metrics",
    "ModelBucket": "tgi_sagemaker.model_bucket",
    "ModelExecutionRole": "tgi_sagemaker.execution_role",
    "ModelWeights": "tgi_sagemaker.model_weights",
    "ResolvedApp": "tgi_sagemaker.config.resolve",
    "ResolvedDeployment": "tgi_sagemaker.config.resolve",
    "S3PrefixWeights": "tgi_sagemaker.model_weights",
    "ScalableCopyCount": "tgi_sagemaker.scalable_count",
    "ScalableCount": "tgi_sagemaker.scalable_count",
    "ScalableInferenceComponent": "tgi_sagemaker.scalable_inference_component",
    "ServingModel": "tgi_sagemaker.serving_model",
    "ServingRuntime": "tgi_sagemaker.runtimes.runtime",
    "Tgi": "tgi_sagemaker.runtimes.tgi.runtime",
    "ScalableInstanceCount": "tgi_sagemaker.scalable_count",
    "TgiExecutionRole": "tgi_sagemaker.execution_role",
    "TgiImage": "tgi_sagemaker.runtimes.tgi.image",
    "TgiModel": "tgi_sagemaker.tgi_model",
    "UNPINNED_HUB_REVISION_WARNING": "tgi_sagemaker.model_weights",
    "UpdateStrategy": "tgi_sagemaker.served_model",
    "WeightsBinding": "tgi_sagemaker.model_weights",
    "add_compliance_checks": "tgi_sagemaker.compliance",
    "load_app": "tgi_sagemaker.config.resolve",
    "resolve_app": "tgi_sagemaker.config.resolve",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'tgi_sagemaker' has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULES[name]), name)
