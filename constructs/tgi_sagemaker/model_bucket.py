"""The S3 bucket that holds model weights copied from the Hub."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tgi_sagemaker.compliance import acknowledge


class ModelBucket(Construct):
    """Encrypted, TLS-only, private bucket for weights; retained when the stack goes.

    :param versioned: keep object versions (a re-copy never loses the old bytes). Default: False: every commit
        has its own immutable prefix already, and versions of multi-GB shards double the bill.
    :param removal_policy: Default: RETAIN. ``DESTROY`` also empties the bucket on stack deletion.
    :param access_logs_bucket: where S3 server access logs go. Default: none (CloudTrail data events, if enabled in
        the account, record object access).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        versioned: bool = False,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        access_logs_bucket: s3.IBucket | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=versioned,
            removal_policy=removal_policy,
            auto_delete_objects=removal_policy == cdk.RemovalPolicy.DESTROY,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix="weights-bucket/" if access_logs_bucket else None,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(2)
                )
            ],
        )
        reasons = {
            "HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled": "Weights are a copy of a Hub commit, "
            "which can be copied again from the Hub (with the same token, for a gated or private repo); a replica "
            "would double the storage of multi-GB shards.",
            "HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS": "SSE-S3 encrypts the weights at rest; who may "
            "read them is decided by the IAM grants on the bucket (the copy and the model's execution role), which "
            "a KMS key policy would only repeat, next to a key grant for SageMaker's model download.",
        }
        if not versioned:
            reasons["HIPAA.Security::HIPAA.Security-S3BucketVersioningEnabled"] = (
                "Each commit is copied to its own immutable prefix and never overwritten; versioning is a setting "
                "(weights.bucket_versioned) for those who want it."
            )
        if access_logs_bucket is None:
            reasons["AwsSolutions::AwsSolutions-S1"] = (
                "No access-log bucket was given (ModelBucket access_logs_bucket); object access can be recorded with "
                "CloudTrail data events, and the bucket holds model weights only, no requests or user data."
            )
            reasons["HIPAA.Security::HIPAA.Security-S3BucketLoggingEnabled"] = reasons["AwsSolutions::AwsSolutions-S1"]
        acknowledge(self.bucket, reasons)
