"""A SageMaker model that runs the Hugging Face TGI container."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from tgi_sagemaker.compliance import acknowledge_checkov
from tgi_sagemaker.endpoint_network import EndpointNetwork
from tgi_sagemaker.execution_role import TgiExecutionRole
from tgi_sagemaker.model_weights import ModelWeights
from tgi_sagemaker.runtimes.tgi.image import TgiImage

_WEIGHTS_VARIABLES = {"HF_MODEL_ID", "HF_MODEL_REVISION", "HF_TOKEN"}


class TgiModel(Construct):
    """``AWS::SageMaker::Model`` with the TGI image, the weights' environment and a least-privilege role.

    :param image: the TGI container version.
    :param weights: where the weights come from (``HubWeights``; S3 sources bind a ModelDataSource).
    :param environment: TGI settings (SM_NUM_GPUS, MAX_*_TOKENS, DTYPE, ...); weights variables are refused
        here, the weights source sets them. Default: none (TGI's own defaults).
    :param network: subnets and security groups for the model's VpcConfig. Default: no VPC.
    :param role: the execution role. Default: a new ``TgiExecutionRole``.

    Network isolation is enabled whenever the weights source needs no internet.
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
        super().__init__(scope, construct_id)
        environment = dict(environment or {})
        clashes = sorted(_WEIGHTS_VARIABLES.intersection(environment))
        if clashes:
            raise ValueError(f"TgiModel environment sets {clashes}: the weights source sets them; remove them")
        self.role: iam.IRole = role or TgiExecutionRole(self, "ExecutionRole", network=network).role
        binding = weights.bind(self, self.role)
        if network is not None and binding.s3_read is not None:
            network.allow_s3_read(*binding.s3_read)  # SageMaker downloads the weights through the model's subnets
        self.image_uri = image.bind(self, self.role)
        self.network = network
        self.environment = {**environment, **binding.environment}
        self.network_isolation = not binding.needs_internet
        vpc_config = None
        if network is not None:
            vpc_config = sagemaker.CfnModel.VpcConfigProperty(
                security_group_ids=network.security_group_ids, subnets=network.subnet_ids
            )
        self.cfn_model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=self.network_isolation,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=self.image_uri,
                environment=self.environment,
                model_data_source=binding.model_data_source,
            ),
            vpc_config=vpc_config,
        )
        if not self.network_isolation:
            acknowledge_checkov(
                self.cfn_model,
                {
                    "CKV_AWS_370": "The weights source needs the internet: the container downloads the weights from "
                    "the Hub at every start, which network isolation would block. Weights copied to S3 "
                    "(S3PrefixWeights) run isolated."
                },
                "AWS::SageMaker::Model",
            )
        # SageMaker checks the role's permissions (image pull, ENIs) when it creates the model.
        if isinstance(self.role, iam.Role):
            self.cfn_model.node.add_dependency(self.role)

    @property
    def model_name(self) -> str:
        return self.cfn_model.attr_model_name

    @property
    def connections(self) -> ec2.Connections:
        if self.network is None:
            raise ValueError("TgiModel has no VPC: pass network=EndpointNetwork(...) to get connections")
        return self.network.connections

    @property
    def num_gpus(self) -> int | None:
        """GPUs the container shards the model over (``SM_NUM_GPUS``), which a copy or an instance must have; None
        when the environment leaves it to TGI (every GPU the container sees) or gives a token."""
        value = self.environment.get("SM_NUM_GPUS")
        return int(value) if value is not None and value.isdigit() else None
