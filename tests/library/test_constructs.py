"""The constructs on their own, as a platform team would compose them."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template

from tgi_sagemaker import (
    EndpointNetwork,
    HubWeights,
    InferenceComponentEndpoint,
    InstanceEndpoint,
    ScalableInferenceComponent,
    TgiImage,
    TgiModel,
    add_compliance_checks,
)
from tgi_sagemaker.compliance import acknowledge, acknowledge_wildcards, unacknowledged_findings

MODEL_ID = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Stack")


def _model(stack: cdk.Stack, **kwargs) -> TgiModel:  # type: ignore[no-untyped-def]
    return TgiModel(stack, "Model", image=TgiImage.of("3.3.6"), weights=HubWeights(repo_id=MODEL_ID), **kwargs)


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
    with pytest.raises(ValueError, match="no VPC: pass network=EndpointNetwork"):
        _ = model.connections


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


def test_model_refuses_weights_variables_in_its_environment() -> None:
    with pytest.raises(ValueError, match=r"\['HF_MODEL_ID'\].*weights source sets them"):
        _model(_stack(), environment={"HF_MODEL_ID": "s3://bucket/prefix/"})


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


def test_isolated_network_has_no_nat_and_no_internet_egress() -> None:
    stack = _stack()
    network = EndpointNetwork(stack, "Network", allow_internet_egress=False)
    model = _model(stack, network=network)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupEgress": [
                Match.object_like({"Description": "S3 through the gateway endpoint", "FromPort": 443})
            ]
        },
    )
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})
    assert model.connections.security_groups == network.security_groups


def test_the_s3_endpoint_of_a_network_nobody_reads_through_allows_this_accounts_buckets_only() -> None:
    stack = _stack()
    _model(stack, network=EndpointNetwork(stack, "Network"))  # Hub weights: nothing granted through the endpoint
    (endpoint,) = Template.from_stack(stack).find_resources("AWS::EC2::VPCEndpoint").values()
    (statement,) = endpoint["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}}
    assert statement["Action"] == ["s3:GetObject", "s3:ListBucket"]


def test_an_instance_endpoint_lets_the_role_it_is_given_write_its_log_group_only() -> None:
    stack = _stack()
    model = _model(stack)
    endpoint = InstanceEndpoint(
        stack, "Endpoint", model_name=model.model_name, instance_type="ml.g5.xlarge", role=model.role
    )
    statements = [
        s
        for p in Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "logs:PutLogEvents" in s["Action"]
    ]
    (logs,) = statements
    rendered = json.dumps(stack.resolve(logs["Resource"]))
    for name in (endpoint.endpoint_name, endpoint.endpoint_name.lower()):
        assert f':log-group:/aws/sagemaker/Endpoints/{name}"' in rendered
        assert f':log-group:/aws/sagemaker/Endpoints/{name}:log-stream:*"' in rendered
    assert rendered.count(":log-group:") == 4


def test_a_wildcard_no_reason_describes_stays_a_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Wildcards")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::weights/models/*"]))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::other/*"]))
    acknowledge(role, {"HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy": "one role's own grant, for this test"})
    acknowledge_wildcards(role, reasons={r"/models/\*$": "the model's own prefix"})
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    findings = unacknowledged_findings(tmp_path / "validation-report.json")
    unexplained = "AwsSolutions-IAM5[Resource::arn:aws:s3:::other/*]"
    assert findings == [f"AwsSolutions: {unexplained} (error) at Wildcards/Role/DefaultPolicy/Resource"]


def test_existing_network_needs_a_vpc_id_or_security_groups() -> None:
    with pytest.raises(ValueError, match="give vpc_id"):
        EndpointNetwork.from_ids(_stack(), "Network", vpc_id=None, subnet_ids=["subnet-0a1b2c3d"])


def test_endpoint_grant_invoke_and_metrics_point_at_this_endpoint() -> None:
    stack = _stack()
    model = _model(stack)
    endpoint = InstanceEndpoint(stack, "Endpoint", model_name=model.model_name, instance_type="ml.g5.xlarge")
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(caller)
    template = Template.from_stack(stack)
    endpoint_id = next(iter(template.find_resources("AWS::SageMaker::Endpoint")))
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("Caller")}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
                        "Effect": "Allow",
                        "Resource": {"Ref": endpoint_id},
                    }
                ]
            },
        },
    )
    metric = endpoint.metric_model_latency()
    assert metric.namespace == "AWS/SageMaker" and metric.metric_name == "ModelLatency"
    deployed_name = template.find_resources("AWS::SageMaker::Endpoint")[endpoint_id]["Properties"]["EndpointName"]
    assert stack.resolve(metric.dimensions) == {"EndpointName": deployed_name, "VariantName": "AllTraffic"}
    assert deployed_name == endpoint.endpoint_name  # a plain string: alarms on it need not wait for the endpoint


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_instances": 0}, "min_instances 0 must be >= 1"),
        ({"min_instances": 3, "max_instances": 2}, "max_instances 2 must be >= min_instances 3"),
        ({"invocations_per_instance": 0}, "invocations_per_instance 0 must be > 0"),
        ({"container_startup_health_check_timeout": cdk.Duration.hours(2)}, "7200s must be between 60 and 3600"),
        ({"model_data_download_timeout": cdk.Duration.seconds(30)}, "model_data_download_timeout 30s"),
        ({"instance_type": "ml.m5.xlarge"}, "'ml.m5.xlarge' is not a known GPU instance type"),
    ],
)
def test_endpoint_rejects_bad_props_before_creating_anything(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    stack = _stack()
    props = {"model_name": "m", "instance_type": "ml.g5.xlarge", **kwargs}
    with pytest.raises(ValueError, match=message):
        InstanceEndpoint(stack, "Endpoint", **props)
    assert stack.node.try_find_child("Endpoint") is None or not stack.node.find_child("Endpoint").node.children


def test_endpoint_accepts_an_unresolved_instance_type() -> None:
    stack = _stack()
    parameter = cdk.CfnParameter(stack, "InstanceType", default="ml.g5.xlarge")
    endpoint = InstanceEndpoint(stack, "Endpoint", model_name="m", instance_type=parameter.value_as_string)
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {"ProductionVariants": [Match.object_like({"InstanceType": {"Ref": "InstanceType"}})]},
    )
    # Whether that instance type has local NVMe (and so refuses a KMS key) is unknown: no reason to give.
    acknowledged = [
        entry
        for entry in endpoint.endpoint_config.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
    assert acknowledged == []


def test_connections_of_a_networked_model_allow_adding_rules() -> None:
    stack = _stack()
    network = EndpointNetwork(stack, "Network", allow_internet_egress=True)
    model = _model(stack, network=network)
    model.connections.allow_to(ec2.Peer.ipv4("10.9.0.0/16"), ec2.Port.tcp(5432), "feature store")
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupEgress": Match.array_with([Match.object_like({"CidrIp": "10.9.0.0/16", "FromPort": 5432})])},
    )


def _component_endpoint(stack: cdk.Stack, model: TgiModel, **kwargs) -> InferenceComponentEndpoint:  # type: ignore[no-untyped-def]
    return InferenceComponentEndpoint(stack, "Endpoint", role=model.role, instance_type="ml.g5.12xlarge", **kwargs)


def test_two_components_share_one_endpoint_with_their_own_names_targets_and_alarms() -> None:
    stack = _stack()
    model = _model(stack)
    endpoint = _component_endpoint(stack, model, max_instances=1)
    first = ScalableInferenceComponent(
        stack, "Chat", endpoint=endpoint, model_name=model.model_name, accelerators_per_copy=2, min_memory_mb=8192
    )
    second = ScalableInferenceComponent(
        stack, "Batch", endpoint=endpoint, model_name=model.model_name, accelerators_per_copy=2, min_memory_mb=8192
    )
    assert first.component_name != second.component_name
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SageMaker::InferenceComponent", 2)
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)
    for component in (first, second):
        template.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalableTarget",
            {"ResourceId": f"inference-component/{component.component_name}", "MinCapacity": 0, "MaxCapacity": 1},
        )
    assert stack.resolve(first.scale_out_from_zero_alarm.metric.dimensions) == {  # type: ignore[attr-defined]
        "InferenceComponentName": first.component_name
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"accelerators_per_copy": 8}, "accelerators_per_copy 8 is above the 4 GPU"),
        ({"accelerators_per_copy": 0}, "accelerators_per_copy 0 must be >= 1"),
        ({"min_memory_mb": 10**6}, "min_memory_mb 1000000 must be between 1 and 196608 on ml.g5.12xlarge"),
        ({"max_copies": 9}, r"max_copies 9 do not fit on 2 x ml.g5.12xlarge \(8 fit\)"),
        ({"min_copies": 2, "max_copies": 1}, "max_copies 1 must be >= 1 and >= min_copies 2"),
        ({"concurrent_requests_per_copy": -1}, "concurrent_requests_per_copy -1 must be > 0"),
        ({"scale_out_from_zero_cooldown": cdk.Duration.hours(2)}, "scale_out_from_zero_cooldown 7200s"),
        ({"component_name": "bad_name"}, "component_name 'bad_name'"),
    ],
)
def test_component_rejects_bad_props(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    stack = _stack()
    model = _model(stack)
    endpoint = _component_endpoint(stack, model)
    props = {"endpoint": endpoint, "model_name": model.model_name, "accelerators_per_copy": 1, "min_memory_mb": 1024}
    with pytest.raises(ValueError, match=message):
        ScalableInferenceComponent(stack, "Component", **{**props, **kwargs})


def test_component_endpoint_rejects_bad_bounds() -> None:
    stack = _stack()
    model = _model(stack)
    with pytest.raises(ValueError, match="max_instances 0 must be >= 1"):
        _component_endpoint(stack, model, max_instances=0)
