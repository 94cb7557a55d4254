"""One deployment: network, TGI model and endpoint with autoscaling, composed from the library."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from tgi_sagemaker import EndpointNetwork, HubWeights, InstanceEndpoint, ResolvedDeployment, TgiModel

SAMPLE_REQUEST = '{"messages":[{"role":"user","content":"What is 7 x 8? Think briefly."}],"max_tokens":512}'


class TgiEndpointStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, deployment: ResolvedDeployment, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=f"TGI on SageMaker: {deployment.model_id}", **kwargs)
        spec = deployment.spec
        network = self._network(deployment)
        token_secret = None
        if spec.weights.hf_token_secret is not None:
            token_secret = _secret(self, spec.weights.hf_token_secret)
        self.model = TgiModel(
            self,
            "TgiModel",
            image=deployment.image,
            weights=HubWeights(repo_id=spec.model.id, revision=spec.model.revision, token_secret=token_secret),
            environment=deployment.tgi_environment,
            network=network,
        )
        scaling, timeouts = spec.scaling, spec.timeouts
        self.endpoint = InstanceEndpoint(
            self,
            "Endpoint",
            model_name=self.model.model_name,
            instance_type=deployment.instance.name,
            min_instances=scaling.min_instances,
            max_instances=scaling.max_instances,
            invocations_per_instance=scaling.invocations_per_instance,
            scale_in_cooldown=cdk.Duration.seconds(scaling.scale_in_cooldown_seconds),
            scale_out_cooldown=cdk.Duration.seconds(scaling.scale_out_cooldown_seconds),
            model_data_download_timeout=cdk.Duration.seconds(timeouts.model_data_download_seconds),
            container_startup_health_check_timeout=cdk.Duration.seconds(
                timeouts.container_startup_health_check_seconds
            ),
        )
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name, description="SageMaker endpoint")
        cdk.CfnOutput(
            self,
            "InvokeCommand",
            description="Send one chat request (AWS CLI v2)",
            value=(
                f"aws sagemaker-runtime invoke-endpoint --region {self.region} "
                f"--endpoint-name {self.endpoint.endpoint_name} --content-type application/json "
                f"--cli-binary-format raw-in-base64-out --body '{SAMPLE_REQUEST}' /dev/stdout"
            ),
        )
        for key, value in deployment.tags.items():
            cdk.Tags.of(self).add(key, value)

    def _network(self, deployment: ResolvedDeployment) -> EndpointNetwork | None:
        network = deployment.spec.network
        if network.vpc == "none":
            return None
        if network.vpc == "existing":
            return EndpointNetwork.from_ids(
                self,
                "Network",
                vpc_id=network.vpc_id,
                subnet_ids=network.subnet_ids,
                security_group_ids=network.security_group_ids,
                allow_internet_egress=network.egress,
            )
        return EndpointNetwork(
            self,
            "Network",
            allow_internet_egress=network.egress,
            max_azs=network.max_azs,
            availability_zones=network.availability_zones or None,
        )


def _secret(scope: Construct, name_or_arn: str) -> secretsmanager.ISecret:
    if name_or_arn.startswith("arn:"):
        return secretsmanager.Secret.from_secret_complete_arn(scope, "HfTokenSecret", name_or_arn)
    return secretsmanager.Secret.from_secret_name_v2(scope, "HfTokenSecret", name_or_arn)
