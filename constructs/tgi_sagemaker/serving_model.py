"""A SageMaker model that runs a serving container (a runtime: TGI, ...) over a weights source."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from tgi_sagemaker.compliance import acknowledge_checkov
from tgi_sagemaker.endpoint_network import EndpointNetwork
from tgi_sagemaker.execution_role import ModelExecutionRole, network_interface_statements
from tgi_sagemaker.model_weights import ModelWeights
from tgi_sagemaker.runtimes.runtime import ServingRuntime


class ServingModel(Construct):
    """``AWS::SageMaker::Model`` with a runtime's image, the weights' location and a least-privilege role.

    :param runtime: the serving container and its version, e.g. ``Tgi.of("3.3.6")``.
    :param weights: where the weights come from (``HubWeights``; S3 sources bind a ModelDataSource).
    :param environment: the runtime's settings (TGI: SM_NUM_GPUS, MAX_*_TOKENS, DTYPE, ...); the variables that
        locate the model are refused here, the weights source sets them. Default: none (the runtime's own defaults).
    :param network: subnets and security groups for the model's VpcConfig. Default: no VPC.
    :param role: the execution role. Default: a new ``ModelExecutionRole``. A role given here is granted what the
        model needs (image pull, the weights and, with a ``network``, its network interfaces), and the model waits
        for those grants. A role this app cannot change (imported with ``mutable=False``, or from another account)
        is left as it is and must already allow them, or SageMaker refuses to create the model.

    Network isolation is enabled whenever the weights source needs no internet.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: ServingRuntime,
        weights: ModelWeights,
        environment: Mapping[str, str] | None = None,
        network: EndpointNetwork | None = None,
        role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        environment = dict(environment or {})
        clashes = sorted(runtime.model_variables.intersection(environment))
        if clashes:
            raise ValueError(
                f"{type(self).__name__} environment sets {clashes}: the weights source sets them; remove them"
            )
        self.runtime = runtime
        if role is None:
            description = f"Runs the {runtime.container_name} container of a SageMaker model"
            role = ModelExecutionRole(self, "ExecutionRole", network=network, description=description).role
        elif network is not None:
            # SageMaker creates the model's network interfaces with this role when it creates the model.
            for statement in network_interface_statements(network):
                role.add_to_principal_policy(statement)
        self.role: iam.IRole = role
        binding = weights.bind(self, self.role)
        if network is not None and binding.s3_read is not None:
            network.allow_s3_read(*binding.s3_read)  # SageMaker downloads the weights through the model's subnets
        self.image_uri = runtime.image.bind(self, self.role)
        self.network = network
        self.environment = {**environment, **runtime.model_environment(binding.location)}
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
        # SageMaker checks the role's permissions (image pull, ENIs) when it creates the model: wait for the role
        # and the policies granted to it (an imported role's grants are a policy under the imported role).
        self.cfn_model.node.add_dependency(self.role)

    @property
    def model_name(self) -> str:
        return self.cfn_model.attr_model_name

    @property
    def gpus_per_copy(self) -> int | None:
        """The GPUs one copy shards over, as the runtime's variable (TGI: SM_NUM_GPUS) sets them; None when the
        environment leaves it to the container or sets it with a token."""
        value = self.environment.get(self.runtime.gpus_per_copy_variable)
        if value is None or cdk.Token.is_unresolved(value) or not value.isdigit():
            return None
        return int(value)

    @property
    def connections(self) -> ec2.Connections:
        if self.network is None:
            raise ValueError(f"{type(self).__name__} has no VPC: pass network=EndpointNetwork(...) to get connections")
        return self.network.connections
