"""A SageMaker model that runs the Hugging Face TGI container: a ``ServingModel`` with the TGI runtime."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_iam as iam
from constructs import Construct

from tgi_sagemaker.endpoint_network import EndpointNetwork
from tgi_sagemaker.model_weights import ModelWeights
from tgi_sagemaker.runtimes.tgi.image import TgiImage
from tgi_sagemaker.runtimes.tgi.runtime import Tgi
from tgi_sagemaker.serving_model import ServingModel


class TgiModel(ServingModel):
    """``ServingModel(runtime=Tgi(image=image), ...)``: ``AWS::SageMaker::Model`` with the TGI image.

    :param image: the TGI container version.
    :param weights: where the weights come from (``HubWeights``; S3 sources bind a ModelDataSource).
    :param environment: TGI settings (SM_NUM_GPUS, MAX_*_TOKENS, DTYPE, ...); HF_MODEL_ID, HF_MODEL_REVISION and
        HF_TOKEN are refused here, the weights source sets them. Default: none (TGI's own defaults).
    :param network: subnets and security groups for the model's VpcConfig. Default: no VPC.
    :param role: the execution role, granted what the model needs (see ``ServingModel``). Default: a new
        ``ModelExecutionRole``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image: TgiImage,
        weights: ModelWeights,
        environment: Mapping[str, str] | None = None,
        network: EndpointNetwork | None = None,
        role: iam.IRole | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            runtime=Tgi(image=image),
            weights=weights,
            environment=environment,
            network=network,
            role=role,
        )
