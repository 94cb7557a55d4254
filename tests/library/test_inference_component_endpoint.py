"""InferenceComponentEndpoint: a model-less variant with managed instance scaling that components join."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from tgi_sagemaker import InferenceComponentEndpoint, ScalableInferenceComponent, TgiModel

MakeModel = Callable[..., TgiModel]


def test_the_variant_names_no_model_and_scales_its_instances(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model()
    endpoint = InferenceComponentEndpoint(
        stack, "Endpoint", role=model.role, instance_type="ml.g6e.12xlarge", max_instances=3
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "EnableNetworkIsolation": False,
            "ProductionVariants": [
                Match.object_like(
                    {
                        "ModelName": Match.absent(),
                        "InstanceType": "ml.g6e.12xlarge",
                        "InitialInstanceCount": 1,
                        "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 3},
                    }
                )
            ],
        },
    )
    assert endpoint.instance_type.gpu_count == 4  # looked up once, for every component that joins
    metric = endpoint.metric_instance_count(period=cdk.Duration.minutes(5))
    assert (metric.metric_name, metric.statistic, metric.label) == ("CPUUtilization", "SampleCount", "instances")
    assert metric.period.to_minutes() == 5


def test_component_endpoint_rejects_bad_bounds_and_forms_at_once(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model()
    with pytest.raises(ValueError) as refused:
        InferenceComponentEndpoint(stack, "Endpoint", role=model.role, instance_type="ml-g5", max_instances=0)
    message = str(refused.value)
    assert message.startswith("InferenceComponentEndpoint: instance_type 'ml-g5' is not a SageMaker hosting")
    assert message.endswith("max_instances 0 must be >= 1 and >= min_instances 0")


def test_the_endpoint_knows_its_components_and_the_gpus_they_hold(stack: cdk.Stack, make_model: MakeModel) -> None:
    model = make_model(environment={"SM_NUM_GPUS": "2"})
    endpoint = InferenceComponentEndpoint(stack, "Endpoint", role=model.role, instance_type="ml.g5.12xlarge")
    chat = ScalableInferenceComponent(
        stack, "Chat", endpoint=endpoint, model=model, min_memory_mb=8192, min_copies=2, max_copies=2
    )
    batch = ScalableInferenceComponent(stack, "Batch", endpoint=endpoint, model=model, min_memory_mb=8192)
    assert endpoint.components == [chat, batch]
    assert endpoint.gpus_held_at_once() == 2 * 2 + 2 * 1  # a component at zero copies is created with one
