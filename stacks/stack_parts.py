"""What a deployment's stack and a shared endpoint's stack both compose: a model's weights, the network, a model's
inference component with its scaling, its alarms and where they notify, and the command that invokes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from tgi_sagemaker import (
    AlarmTopic,
    DeploymentAlarms,
    EndpointNetwork,
    HubWeights,
    HubWeightsCopy,
    InferenceComponentEndpoint,
    IServedModel,
    ModelBucket,
    ModelWeights,
    ResolvedDeployment,
    S3PrefixWeights,
    ScalableInferenceComponent,
    ServingModel,
)
from tgi_sagemaker.config.spec import NetworkSpec, OperationsSpec, SharedEndpointOperationsSpec
from tgi_sagemaker.limits import LOG_RETENTION_DAYS

SAMPLE_REQUEST = '{"messages":[{"role":"user","content":"What is 7 x 8? Think briefly."}],"max_tokens":512}'


class PinnedZonesStack(cdk.Stack):
    """A stack in the config's pinned availability zones (none pinned: the stack's own), its resources tagged with
    the config's tags."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        availability_zones: Sequence[str],
        tags: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        self._pinned_zones = list(availability_zones)
        super().__init__(scope, construct_id, **kwargs)
        self._config_tags = dict(tags)

    @property
    def availability_zones(self) -> list[str]:
        """The config's pinned zones: even given them, ``ec2.Vpc`` asks the stack, which would look them up."""
        return self._pinned_zones or super().availability_zones

    def tag_resources(self) -> None:
        """Tag everything in the stack with the config's tags (last: tags apply to what exists when synthesized)."""
        for key, value in self._config_tags.items():
            cdk.Tags.of(self).add(key, value)


@dataclass(frozen=True)
class Weights:
    """A model's weights source, and with s3 weights the bucket and the copy that fills it."""

    source: ModelWeights
    bucket: ModelBucket | None = None
    copy: HubWeightsCopy | None = None


def model_weights(scope: Construct, deployment: ResolvedDeployment, log_retention: logs.RetentionDays) -> Weights:
    """The deployment's weights under ``scope``: Hub weights, or a bucket of its own and the copy into it (with its
    ``WeightsS3Uri`` output)."""
    spec, weights = deployment.spec, deployment.spec.weights
    if weights.source == "hub":  # without a token: the config refuses one here (it would reach the model)
        return Weights(HubWeights(repo_id=spec.model.id, revision=spec.model.revision))
    token_secret = _secret(scope, weights.hf_token_secret) if weights.hf_token_secret else None
    destroy = weights.bucket_removal_policy == "destroy"
    bucket = ModelBucket(
        scope,
        "WeightsBucket",
        versioned=weights.bucket_versioned,
        removal_policy=cdk.RemovalPolicy.DESTROY if destroy else cdk.RemovalPolicy.RETAIN,
    )
    copy = HubWeightsCopy(
        scope,
        "WeightsCopy",
        bucket=bucket.bucket,
        repo_id=spec.model.id,
        revision=spec.model.revision,
        token_secret=token_secret,
        token_secret_key=(
            kms.Key.from_key_arn(scope, "HfTokenKey", weights.hf_token_kms_key_arn)
            if weights.hf_token_kms_key_arn
            else None
        ),
        hub_endpoint=weights.hub_endpoint,
        max_concurrency=weights.copy_max_concurrency,
        part_size_mb=weights.part_size_mb,
        max_in_flight=weights.max_in_flight,
        memory_size_mb=weights.copy_memory_mb,
        delete_objects_on_delete=weights.delete_objects_on_delete,
        allow_patterns=weights.allow_patterns,
        ignore_patterns=weights.ignore_patterns,
        log_retention=log_retention,
    )
    cdk.CfnOutput(scope, "WeightsS3Uri", value=copy.s3_uri, description="Copied weights")
    source = S3PrefixWeights(bucket=bucket.bucket, s3_uri=copy.s3_uri, read_prefix=f"models/{spec.model.id}/")
    return Weights(source, bucket, copy)


def endpoint_network(
    scope: Construct, network: NetworkSpec, *, egress: bool, log_retention: logs.RetentionDays
) -> EndpointNetwork | None:
    """The endpoint's network as configured: none, existing ids, or a new VPC."""
    if network.vpc == "none":
        return None
    if network.vpc == "existing":
        return EndpointNetwork.from_ids(
            scope,
            "Network",
            vpc_id=network.vpc_id,
            subnet_ids=network.subnet_ids,
            security_group_ids=network.security_group_ids,
            allow_internet_egress=egress,
            s3_prefix_list_id=network.s3_prefix_list_id,
        )
    return EndpointNetwork(
        scope,
        "Network",
        allow_internet_egress=egress,
        s3_prefix_list_id=network.s3_prefix_list_id,
        max_azs=network.max_azs,
        availability_zones=network.availability_zones or None,
        flow_log_retention=log_retention,
    )


def scalable_component(
    scope: Construct,
    *,
    endpoint: InferenceComponentEndpoint,
    model: ServingModel,
    deployment: ResolvedDeployment,
) -> ScalableInferenceComponent:
    """The deployment's model on ``endpoint`` as an inference component, sized and scaled as its plan says."""
    scaling, plan, timeouts = deployment.spec.scaling, deployment.scaling, deployment.spec.timeouts
    return ScalableInferenceComponent(
        scope,
        "InferenceComponent",
        endpoint=endpoint,
        model=model,
        accelerators_per_copy=deployment.num_gpus,
        min_memory_mb=plan.min_memory_mb,
        min_copies=plan.min_copies,
        max_copies=plan.max_copies,
        concurrent_requests_per_copy=scaling.concurrent_requests_per_copy,
        scale_in_cooldown=cdk.Duration.seconds(scaling.scale_in_cooldown_seconds),
        scale_out_cooldown=cdk.Duration.seconds(scaling.scale_out_cooldown_seconds),
        scale_out_from_zero_cooldown=cdk.Duration.seconds(scaling.scale_out_from_zero_cooldown_seconds),
        model_data_download_timeout=cdk.Duration.seconds(timeouts.model_data_download_seconds),
        container_startup_health_check_timeout=cdk.Duration.seconds(timeouts.container_startup_health_check_seconds),
    )


def alarm_topic(scope: Construct, operations: OperationsSpec | SharedEndpointOperationsSpec) -> sns.ITopic | None:
    """Where alarms notify: a new topic for the configured emails, an existing topic, or nowhere."""
    if operations.alarm_emails:
        return AlarmTopic(scope, "AlarmTopic", emails=operations.alarm_emails).topic
    if operations.alarm_topic_arn:
        return sns.Topic.from_topic_arn(scope, "AlarmTopic", operations.alarm_topic_arn)
    return None


def deployment_alarms(
    scope: Construct,
    *,
    deployment: ResolvedDeployment,
    serving: IServedModel,
    weights_copy: HubWeightsCopy | None,
    topic: sns.ITopic | None,
) -> DeploymentAlarms:
    """The model's alarms at the deployment's thresholds, the weights copy's failures among them where it has one."""
    operations = deployment.spec.operations
    return DeploymentAlarms(
        scope,
        "Alarms",
        serving=serving,
        error_rate_threshold_percent=operations.error_rate_percent,
        model_latency_p90=cdk.Duration.seconds(operations.model_latency_p90_seconds),
        gpu_memory_percent=operations.gpu_memory_percent,
        weights_copy_failures=weights_copy.metric_failed_copies() if weights_copy else None,
        topic=topic,
    )


def invoke_command(*, region: str, endpoint_name: str, component_name: str | None) -> str:
    """The AWS CLI v2 command that sends one chat request (to the component, where the endpoint has them)."""
    component = f"--inference-component-name {component_name} " if component_name is not None else ""
    return (
        f"aws sagemaker-runtime invoke-endpoint --region {region} --endpoint-name {endpoint_name} "
        f"{component}--content-type application/json --cli-binary-format raw-in-base64-out "
        f"--body '{SAMPLE_REQUEST}' /dev/stdout"
    )


def _secret(scope: Construct, name_or_arn: str) -> secretsmanager.ISecret:
    if name_or_arn.startswith("arn:"):
        return secretsmanager.Secret.from_secret_complete_arn(scope, "HfTokenSecret", name_or_arn)
    return secretsmanager.Secret.from_secret_name_v2(scope, "HfTokenSecret", name_or_arn)


def log_retention(days: int) -> logs.RetentionDays:
    """The CDK member for a number of days (CDK lists them in ascending order, INFINITE last)."""
    members = [member for member in logs.RetentionDays if member is not logs.RetentionDays.INFINITE]
    return dict(zip(LOG_RETENTION_DAYS, members, strict=True))[days]
