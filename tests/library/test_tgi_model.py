"""TgiModel on its own: its environment, its role, its network and the GPUs it shards over."""

from __future__ import annotations

import json
from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template

from tgi_sagemaker import HubWeights, TgiImage, TgiModel

MakeModel = Callable[..., TgiModel]
MODEL_ID = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"  # the one make_model serves


def test_model_without_network_has_no_vpc_config_and_no_connections(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model(environment={"SM_NUM_GPUS": "1"})
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "VpcConfig": Match.absent(),
            "PrimaryContainer": {"Environment": {"HF_MODEL_ID": MODEL_ID, "SM_NUM_GPUS": "1"}},
        },
    )
    with pytest.raises(ValueError, match="no VPC: pass network=EndpointNetwork"):
        _ = model.connections


def test_hub_weights_put_a_token_in_the_model_environment_only_when_told_to(stack: cdk.Stack) -> None:
    secret = secretsmanager.Secret.from_secret_name_v2(stack, "Token", "hf/token")
    with pytest.raises(ValueError, match=r"readable by DescribeModel callers.*HubWeightsCopy"):
        HubWeights(repo_id=MODEL_ID, token_secret=secret)
    weights = HubWeights(repo_id=MODEL_ID, token_secret=secret, expose_token_in_model_environment=True)
    TgiModel(stack, "Model", image=TgiImage.of("3.3.6"), weights=weights)
    (model,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
    token = json.dumps(model["Properties"]["PrimaryContainer"]["Environment"]["HF_TOKEN"])
    assert "{{resolve:secretsmanager:" in token and "hf/token" in token and ":SecretString:" in token


def test_model_refuses_weights_variables_in_its_environment(make_model: MakeModel) -> None:
    with pytest.raises(ValueError, match=r"\['HF_MODEL_ID'\].*weights source sets them"):
        make_model(environment={"HF_MODEL_ID": "s3://bucket/prefix/"})


def test_model_uses_a_given_role_and_grants_it_image_pull(stack: cdk.Stack, make_model: MakeModel) -> None:
    role = iam.Role(stack, "PlatformRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    model = make_model(role=role)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::Role", 1)
    assert model.role is role
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with([Match.object_like({"Action": "ecr:GetAuthorizationToken"})])
            }
        },
    )


def test_num_gpus_is_the_sm_num_gpus_the_model_shards_over(stack: cdk.Stack, make_model: MakeModel) -> None:
    assert make_model("Two", environment={"SM_NUM_GPUS": "2"}).gpus_per_copy == 2
    assert make_model("Unset").gpus_per_copy is None  # TGI shards over every GPU the container sees
    parameter = cdk.CfnParameter(stack, "Gpus").value_as_string
    assert make_model("Token", environment={"SM_NUM_GPUS": parameter}).gpus_per_copy is None
