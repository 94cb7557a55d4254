"""Constructs that host Hugging Face LLMs on Amazon SageMaker with the TGI container."""

from tgi_sagemaker.compliance import add_compliance_checks
from tgi_sagemaker.config_errors import ConfigError, ConfigProblem
from tgi_sagemaker.endpoint_network import EndpointNetwork
from tgi_sagemaker.execution_role import TgiExecutionRole
from tgi_sagemaker.hub_weights_copy import HubWeightsCopy
from tgi_sagemaker.inference_component_endpoint import InferenceComponentEndpoint
from tgi_sagemaker.instance_endpoint import InstanceEndpoint
from tgi_sagemaker.model_bucket import ModelBucket
from tgi_sagemaker.model_weights import HubWeights, ModelWeights, S3PrefixWeights, WeightsBinding
from tgi_sagemaker.resolve import ResolvedApp, ResolvedDeployment, load_app, resolve_app
from tgi_sagemaker.scalable_inference_component import ScalableInferenceComponent
from tgi_sagemaker.spec import AppSpec, DeploymentSpec
from tgi_sagemaker.tgi_image import TgiImage
from tgi_sagemaker.tgi_model import TgiModel

__all__ = [
    "AppSpec",
    "ConfigError",
    "ConfigProblem",
    "DeploymentSpec",
    "EndpointNetwork",
    "HubWeights",
    "HubWeightsCopy",
    "InferenceComponentEndpoint",
    "InstanceEndpoint",
    "ModelBucket",
    "ModelWeights",
    "ResolvedApp",
    "ResolvedDeployment",
    "S3PrefixWeights",
    "ScalableInferenceComponent",
    "TgiExecutionRole",
    "TgiImage",
    "TgiModel",
    "WeightsBinding",
    "add_compliance_checks",
    "load_app",
    "resolve_app",
]
