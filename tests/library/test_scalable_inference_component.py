"""ScalableInferenceComponent: a model's copies on a shared endpoint, scaling to zero and waking on demand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from tgi_sagemaker import (
    EndpointNetwork,
    InferenceComponentEndpoint,
    S3PrefixWeights,
    ScalableInferenceComponent,
    TgiImage,
    TgiModel,
)

MakeModel = Callable[..., TgiModel]


def _endpoint(stack: cdk.Stack, model: TgiModel, **props: Any) -> InferenceComponentEndpoint:
    return InferenceComponentEndpoint(stack, "Endpoint", role=model.role, instance_type="ml.g5.12xlarge", **props)


def _isolated_model(stack: cdk.Stack, network: EndpointNetwork | None = None) -> TgiModel:
    bucket = s3.Bucket(stack, "Weights")
    weights = S3PrefixWeights(bucket=bucket, s3_uri="s3://weights/models/m/", read_prefix="models/m/")
    environment = {"SM_NUM_GPUS": "1"}
    return TgiModel(
        stack, "Isolated", image=TgiImage.of("3.3.6"), weights=weights, environment=environment, network=network
    )


def test_two_components_share_one_endpoint_with_their_own_names_targets_and_alarms(
    stack: cdk.Stack, make_model: MakeModel
) -> None:
    model = make_model()
    endpoint = _endpoint(stack, model, max_instances=1)
    first = ScalableInferenceComponent(
        stack, "Chat", endpoint=endpoint, model=model, accelerators_per_copy=2, min_memory_mb=8192
    )
    second = ScalableInferenceComponent(
        stack, "Batch", endpoint=endpoint, model=model, accelerators_per_copy=2, min_memory_mb=8192
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
    assert first.copy_count.scalable_target is first.scalable_target


def test_a_copy_gets_the_gpus_the_model_shards_over_by_default(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model(environment={"SM_NUM_GPUS": "2"})
    component = ScalableInferenceComponent(
        stack, "Component", endpoint=_endpoint(stack, model), model=model, min_memory_mb=8192
    )
    assert component.accelerators_per_copy == 2
    (model_id,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model")
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::InferenceComponent",
        {
            "Specification": Match.object_like(
                {
                    "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
                    "ComputeResourceRequirements": {
                        "NumberOfAcceleratorDevicesRequired": 2,
                        "MinMemoryRequiredInMb": 8192,
                    },
                }
            )
        },
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"accelerators_per_copy": 8}, "accelerators_per_copy 8 is above the 4 GPU"),
        ({"accelerators_per_copy": 0}, "accelerators_per_copy 0 must be >= 1"),
        ({"min_memory_mb": 10**6}, "min_memory_mb 1000000 must be between 1 and 196608 on ml.g5.12xlarge"),
        ({"max_copies": 9}, r"max_copies 9 do not fit on 2 x ml.g5.12xlarge \(8 fit\)"),
        ({"min_memory_mb": 100_000, "max_copies": 3}, r"max_copies 3 do not fit .* \(2 fit\); a copy takes 1 of"),
        ({"min_copies": 2, "max_copies": 1}, "max_copies 1 must be >= 1 and >= min_copies 2"),
        ({"concurrent_requests_per_copy": -1}, "concurrent_requests_per_copy -1 must be > 0"),
        ({"scale_out_from_zero_cooldown": cdk.Duration.hours(2)}, "scale_out_from_zero_cooldown 7200s"),
        ({"component_name": "bad_name"}, "component_name 'bad_name'"),
    ],
)
def test_component_rejects_bad_props(
    stack: cdk.Stack, make_model: MakeModel, kwargs: dict[str, Any], message: str
) -> None:
    model = make_model()
    props = {"endpoint": _endpoint(stack, model), "model": model, "accelerators_per_copy": 1, "min_memory_mb": 1024}
    with pytest.raises(ValueError, match=message):
        ScalableInferenceComponent(stack, "Component", **{**props, **kwargs})


def test_a_copy_with_fewer_gpus_than_the_model_shards_over_is_refused(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model(environment={"SM_NUM_GPUS": "4"})
    with pytest.raises(ValueError, match=r"accelerators_per_copy 2 is below the model's SM_NUM_GPUS=4: .*set it to 4"):
        ScalableInferenceComponent(
            stack, "Component", endpoint=_endpoint(stack, model), model=model, accelerators_per_copy=2, min_memory_mb=1
        )


def test_without_sm_num_gpus_the_gpus_a_copy_gets_must_be_given(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model()
    with pytest.raises(ValueError, match="accelerators_per_copy is required: the model's environment does not set"):
        ScalableInferenceComponent(stack, "Component", endpoint=_endpoint(stack, model), model=model, min_memory_mb=1)


def test_components_that_cannot_all_have_their_gpus_at_once_are_refused(
    stack: cdk.Stack, make_model: MakeModel
) -> None:
    model = make_model(environment={"SM_NUM_GPUS": "2"})
    endpoint = _endpoint(stack, model, max_instances=1)  # 4 GPUs at most
    ScalableInferenceComponent(stack, "Chat", endpoint=endpoint, model=model, min_memory_mb=1024, min_copies=1)
    ScalableInferenceComponent(stack, "Batch", endpoint=endpoint, model=model, min_memory_mb=1024)
    with pytest.raises(ValueError) as refused:
        ScalableInferenceComponent(stack, "Extra", endpoint=endpoint, model=model, min_memory_mb=1024)
    assert "needs 6 GPUs at once" in str(refused.value)
    assert "max_instances 1 x ml.g5.12xlarge have 4: raise the endpoint's max_instances" in str(refused.value)
    assert [c.node.id for c in endpoint.components] == ["Chat", "Batch"]  # the refused one did not join


def test_a_component_runs_with_the_endpoints_network_settings_which_must_be_its_models(stack: cdk.Stack) -> None:
    network = EndpointNetwork(stack, "Network")
    model = _isolated_model(stack, network)
    open_endpoint = _endpoint(stack, model)  # neither the model's isolation nor its network
    with pytest.raises(ValueError) as refused:
        ScalableInferenceComponent(stack, "Component", endpoint=open_endpoint, model=model, min_memory_mb=1024)
    message = str(refused.value)
    assert "model.network_isolation is True and the endpoint's network_isolation is False" in message
    assert "model.network is not the endpoint's network" in message
    matching = InferenceComponentEndpoint(
        stack, "Matching", role=model.role, instance_type="ml.g5.12xlarge", network=network, network_isolation=True
    )
    ScalableInferenceComponent(stack, "Served", endpoint=matching, model=model, min_memory_mb=1024)


def test_a_model_that_downloads_its_weights_needs_internet_egress(stack: cdk.Stack, make_model: MakeModel) -> None:
    network = EndpointNetwork(stack, "Network")  # isolated: no route to the Hub
    model = make_model(network=network, environment={"SM_NUM_GPUS": "1"})
    endpoint = _endpoint(stack, model, network=network)
    with pytest.raises(ValueError, match=r"model.network has no internet egress"):
        ScalableInferenceComponent(stack, "Component", endpoint=endpoint, model=model, min_memory_mb=1024)


def test_a_component_updates_copy_by_copy_only(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model(environment={"SM_NUM_GPUS": "1"})
    component = ScalableInferenceComponent(
        stack, "Component", endpoint=_endpoint(stack, model), model=model, min_memory_mb=1024
    )
    with pytest.raises(ValueError, match="strategy 'blue_green': an inference component updates copy by copy"):
        component.configure_updates(strategy="blue_green")
    with pytest.raises(ValueError, match="bake_time 3601s must be between 0 and 3600"):
        component.configure_updates(bake_time=cdk.Duration.seconds(3601))
    component.configure_updates(strategy="rolling", bake_time=cdk.Duration.minutes(3))
    (resource,) = Template.from_stack(stack).find_resources("AWS::SageMaker::InferenceComponent").values()
    assert resource["Properties"]["DeploymentConfig"]["RollingUpdatePolicy"]["WaitIntervalInSeconds"] == 180


def test_a_components_utilization_is_normalized_and_its_capacity_counts_copies(
    stack: cdk.Stack, make_model: MakeModel
) -> None:
    model = make_model(environment={"SM_NUM_GPUS": "2"})
    component = ScalableInferenceComponent(
        stack, "Component", endpoint=_endpoint(stack, model), model=model, min_memory_mb=8192
    )
    normalized = component.metric_utilization_percent("GPUMemory")
    assert (normalized.namespace, normalized.metric_name) == (
        "/aws/sagemaker/InferenceComponents",
        "GPUMemoryUtilizationNormalized",
    )
    instances, copies, no_capacity = component.capacity_metrics()
    assert (instances.metric_name, copies.metric_name, no_capacity.metric_name) == (  # type: ignore[attr-defined]
        "CPUUtilization",
        "CopyCount",
        "NoCapacityInvocationFailures",
    )
