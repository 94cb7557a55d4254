"""ServingModel (and TgiModel, its TGI form) on its own, as a platform team would compose it."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from tgi_sagemaker import (
    EndpointNetwork,
    HubWeights,
    S3PrefixWeights,
    ServingModel,
    Tgi,
    TgiImage,
    TgiModel,
)

MODEL_ID = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
ENI_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces")


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Stack")


def _model(stack: cdk.Stack, construct_id: str = "Model", **kwargs: Any) -> TgiModel:
    return TgiModel(stack, construct_id, image=TgiImage.of("3.3.6"), weights=HubWeights(repo_id=MODEL_ID), **kwargs)


def _resources(stack: cdk.Stack, resource_type: str) -> dict[str, dict[str, Any]]:
    return Template.from_stack(stack).find_resources(resource_type)


def _only_model(stack: cdk.Stack) -> dict[str, Any]:
    (model,) = _resources(stack, "AWS::SageMaker::Model").values()
    return model


def _statements_of_policies_on(stack: cdk.Stack, role_reference: Any) -> list[dict[str, Any]]:
    return [
        statement
        for policy in _resources(stack, "AWS::IAM::Policy").values()
        if role_reference in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _eni_statements(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def actions(statement: dict[str, Any]) -> list[str]:
        return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]

    return [s for s in statements if any(action in ENI_ACTIONS for action in actions(s))]


def test_tgi_model_is_a_serving_model_with_the_tgi_runtime() -> None:
    model = _model(_stack())
    assert isinstance(model, ServingModel)
    assert model.runtime == Tgi.of("3.3.6")


def test_model_without_network_has_no_vpc_config_and_no_connections() -> None:
    stack = _stack()
    model = _model(stack, environment={"SM_NUM_GPUS": "1"})
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "VpcConfig": Match.absent(),
            "PrimaryContainer": {"Environment": {"HF_MODEL_ID": MODEL_ID, "SM_NUM_GPUS": "1"}},
        },
    )
    with pytest.raises(ValueError, match="TgiModel has no VPC: pass network=EndpointNetwork"):
        _ = model.connections


@pytest.mark.parametrize("variable", ["HF_MODEL_ID", "HF_MODEL_REVISION", "HF_TOKEN"])
def test_model_refuses_the_variables_the_weights_set(variable: str) -> None:
    with pytest.raises(ValueError, match=rf"TgiModel environment sets \['{variable}'\].*weights source sets them"):
        _model(_stack(), environment={variable: "s3://bucket/prefix/"})


def test_hub_weights_need_the_internet_and_tell_checkov_why() -> None:
    stack = _stack()
    model = _model(stack)
    assert model.network_isolation is False
    resource = _only_model(stack)
    assert resource["Properties"]["EnableNetworkIsolation"] is False
    assert [skip["id"] for skip in resource["Metadata"]["checkov"]["skip"]] == ["CKV_AWS_370"]


def test_s3_weights_run_isolated_from_the_directory_sagemaker_fills() -> None:
    stack = _stack()
    bucket = s3.Bucket(stack, "Weights")
    weights = S3PrefixWeights(bucket=bucket, s3_uri="s3://weights/models/a/b/", read_prefix="models/a/b/")
    TgiModel(stack, "Model", image=TgiImage.of("3.3.6"), weights=weights, environment={"SM_NUM_GPUS": "1"})
    properties = _only_model(stack)["Properties"]
    assert properties["EnableNetworkIsolation"] is True
    assert properties["PrimaryContainer"]["Environment"] == {"SM_NUM_GPUS": "1", "HF_MODEL_ID": "/opt/ml/model"}
    assert properties["PrimaryContainer"]["ModelDataSource"] == {
        "S3DataSource": {"S3Uri": "s3://weights/models/a/b/", "S3DataType": "S3Prefix", "CompressionType": "None"}
    }
    assert "checkov" not in _only_model(stack).get("Metadata", {})


def test_a_new_role_is_described_by_the_runtime_and_the_model_waits_for_its_policy() -> None:
    stack = _stack()
    model = _model(stack)
    (role_id, role) = next(iter(_resources(stack, "AWS::IAM::Role").items()))
    assert role["Properties"]["Description"] == "Runs the TGI container of a SageMaker model"
    (policy_id,) = _resources(stack, "AWS::IAM::Policy")
    assert {role_id, policy_id} <= set(_only_model(stack)["DependsOn"])
    assert stack.resolve(model.role.role_arn) == {"Fn::GetAtt": [role_id, "Arn"]}


def test_model_uses_a_given_role_and_grants_it_image_pull() -> None:
    stack = _stack()
    role = iam.Role(stack, "PlatformRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    model = _model(stack, role=role)
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


def test_a_given_role_in_a_vpc_may_do_with_network_interfaces_what_the_models_own_role_may() -> None:
    """SageMaker creates the model's network interfaces with its role: without these, CreateModel fails."""
    stack = _stack()
    network = EndpointNetwork(stack, "Network")
    given = iam.Role(stack, "PlatformRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    _model(stack, "WithGivenRole", role=given, network=network)
    own = _model(stack, "WithItsOwnRole", network=network)
    given_statements = _eni_statements(_statements_of_policies_on(stack, stack.resolve(given.role_name)))
    own_statements = _eni_statements(_statements_of_policies_on(stack, stack.resolve(own.role.role_name)))
    assert len(own_statements) == 4
    assert given_statements == own_statements


def test_without_a_network_a_given_role_gets_no_network_interface_statements() -> None:
    stack = _stack()
    given = iam.Role(stack, "PlatformRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    _model(stack, role=given)
    assert _eni_statements(_statements_of_policies_on(stack, stack.resolve(given.role_name))) == []


def test_an_imported_role_gets_its_grants_in_a_policy_the_model_waits_for() -> None:
    stack = _stack()
    role = iam.Role.from_role_arn(stack, "PlatformRole", "arn:aws:iam::123456789012:role/platform")
    _model(stack, network=EndpointNetwork(stack, "Network"))
    _model(stack, "ModelWithPlatformRole", role=role, network=EndpointNetwork(stack, "PlatformNetwork"))
    policies = {
        policy_id: policy
        for policy_id, policy in _resources(stack, "AWS::IAM::Policy").items()
        if policy["Properties"]["Roles"] == ["platform"]
    }
    ((policy_id, policy),) = policies.items()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert len(_eni_statements(statements)) == 4
    assert any(statement["Action"] == "ecr:GetAuthorizationToken" for statement in statements)
    (model,) = [m for m in _resources(stack, "AWS::SageMaker::Model").values() if policy_id in m.get("DependsOn", [])]
    assert model["Properties"]["ExecutionRoleArn"] == "arn:aws:iam::123456789012:role/platform"


def test_a_role_this_app_may_not_change_is_left_as_it_is() -> None:
    """Documented: such a role must already allow what the model needs; synthesis cannot see its policies."""
    stack = _stack()
    role = iam.Role.from_role_arn(stack, "PlatformRole", "arn:aws:iam::123456789012:role/platform", mutable=False)
    _model(stack, role=role, network=EndpointNetwork(stack, "Network"))
    assert [p for p in _resources(stack, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == ["platform"]] == []
    assert _only_model(stack)["Properties"]["ExecutionRoleArn"] == "arn:aws:iam::123456789012:role/platform"


@pytest.mark.parametrize(
    ("environment", "gpus"),
    [({"SM_NUM_GPUS": "4"}, 4), ({}, None), ({"SM_NUM_GPUS": "auto"}, None), ({"NUM_SHARD": "2"}, None)],
)
def test_gpus_per_copy_is_what_the_runtimes_variable_sets(environment: dict[str, str], gpus: int | None) -> None:
    assert _model(_stack(), environment=environment).gpus_per_copy == gpus


def test_gpus_per_copy_of_a_token_is_unknown() -> None:
    stack = _stack()
    parameter = cdk.CfnParameter(stack, "Gpus", default="1")
    assert _model(stack, environment={"SM_NUM_GPUS": parameter.value_as_string}).gpus_per_copy is None


def test_connections_of_a_networked_model_allow_adding_rules() -> None:
    stack = _stack()
    network = EndpointNetwork(stack, "Network", allow_internet_egress=True)
    model = _model(stack, network=network)
    model.connections.allow_to(ec2.Peer.ipv4("10.9.0.0/16"), ec2.Port.tcp(5432), "feature store")
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupEgress": Match.array_with([Match.object_like({"CidrIp": "10.9.0.0/16", "FromPort": 5432})])},
    )
