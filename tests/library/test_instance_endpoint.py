"""InstanceEndpoint: one model on instance-based capacity, its autoscaling, updates, grants and metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template

from tgi_sagemaker import EndpointNetwork, InstanceEndpoint, InstanceType, TgiModel

MakeModel = Callable[..., TgiModel]
KMS_FINDING = "HIPAA.Security::HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured"


def _acknowledged(endpoint: InstanceEndpoint) -> list[Any]:
    return [
        entry.data
        for entry in endpoint.endpoint_config.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]


def test_the_models_role_may_write_the_endpoints_log_group_only(stack: cdk.Stack, make_model: MakeModel) -> None:
    endpoint = InstanceEndpoint(stack, "Endpoint", model=make_model(), instance_type="ml.g5.xlarge")
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


def test_the_variant_serves_the_model_object_it_was_given(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model()
    InstanceEndpoint(stack, "Endpoint", model=model, instance_type=InstanceType.of("ml.g5.xlarge"))
    template = Template.from_stack(stack)
    (model_id,) = template.find_resources("AWS::SageMaker::Model")
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like(
                    {"ModelName": {"Fn::GetAtt": [model_id, "ModelName"]}, "InstanceType": "ml.g5.xlarge"}
                )
            ]
        },
    )


def test_endpoint_grant_invoke_and_metrics_point_at_this_endpoint(stack: cdk.Stack, make_model: MakeModel) -> None:
    endpoint = InstanceEndpoint(stack, "Endpoint", model=make_model(), instance_type="ml.g5.xlarge")
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
    assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/SageMaker", "ModelLatency", "p90")
    deployed_name = template.find_resources("AWS::SageMaker::Endpoint")[endpoint_id]["Properties"]["EndpointName"]
    assert stack.resolve(metric.dimensions) == {"EndpointName": deployed_name, "VariantName": "AllTraffic"}
    assert deployed_name == endpoint.endpoint_name  # a plain string: alarms on it need not wait for the endpoint


def test_autoscaling_registers_the_variant_after_the_endpoint_exists(stack: cdk.Stack, make_model: MakeModel) -> None:
    endpoint = InstanceEndpoint(
        stack, "Endpoint", model=make_model(), instance_type="ml.g5.xlarge", min_instances=1, max_instances=3
    )
    template = Template.from_stack(stack)
    ((target_id, target),) = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").items()
    assert target["Properties"]["ResourceId"] == f"endpoint/{endpoint.endpoint_name}/variant/AllTraffic"
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (1, 3)
    assert next(iter(template.find_resources("AWS::SageMaker::Endpoint"))) in target["DependsOn"]
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "ScalingTargetId": {"Ref": target_id},
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                    "ScaleInCooldown": 600,
                    "ScaleOutCooldown": 120,
                    "TargetValue": 30,
                }
            ),
        },
    )
    assert endpoint.instance_count.scalable_target is endpoint.scalable_target


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_instances": 0}, "min_instances 0 must be >= 1"),
        ({"min_instances": 3, "max_instances": 2}, "max_instances 2 must be >= min_instances 3"),
        ({"invocations_per_instance": 0}, "invocations_per_instance 0 must be > 0"),
        ({"container_startup_health_check_timeout": cdk.Duration.hours(2)}, "7200s must be between 60 and 3600"),
        ({"model_data_download_timeout": cdk.Duration.seconds(30)}, "model_data_download_timeout 30s"),
        ({"scale_in_cooldown": cdk.Duration.hours(2)}, "scale_in_cooldown 7200s must be between 0 and 3600"),
        ({"instance_type": "g5.xlarge"}, r"instance_type 'g5.xlarge' .*did you mean 'ml.g5.xlarge'"),
    ],
)
def test_endpoint_rejects_bad_props_before_creating_anything(
    stack: cdk.Stack, make_model: MakeModel, kwargs: dict[str, Any], message: str
) -> None:
    props = {"model": make_model(), "instance_type": "ml.g5.xlarge", **kwargs}
    with pytest.raises(ValueError, match=message):
        InstanceEndpoint(stack, "Endpoint", **props)
    assert not stack.node.find_child("Endpoint").node.children


def test_every_problem_is_reported_at_once(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model(environment={"SM_NUM_GPUS": "4"})
    with pytest.raises(ValueError) as refused:
        InstanceEndpoint(stack, "Endpoint", model=model, instance_type="ml.g5.2xlarge", min_instances=0)
    assert str(refused.value) == (
        "InstanceEndpoint: model shards over SM_NUM_GPUS=4 GPUs and ml.g5.2xlarge has 1: the container would not "
        "start; use an instance type with at least 4 GPUs, or lower the model's SM_NUM_GPUS; min_instances 0 must be "
        ">= 1 "
        "(instance-based variants cannot scale to 0)"
    )


def test_a_model_that_downloads_its_weights_needs_internet_egress(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model(network=EndpointNetwork(stack, "Network"))  # Hub weights in an isolated VPC
    with pytest.raises(ValueError, match=r"model.network has no internet egress.*allow_internet_egress=True"):
        InstanceEndpoint(stack, "Endpoint", model=model, instance_type="ml.g5.xlarge")


def test_an_unresolved_instance_type_is_served_and_nothing_is_claimed_of_it(
    stack: cdk.Stack, make_model: MakeModel
) -> None:
    parameter = cdk.CfnParameter(stack, "InstanceType", default="ml.g5.xlarge")
    endpoint = InstanceEndpoint(stack, "Endpoint", model=make_model(), instance_type=parameter.value_as_string)
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {"ProductionVariants": [Match.object_like({"InstanceType": {"Ref": "InstanceType"}})]},
    )
    # Whether that instance type has local NVMe (and so refuses a KMS key) is unknown: no reason to give.
    assert _acknowledged(endpoint) == []


def test_a_family_the_catalog_does_not_list_is_served_with_its_figures_unchecked(
    stack: cdk.Stack, make_model: MakeModel
) -> None:
    model = make_model(environment={"SM_NUM_GPUS": "8"})
    endpoint = InstanceEndpoint(stack, "Endpoint", model=model, instance_type="ml.g7e.48xlarge")
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {"ProductionVariants": [Match.object_like({"InstanceType": "ml.g7e.48xlarge"})]},
    )
    assert _acknowledged(endpoint) == []  # local NVMe unknown: the KMS finding stays for its owner to judge
    assert isinstance(endpoint.metric_utilization_percent("GPU"), cloudwatch.Metric)  # GPU count unknown: summed
    warnings = Annotations.from_stack(stack).find_warning("/Stack/Endpoint", Match.string_like_regexp("sums GPU"))
    assert len(warnings) == 1 and "InstanceType.of(name, gpu_count=N)" in str(warnings[0].entry.data)
    listed = InstanceEndpoint(stack, "Listed", model=make_model("ListedModel"), instance_type="ml.g5.xlarge")
    assert KMS_FINDING in json.dumps(_acknowledged(listed))
    assert Annotations.from_stack(stack).find_warning("/Stack/Listed", Match.any_value()) == []


def test_an_unlisted_family_with_its_gpus_declared_is_checked_and_divided(
    stack: cdk.Stack, make_model: MakeModel
) -> None:
    eight = InstanceType.of("ml.g7e.48xlarge", gpu_count=8)
    endpoint = InstanceEndpoint(
        stack, "Endpoint", model=make_model(environment={"SM_NUM_GPUS": "8"}), instance_type=eight
    )
    memory = endpoint.metric_utilization_percent("GPUMemory")
    assert isinstance(memory, cloudwatch.MathExpression) and memory.expression == "gpumemory_summed / 8"
    assert Annotations.from_stack(stack).find_warning("/Stack/Endpoint", Match.any_value()) == []
    four = InstanceType.of("ml.g7e.24xlarge", gpu_count=4)
    with pytest.raises(ValueError, match=r"SM_NUM_GPUS=8 GPUs and ml\.g7e\.24xlarge has 4"):
        InstanceEndpoint(
            stack, "TooMany", model=make_model("Big", environment={"SM_NUM_GPUS": "8"}), instance_type=four
        )


def test_gpu_figures_are_divided_by_the_gpu_count(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model()
    four = InstanceEndpoint(stack, "Four", model=model, instance_type="ml.g5.12xlarge")
    one = InstanceEndpoint(stack, "One", model=model, instance_type="ml.g5.2xlarge")
    memory = four.metric_utilization_percent("GPUMemory")
    assert isinstance(memory, cloudwatch.MathExpression) and memory.expression == "gpumemory_summed / 4"
    assert memory.label == "GPUMemory %"
    (summed,) = memory.using_metrics.values()
    assert (summed.namespace, summed.metric_name) == ("/aws/sagemaker/Endpoints", "GPUMemoryUtilization")
    assert isinstance(four.metric_utilization_percent("CPU"), cloudwatch.Metric)  # CPU is already a percentage
    assert isinstance(one.metric_utilization_percent("GPU"), cloudwatch.Metric)  # one GPU: nothing to divide
    relabelled = four.metric_utilization_percent("GPU", label="GPU busy", period=cdk.Duration.minutes(5))
    assert isinstance(relabelled, cloudwatch.MathExpression) and relabelled.label == "GPU busy"
    assert relabelled.period.to_seconds() == 300


def test_updates_roll_one_instance_at_a_time_or_blue_green(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model()
    rolling = InstanceEndpoint(stack, "Rolling", model=model, instance_type="ml.g5.2xlarge")
    rolling.configure_updates(strategy="rolling")
    blue_green = InstanceEndpoint(stack, "BlueGreen", model=model, instance_type="ml.g5.2xlarge")
    blue_green.configure_updates(bake_time=cdk.Duration.minutes(3))  # blue/green by default
    with pytest.raises(ValueError, match="InstanceEndpoint: bake_time 7200s must be between 0 and 3600"):
        blue_green.configure_updates(bake_time=cdk.Duration.hours(2))
    endpoints = Template.from_stack(stack).find_resources("AWS::SageMaker::Endpoint")
    configs = {
        name: endpoints[stack.get_logical_id(endpoint.endpoint)]["Properties"]["DeploymentConfig"]
        for name, endpoint in (("Rolling", rolling), ("BlueGreen", blue_green))
    }
    assert configs == {
        "Rolling": {
            "RollingUpdatePolicy": {
                "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                "WaitIntervalInSeconds": 600,
            }
        },
        "BlueGreen": {
            "BlueGreenUpdatePolicy": {
                "TerminationWaitInSeconds": 180,
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE"},
            }
        },
    }
