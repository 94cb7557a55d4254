"""ModelBucket on its own: private, encrypted and TLS-only whatever the options; what it keeps and what it logs."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from tgi_sagemaker import ModelBucket

ACKNOWLEDGED = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY


def _acknowledged_rules(bucket: ModelBucket) -> set[str]:
    entries = [entry.data for entry in bucket.bucket.node.metadata if entry.type == ACKNOWLEDGED]
    return {rule for entry in entries for rule in entry}


def test_defaults_keep_the_bucket_unversioned_and_retained_and_say_why(stack: cdk.Stack) -> None:
    bucket = ModelBucket(stack, "Weights")
    template = Template.from_stack(stack)
    template.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "VersioningConfiguration": Match.absent(),
                    "LoggingConfiguration": Match.absent(),
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                }
            ),
        },
    )
    template.resource_count_is("Custom::S3AutoDeleteObjects", 0)
    assert {
        "HIPAA.Security::HIPAA.Security-S3BucketVersioningEnabled",
        "AwsSolutions::AwsSolutions-S1",
    } <= _acknowledged_rules(bucket)


def test_a_destroyable_versioned_logged_bucket_is_emptied_and_claims_nothing_it_has(stack: cdk.Stack) -> None:
    logs = s3.Bucket.from_bucket_name(stack, "Logs", "access-logs")
    bucket = ModelBucket(
        stack, "Weights", versioned=True, removal_policy=cdk.RemovalPolicy.DESTROY, access_logs_bucket=logs
    )
    template = Template.from_stack(stack)
    template.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Delete",
            "Properties": Match.object_like(
                {
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "LoggingConfiguration": {
                        "DestinationBucketName": "access-logs",
                        "LogFilePrefix": "weights-bucket/",
                    },
                }
            ),
        },
    )
    template.resource_count_is("Custom::S3AutoDeleteObjects", 1)
    rules = _acknowledged_rules(bucket)
    assert "HIPAA.Security::HIPAA.Security-S3BucketVersioningEnabled" not in rules
    assert "AwsSolutions::AwsSolutions-S1" not in rules
    policy = json.dumps(template.find_resources("AWS::S3::BucketPolicy"))
    assert '"aws:SecureTransport": "false"' in policy
