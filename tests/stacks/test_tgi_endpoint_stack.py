"""What the default deployment (DeepSeek-R1-Distill-Llama-8B on ml.g5.2xlarge) puts in its template."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match

from helpers import Synthesized, config_with, default_config, synthesize
from tgi_sagemaker import UNPINNED_HUB_REVISION_WARNING
from tgi_sagemaker.cli.command_line import build_parser

MODEL = "AWS::SageMaker::Model"


def _only(synth: Synthesized, resource_type: str) -> tuple[str, dict]:
    resources = synth.template().find_resources(resource_type)
    assert len(resources) == 1, f"expected one {resource_type}, found {list(resources)}"
    return next(iter(resources.items()))


def test_default_deployment_is_the_blogs_llama_8b_on_g5_2xlarge() -> None:
    (deployment,) = default_config()["deployments"]
    assert deployment["model"]["id"] == "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"
    assert deployment["instance_type"] == "ml.g5.2xlarge"


@pytest.fixture(scope="module")
def hub_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    config = config_with({"weights": {"source": "hub"}})
    return synthesize(config, Path(tmp_path_factory.mktemp("hub")))  # its warning is advice: no finding


def test_hub_weights_of_no_pinned_commit_are_a_synth_warning_on_the_model(hub_app: Synthesized) -> None:
    # Outside production (where the config refuses it) an unpinned Hub revision deploys, and synthesis says why
    # that may serve two model versions at once: on the model, with the fix.
    (warning,) = hub_app.advisory_notes
    assert f"{UNPINNED_HUB_REVISION_WARNING} (warning) at TgiSageMaker-r1-distill-llama-8b/TgiModel" in warning, warning
    model = hub_app.app.node.find_child("TgiSageMaker-r1-distill-llama-8b").node.find_child("TgiModel")
    messages = [entry.data for entry in model.node.metadata if entry.type == "aws:cdk:warning"]
    assert len(messages) == 1 and "every instance start" in messages[0] and "config: model.revision" in messages[0]


def test_model_environment_carries_every_tgi_setting(default_app: Synthesized) -> None:
    _, model = _only(default_app, MODEL)
    assert model["Properties"]["PrimaryContainer"]["Environment"] == {
        "HF_MODEL_ID": "/opt/ml/model",
        "SM_NUM_GPUS": "1",
        "MAX_INPUT_TOKENS": "3072",
        "MAX_TOTAL_TOKENS": "4096",
        "MAX_BATCH_PREFILL_TOKENS": "3200",
        "MAX_CONCURRENT_REQUESTS": "128",
        "DTYPE": "bfloat16",
    }


def test_model_image_resolves_per_region_through_a_mapping(default_app: Synthesized) -> None:
    template = default_app.template()
    image = Capture()
    template.has_resource_properties(MODEL, {"PrimaryContainer": {"Image": image}})
    parts = image.as_object()["Fn::Join"][1]
    assert {"Fn::FindInMap": ["TgiImageRegistries", {"Ref": "AWS::Region"}, "account"]} in parts
    assert {"Fn::FindInMap": ["TgiImageRegistries", {"Ref": "AWS::Region"}, "domain"]} in parts
    assert parts[-1] == "/huggingface-pytorch-tgi-inference:2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04"
    mapping = default_app.raw()["Mappings"]["TgiImageRegistries"]
    assert mapping["us-east-1"] == {"account": "763104351884", "domain": "amazonaws.com"}
    assert mapping["cn-north-1"] == {"account": "727897471807", "domain": "amazonaws.com.cn"}


def test_s3_weights_are_an_uncompressed_prefix_served_with_network_isolation(default_app: Synthesized) -> None:
    template = default_app.template()
    copy_id, copy = _only(default_app, "Custom::HubWeightsCopy")
    assert copy["Properties"]["RepoId"] == "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"
    template.has_resource_properties(
        MODEL,
        {
            "EnableNetworkIsolation": True,
            "PrimaryContainer": {
                "ModelDataSource": {
                    "S3DataSource": {
                        "S3Uri": {"Fn::GetAtt": [copy_id, "S3Uri"]},
                        "S3DataType": "S3Prefix",
                        "CompressionType": "None",
                    }
                }
            },
        },
    )
    bucket_id, _ = _only(default_app, "AWS::S3::Bucket")
    role_id = template.find_resources(MODEL)[_only(default_app, MODEL)[0]]["Properties"]["ExecutionRoleArn"][
        "Fn::GetAtt"
    ][0]
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    prefix = "models/deepseek-ai/DeepSeek-R1-Distill-Llama-8B/"
    (get,) = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert get["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{prefix}*"]]}
    (listing,) = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert listing["Resource"] == {"Fn::GetAtt": [bucket_id, "Arn"]}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    s3_actions = {a for s in statements for a in _as_list(s["Action"]) if a.startswith("s3:")}
    assert s3_actions == {"s3:GetObject", "s3:ListBucket"}


def test_the_weights_bucket_is_private_encrypted_tls_only_and_retained(default_app: Synthesized) -> None:
    template = default_app.template()
    template.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "LifecycleConfiguration": {
                    "Rules": [Match.object_like({"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}})]
                },
            },
        },
    )
    policy = json.dumps(template.find_resources("AWS::S3::BucketPolicy"))
    assert '"aws:SecureTransport": "false"' in policy


def test_the_copy_runs_as_a_provider_over_a_distributed_map(default_app: Synthesized) -> None:
    template = default_app.template()
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    definitions = [json.dumps(m["Properties"].get("DefinitionString")) for m in machines.values()]
    copy_machine = next(d for d in definitions if "DISTRIBUTED" in d)
    assert '\\"MaxConcurrency\\":16' in copy_machine and "TransientError" in copy_machine
    functions = template.find_resources("AWS::Lambda::Function")
    ours = [
        f["Properties"]
        for f in functions.values()
        if str(f["Properties"].get("Handler", "")).startswith("weights_copy")
    ]
    assert sorted(f["Handler"] for f in ours) == [
        "weights_copy.handlers.copy_file",
        "weights_copy.handlers.is_complete",
        "weights_copy.handlers.on_event",
    ]
    assert all("VpcConfig" not in f for f in ours)  # the copy reaches the Hub; the endpoint's VPC has no route out
    assert all("HF_TOKEN" not in json.dumps(f.get("Environment", {})) for f in ours)


def test_hub_weights_leave_network_isolation_off_and_the_model_in_the_vpc(hub_app: Synthesized) -> None:
    template = hub_app.template()
    subnets, groups = Capture(), Capture()
    template.has_resource_properties(
        MODEL,
        {
            "EnableNetworkIsolation": False,
            "PrimaryContainer": {
                "Environment": Match.object_like({"HF_MODEL_ID": "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"})
            },
            "VpcConfig": {"Subnets": subnets, "SecurityGroupIds": groups},
        },
    )
    template.resource_count_is("AWS::S3::Bucket", 0)
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    private_subnets = {
        logical_id
        for logical_id, subnet in template.find_resources("AWS::EC2::Subnet").items()
        if not subnet["Properties"]["MapPublicIpOnLaunch"]
        and any(t == {"Key": "aws-cdk:subnet-type", "Value": "Private"} for t in subnet["Properties"]["Tags"])
    }
    assert {ref["Ref"] for ref in subnets.as_array()} == private_subnets
    assert len(private_subnets) == 2
    (group,) = groups.as_array()
    group_id = group["Fn::GetAtt"][0]
    security_group = template.find_resources("AWS::EC2::SecurityGroup")[group_id]["Properties"]
    assert "SecurityGroupIngress" not in security_group
    assert security_group["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "Hugging Face Hub over HTTPS",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    # The model needs the internet, and so do its endpoint config's settings (components use those).
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig", {"EnableNetworkIsolation": False, "VpcConfig": Match.object_like({})}
    )
    # Nothing of this stack reads S3 through the gateway endpoint: it allows reads of this account's buckets only.
    (endpoint,) = template.find_resources("AWS::EC2::VPCEndpoint").values()
    assert endpoint["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Condition": {"StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}},
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Resource": "*",
        }
    ]


def test_new_vpc_is_isolated_with_an_s3_endpoint_and_flow_logs(default_app: Synthesized) -> None:
    template = default_app.template()
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    (group,) = template.find_resources("AWS::EC2::SecurityGroup").values()
    assert group["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "S3 through the gateway endpoint",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway", "ServiceName": Match.object_like({})}
    )
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    template.has_resource(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 365}, "DeletionPolicy": "RetainExceptOnCreate"}
    )


def test_execution_role_is_least_privilege(default_app: Synthesized) -> None:
    template = default_app.template()
    role_id, _ = next(
        (logical_id, role)
        for logical_id, role in template.find_resources("AWS::IAM::Role").items()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "sagemaker.amazonaws.com"}
    )
    template.has_resource_properties(MODEL, {"ExecutionRoleArn": {"Fn::GetAtt": [role_id, "Arn"]}})
    ours = {
        r["Metadata"]["aws:cdk:path"].split("/", 1)[1]: r
        for r in template.find_resources("AWS::IAM::Role").values()
        if not _is_cdk_provider(r)
    }
    assert sorted(ours) == [
        "InferenceComponent/ScalableTarget/Role/Resource",
        "Network/Vpc/FlowLog/IAMRole/Resource",
        "TgiModel/ExecutionRole/Role/Resource",
        "WeightsCopy/CopyFileRole/Resource",
        "WeightsCopy/IsCompleteRole/Resource",
        "WeightsCopy/OnEventRole/Resource",
        "WeightsCopy/ProviderOnEventRole/Resource",
        "WeightsCopy/ProviderWaiterRole/Resource",
        "WeightsCopy/StateMachine/Role/Resource",
    ]
    assert all("ManagedPolicyArns" not in role["Properties"] for role in ours.values())
    policies = [
        p for p in template.find_resources("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    (policy,) = policies
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_action = {action: s for s in statements for action in _as_list(s["Action"])}
    assert "sagemaker:*" not in by_action and "s3:*" not in by_action
    pull = by_action["ecr:BatchGetImage"]["Resource"]
    assert pull["Fn::Join"][1][-1] == ":repository/huggingface-pytorch-tgi-inference"
    assert by_action["ecr:GetAuthorizationToken"]["Resource"] == "*"
    (endpoint,) = template.find_resources("AWS::SageMaker::Endpoint").values()
    (component,) = template.find_resources("AWS::SageMaker::InferenceComponent").values()
    groups = [
        ("/aws/sagemaker/Endpoints/", endpoint["Properties"]["EndpointName"]),
        ("/aws/sagemaker/InferenceComponents/", component["Properties"]["InferenceComponentName"]),
    ]
    assert _log_groups(by_action["logs:PutLogEvents"]["Resource"]) == {
        prefix + spelling for prefix, name in groups for spelling in (name, name.lower())
    }
    assert by_action["cloudwatch:PutMetricData"]["Condition"] == {
        "StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}
    }
    wildcard_actions = {a for s in statements if s["Resource"] == "*" for a in _as_list(s["Action"])}
    allowed = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}
    assert all(a.startswith("ec2:Describe") or a in allowed for a in wildcard_actions), wildcard_actions
    template.has_resource(MODEL, {"DependsOn": Match.array_with([role_id])})


def _log_groups(resources: list[Any]) -> set[str]:
    """The log group names a logs statement covers (its stream wildcards are the groups' own streams)."""
    names = set()
    for resource in resources:
        text = "".join(p if isinstance(p, str) else "" for p in resource["Fn::Join"][1])
        name = text.split(":log-group:", 1)[1].removesuffix(":log-stream:*")
        assert "*" not in name, resource
        names.add(name)
    return names


def test_sagemaker_may_assume_the_execution_role_for_this_account_only(default_app: Synthesized) -> None:
    default_app.template().has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                    }
                ]
            }
        },
    )


def test_network_interfaces_are_allowed_in_the_endpoints_subnets_only(default_app: Synthesized) -> None:
    template = default_app.template()
    _, model = _only(default_app, MODEL)
    subnets = model["Properties"]["VpcConfig"]["Subnets"]
    (group,) = model["Properties"]["VpcConfig"]["SecurityGroupIds"]
    role_id = model["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if any(a.startswith("ec2:") and not a.startswith("ec2:Describe") for a in _as_list(s["Action"]))
    ]
    create = next(s for s in statements if s["Action"] == "ec2:CreateNetworkInterface")
    assert sorted(map(_arn_tail, create["Resource"])) == sorted(
        ["network-interface/*", f"security-group/{json.dumps(group)}", *(f"subnet/{json.dumps(s)}" for s in subnets)]
    )
    (own,) = [s for s in statements if s is not create]
    assert sorted(own["Action"]) == [
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
    ]
    assert _arn_tail(own["Resource"]) == "network-interface/*"
    assert sorted(map(_arn_tail, own["Condition"]["ArnLike"]["ec2:Subnet"])) == sorted(
        f"subnet/{json.dumps(s)}" for s in subnets
    )


def _arn_tail(arn: dict[str, Any]) -> str:
    """``subnet/{"Ref": ...}`` of an ARN built with Fn::Join, after checking it names this account and region."""
    parts = arn["Fn::Join"][1]
    assert parts[:6] == [
        "arn:",
        {"Ref": "AWS::Partition"},
        ":ec2:",
        {"Ref": "AWS::Region"},
        ":",
        {"Ref": "AWS::AccountId"},
    ]
    tail = parts[6:]
    return tail[0].lstrip(":") + ("" if len(tail) == 1 else json.dumps(tail[1]))


def test_the_s3_gateway_endpoint_lets_through_the_weights_reads_only(default_app: Synthesized) -> None:
    (endpoint,) = default_app.template().find_resources("AWS::EC2::VPCEndpoint").values()
    bucket_id, _ = _only(default_app, "AWS::S3::Bucket")
    prefix = "models/deepseek-ai/DeepSeek-R1-Distill-Llama-8B/"
    assert endpoint["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{prefix}*"]]},
        },
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": [bucket_id, "Arn"]},
        },
    ]


@pytest.fixture(scope="module")
def instances_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    config = config_with({"scaling": {"mode": "instances"}})
    return synthesize(config, Path(tmp_path_factory.mktemp("instances")))


def test_endpoint_config_is_instance_based_without_kms_or_volume(instances_app: Synthesized) -> None:
    template = instances_app.template()
    model_id, _ = _only(instances_app, MODEL)
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
                    "InstanceType": "ml.g5.2xlarge",
                    "InitialInstanceCount": 1,
                    "ModelDataDownloadTimeoutInSeconds": 1800,
                    "ContainerStartupHealthCheckTimeoutInSeconds": 1800,
                    "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
                    "VolumeSizeInGB": Match.absent(),
                    "ManagedInstanceScaling": Match.absent(),
                }
            ],
            "KmsKeyId": Match.absent(),
        },
    )
    config_id, _ = _only(instances_app, "AWS::SageMaker::EndpointConfig")
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint", {"EndpointConfigName": {"Fn::GetAtt": [config_id, "EndpointConfigName"]}}
    )
    template.resource_count_is("AWS::SageMaker::InferenceComponent", 0)
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": Match.absent()})  # the 5xx rate
    (endpoint,) = template.find_resources("AWS::SageMaker::Endpoint").values()
    role_id = template.find_resources(MODEL)[model_id]["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    (logs,) = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "logs:PutLogEvents" in _as_list(s["Action"])
    ]
    name = endpoint["Properties"]["EndpointName"]
    assert _log_groups(logs["Resource"]) == {  # where an instance-based variant logs
        f"/aws/sagemaker/Endpoints/{spelling}" for spelling in (name, name.lower())
    }
    assert "NoCapacityInvocationFailures" not in json.dumps(template.to_json())  # no wake-up path without a component


def test_autoscaling_tracks_invocations_per_instance_of_this_endpoint(instances_app: Synthesized) -> None:
    template = instances_app.template()
    endpoint_id, _ = _only(instances_app, "AWS::SageMaker::Endpoint")
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ServiceNamespace": "sagemaker",
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "MinCapacity": 1,
            "MaxCapacity": 2,
            "ResourceId": f"endpoint/{_endpoint_name(instances_app)}/variant/AllTraffic",
        },
    )
    target_id, target = _only(instances_app, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["DependsOn"] == [endpoint_id]  # the id is a plain string: the order must be explicit
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": target_id},
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                "TargetValue": 30,
                "ScaleInCooldown": 600,
                "ScaleOutCooldown": 120,
            },
        },
    )


def test_outputs_name_the_endpoint_and_a_ready_invoke_command(default_app: Synthesized) -> None:
    outputs = default_app.raw()["Outputs"]
    _, endpoint = _only(default_app, "AWS::SageMaker::Endpoint")
    endpoint_name = endpoint["Properties"]["EndpointName"]
    _, component = _only(default_app, "AWS::SageMaker::InferenceComponent")
    name = component["Properties"]["InferenceComponentName"]
    assert outputs["EndpointName"]["Value"] == endpoint_name
    assert outputs["InferenceComponentName"]["Value"] == name
    parts = outputs["InvokeCommand"]["Value"]["Fn::Join"][1]
    assert parts[0].startswith("aws sagemaker-runtime invoke-endpoint --region ")
    assert f"--endpoint-name {endpoint_name} " in "".join(p for p in parts if isinstance(p, str))
    assert f"--inference-component-name {name} " in "".join(p for p in parts if isinstance(p, str))
    body = parts[-1].split("--body '", 1)[1].split("'", 1)[0]
    assert json.loads(body)["messages"][0]["role"] == "user"
    stream = outputs["StreamCommand"]["Value"]["Fn::Join"][1]
    assert all(p == {"Ref": "AWS::Region"} for p in stream if not isinstance(p, str))
    command = "".join(p if isinstance(p, str) else "us-east-1" for p in stream)
    args = build_parser().parse_args(shlex.split(command)[1:])  # the CLI accepts it as printed
    assert (args.command, args.endpoint, args.region) == ("invoke", f"{endpoint_name}:{name}", "us-east-1")


def test_tags_reach_every_taggable_resource(default_app: Synthesized) -> None:
    template = default_app.template()
    for resource_type in ("AWS::SageMaker::Model", "AWS::SageMaker::Endpoint", "AWS::EC2::VPC", "AWS::IAM::Role"):
        for resource in template.find_resources(resource_type).values():
            if _is_cdk_provider(resource):
                continue
            assert {"Key": "project", "Value": "tgi-sagemaker"} in resource["Properties"]["Tags"]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _is_cdk_provider(resource: dict) -> bool:
    """CDK's own custom-resource providers (the default-security-group cleaner, the provider framework)."""
    path = resource.get("Metadata", {}).get("aws:cdk:path", "")
    return "CustomResourceProvider" in path or "/Provider/framework-" in path or "/Provider/waiter-" in path


def _endpoint_name(synthesized: Synthesized) -> str:
    _, endpoint = _only(synthesized, "AWS::SageMaker::Endpoint")
    name = endpoint["Properties"]["EndpointName"]
    assert isinstance(name, str) and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
    return name
