"""The weights sources on their own: where each tells the container the model is, and what each grants."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Annotations, Match, Template

from tgi_sagemaker import UNPINNED_HUB_REVISION_WARNING, HubWeights, S3PrefixWeights, TgiImage, TgiModel
from tgi_sagemaker.runtimes.runtime import HubModel, ModelDirectory

MODEL_ID = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
COMMIT = "ad9f0ae0864d7fbcd1cd905e3c6c5b069cc8b562"


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Stack")


def _role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))


def test_hub_weights_name_the_repo_and_revision_grant_nothing_and_need_the_internet() -> None:
    stack = _stack()
    binding = HubWeights(repo_id=MODEL_ID, revision="v1").bind(stack, _role(stack))
    assert binding.location == HubModel(MODEL_ID, "v1")
    assert binding.needs_internet is True
    assert binding.model_data_source is None and binding.s3_read is None
    Template.from_stack(stack).resource_count_is("AWS::IAM::Policy", 0)


def test_hub_weights_put_a_token_in_the_model_environment_only_when_told_to() -> None:
    stack = _stack()
    secret = secretsmanager.Secret.from_secret_name_v2(stack, "Token", "hf/token")
    with pytest.raises(ValueError, match=r"readable by DescribeModel callers.*HubWeightsCopy"):
        HubWeights(repo_id=MODEL_ID, token_secret=secret)
    weights = HubWeights(repo_id=MODEL_ID, token_secret=secret, expose_token_in_model_environment=True)
    TgiModel(stack, "Model", image=TgiImage.of("3.3.6"), weights=weights)
    (model,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
    token = json.dumps(model["Properties"]["PrimaryContainer"]["Environment"]["HF_TOKEN"])
    assert "{{resolve:secretsmanager:" in token and "hf/token" in token and ":SecretString:" in token


def _warnings_of(weights: HubWeights, *, acknowledged: bool = False) -> list[str]:
    stack = _stack()
    model = TgiModel(stack, "Model", image=TgiImage.of("3.3.6"), weights=weights)
    if acknowledged:
        cdk.Annotations.of(model).acknowledge_warning(UNPINNED_HUB_REVISION_WARNING, "a throwaway test endpoint")
    found = Annotations.from_stack(stack).find_warning("/Stack/Model", Match.any_value())
    return [str(entry.entry.data) for entry in found]


@pytest.mark.parametrize(
    ("revision", "words"),
    [(None, "with no revision (the repo's default branch)"), ("v1", "revision 'v1', a branch or a tag")],
)
def test_hub_weights_of_no_commit_warn_on_the_model_with_the_fix(revision: str | None, words: str) -> None:
    (warning,) = _warnings_of(HubWeights(repo_id=MODEL_ID, revision=revision))
    assert words in warning and "at every instance start" in warning
    assert f"https://huggingface.co/{MODEL_ID}/commits/{revision or 'main'}" in warning
    assert f"[ack: {UNPINNED_HUB_REVISION_WARNING}]" in warning  # how to accept it, named in the message


def test_hub_weights_of_a_commit_or_an_acknowledged_warning_say_nothing() -> None:
    assert _warnings_of(HubWeights(repo_id=MODEL_ID, revision=COMMIT)) == []
    assert _warnings_of(HubWeights(repo_id=MODEL_ID, revision=COMMIT.upper())) != []  # the Hub's ids are lower case
    assert _warnings_of(HubWeights(repo_id=MODEL_ID), acknowledged=True) == []


@pytest.mark.parametrize("s3_uri", ["s3://weights/models/a", "https://weights.s3.amazonaws.com/models/a/", "models/"])
def test_s3_prefix_weights_refuse_a_uri_that_is_not_a_prefix(s3_uri: str) -> None:
    bucket = s3.Bucket(_stack(), "Weights")
    with pytest.raises(ValueError, match=rf"s3_uri '{s3_uri}' must look like 's3://bucket/prefix/'"):
        S3PrefixWeights(bucket=bucket, s3_uri=s3_uri, read_prefix="models/a/")


def test_s3_prefix_weights_accept_a_token_for_a_uri() -> None:
    stack = _stack()
    parameter = cdk.CfnParameter(stack, "WeightsUri", default="s3://weights/models/a/")
    weights = S3PrefixWeights(bucket=s3.Bucket(stack, "Weights"), s3_uri=parameter.value_as_string, read_prefix="m/")
    assert weights.s3_uri == parameter.value_as_string


def test_s3_prefix_weights_are_mounted_and_grant_reading_their_prefix_only() -> None:
    stack = _stack()
    bucket = s3.Bucket(stack, "Weights")
    role = _role(stack)
    binding = S3PrefixWeights(bucket=bucket, s3_uri="s3://weights/models/a/", read_prefix="models/a/").bind(stack, role)
    assert binding.location == ModelDirectory()
    assert binding.needs_internet is False
    assert binding.s3_read == (bucket, "models/a/*")
    assert stack.resolve(binding.model_data_source) == {
        "s3DataSource": {"s3Uri": "s3://weights/models/a/", "s3DataType": "S3Prefix", "compressionType": "None"}
    }
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    bucket_arn = stack.resolve(bucket.bucket_arn)
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": {"Fn::Join": ["", [bucket_arn, "/models/a/*"]]}},
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["models/a/*"]}},
            "Effect": "Allow",
            "Resource": bucket_arn,
        },
    ]
