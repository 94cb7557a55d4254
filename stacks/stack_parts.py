"""What a deployment's stack and a shared endpoint's stack both compose: a model's weights, the network."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from tgi_sagemaker import (
    EndpointNetwork,
    HubWeights,
    HubWeightsCopy,
    ModelBucket,
    ModelWeights,
    ResolvedDeployment,
    S3PrefixWeights,
)
from tgi_sagemaker.config.spec import NetworkSpec
from tgi_sagemaker.limits import LOG_RETENTION_DAYS


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


def _secret(scope: Construct, name_or_arn: str) -> secretsmanager.ISecret:
    if name_or_arn.startswith("arn:"):
        return secretsmanager.Secret.from_secret_complete_arn(scope, "HfTokenSecret", name_or_arn)
    return secretsmanager.Secret.from_secret_name_v2(scope, "HfTokenSecret", name_or_arn)


def log_retention(days: int) -> logs.RetentionDays:
    """The CDK member for a number of days (CDK lists them in ascending order, INFINITE last)."""
    members = [member for member in logs.RetentionDays if member is not logs.RetentionDays.INFINITE]
    return dict(zip(LOG_RETENTION_DAYS, members, strict=True))[days]
