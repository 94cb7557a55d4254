"""The runtime seam holds: a second serving container, defined here, runs through the model, its execution role and
both weights sources unchanged, and nothing of TGI (its variables, its image, its name) reaches its template."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from tgi_sagemaker import EndpointNetwork, HubWeights, S3PrefixWeights, ServingModel
from tgi_sagemaker.runtimes.container_image import ContainerImage, ImageTable
from tgi_sagemaker.runtimes.runtime import HubModel, ModelLocation, ServingRuntime, StreamFormat

# A container unlike TGI in every name the seam carries.
OTHER_IMAGES = ImageTable(
    container="Other",
    mapping_id="OtherImageRegistries",
    repository="other-llm-inference",
    default_version="1.0.0",
    tags={"1.0.0": "1.0.0-gpu-cu130"},
    aliases={"1.0": "1.0.0"},
    registries={
        "us-east-1": {"account": "111122223333", "domain": "amazonaws.com"},
        "cn-north-1": {"account": "444455556666", "domain": "amazonaws.com.cn"},
    },
)


class OtherImage(ContainerImage):
    table = OTHER_IMAGES


@dataclass(frozen=True)
class OtherRuntime(ServingRuntime):
    gpus_per_copy_variable = "OTHER_TENSOR_PARALLEL_SIZE"
    model_variables = frozenset({"OTHER_MODEL", "OTHER_REVISION"})
    stream_formats: ClassVar[tuple[StreamFormat, ...]] = ("messages",)
    image: OtherImage = OtherImage("1.0.0")  # noqa: RUF009 (frozen: one shared value is right)

    def model_environment(self, location: ModelLocation) -> dict[str, str]:
        if not isinstance(location, HubModel):
            return {"OTHER_MODEL": location.path}
        revision = {"OTHER_REVISION": location.revision} if location.revision else {}
        return {"OTHER_MODEL": location.repo_id, **revision}

    def settings_environment(self, spec: Any, *, num_gpus: int, limits: Any, catalog_model: Any) -> dict[str, str]:
        return {self.gpus_per_copy_variable: str(num_gpus)}


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Stack")


def _s3_weights(stack: cdk.Stack) -> S3PrefixWeights:
    bucket = s3.Bucket(stack, "Weights")
    return S3PrefixWeights(bucket=bucket, s3_uri="s3://weights/models/a/b/", read_prefix="models/a/b/")


def _model_text(stack: cdk.Stack) -> str:
    """The model, its role and policies, and the mappings, as rendered. (EndpointNetwork's security group keeps
    "SageMaker TGI endpoint" as its description: changing it would replace the group in deployed stacks.)"""
    template = Template.from_stack(stack).to_json()
    types = ("AWS::SageMaker::Model", "AWS::IAM::Role", "AWS::IAM::Policy")
    resources = {k: v for k, v in template["Resources"].items() if v["Type"] in types}
    return json.dumps({"Resources": resources, "Mappings": template.get("Mappings", {})})


def test_s3_weights_reach_another_runtime_by_its_own_names_and_image() -> None:
    stack = _stack()
    model = ServingModel(
        stack,
        "Model",
        runtime=OtherRuntime(),
        weights=_s3_weights(stack),
        environment={"OTHER_TENSOR_PARALLEL_SIZE": "2"},
        network=EndpointNetwork(stack, "Network"),
    )
    template = Template.from_stack(stack).to_json()
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    container = resource["Properties"]["PrimaryContainer"]
    assert container["Environment"] == {"OTHER_TENSOR_PARALLEL_SIZE": "2", "OTHER_MODEL": "/opt/ml/model"}
    assert container["ModelDataSource"]["S3DataSource"]["S3Uri"] == "s3://weights/models/a/b/"
    assert resource["Properties"]["EnableNetworkIsolation"] is True
    image = json.dumps(container["Image"])
    assert '"OtherImageRegistries"' in image and "/other-llm-inference:1.0.0-gpu-cu130" in image
    assert list(template["Mappings"]) == ["OtherImageRegistries"]
    assert model.gpus_per_copy == 2
    (role,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role" and "Description" in r["Properties"]
    ]
    assert role["Properties"]["Description"] == "Runs the Other container of a SageMaker model"
    rendered = _model_text(stack)
    assert ":repository/other-llm-inference" in rendered  # pull granted on its repository
    assert "ec2:CreateNetworkInterface" in rendered and "models/a/b/*" in rendered  # the role, as for any runtime
    for tgi_fact in ("HF_", "SM_NUM_GPUS", "tgi", "huggingface"):
        assert tgi_fact.lower() not in rendered.lower()


def test_hub_weights_reach_another_runtime_by_its_own_names() -> None:
    stack = _stack()
    model = ServingModel(
        stack, "Model", runtime=OtherRuntime(), weights=HubWeights(repo_id="acme/model", revision="v2")
    )
    assert model.environment == {"OTHER_MODEL": "acme/model", "OTHER_REVISION": "v2"}
    assert model.network_isolation is False
    for tgi_fact in ("HF_", "SM_NUM_GPUS", "tgi", "huggingface"):
        assert tgi_fact.lower() not in _model_text(stack).lower()


def test_the_model_refuses_what_the_runtime_says_the_weights_set_and_nothing_else() -> None:
    with pytest.raises(ValueError, match=r"ServingModel environment sets \['OTHER_MODEL'\]"):
        ServingModel(
            _stack(),
            "Model",
            runtime=OtherRuntime(),
            weights=HubWeights(repo_id="a/b"),
            environment={"OTHER_MODEL": "x"},
        )
    # TGI's name is only a setting to another container: the model has no list of its own.
    model = ServingModel(
        _stack(), "Model", runtime=OtherRuntime(), weights=HubWeights(repo_id="a/b"), environment={"HF_MODEL_ID": "x"}
    )
    assert model.environment == {"HF_MODEL_ID": "x", "OTHER_MODEL": "a/b"}


def test_a_region_specific_stack_renders_the_other_image_as_a_literal() -> None:
    stack = cdk.Stack(cdk.App(), "Stack", env=cdk.Environment(account="123456789012", region="cn-north-1"))
    model = ServingModel(stack, "Model", runtime=OtherRuntime(), weights=HubWeights(repo_id="a/b"))
    assert model.image_uri == "444455556666.dkr.ecr.cn-north-1.amazonaws.com.cn/other-llm-inference:1.0.0-gpu-cu130"
