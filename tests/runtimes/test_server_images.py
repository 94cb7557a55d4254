"""The vLLM and SGLang image tables agree with AWS's own resolver for every region and version, render per stack,
and say which images need the CUDA 13 AMI."""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
import warnings
from types import ModuleType

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from helpers import ROOT
from tgi_sagemaker.runtimes.container_image import ContainerImage, UnknownImageVersionError
from tgi_sagemaker.runtimes.runtime import CUDA_13_INFERENCE_AMI
from tgi_sagemaker.runtimes.sglang.image import SGLANG_IMAGES, SglangImage
from tgi_sagemaker.runtimes.sglang.runtime import Sglang
from tgi_sagemaker.runtimes.tgi.runtime import Tgi
from tgi_sagemaker.runtimes.vllm.image import VLLM_IMAGES, VllmImage
from tgi_sagemaker.runtimes.vllm.runtime import Vllm

VLLM_VERSIONS = ["0.14.0", "0.17.0", "0.21.0", "0.22.1", "0.25.1", "0.26.0", "0.27.1", "0.28.0", "0.29.0"]
IMAGES: list[tuple[str, type[ContainerImage]]] = [("huggingface-vllm", VllmImage), ("huggingface-sglang", SglangImage)]


@pytest.fixture
def image_uris(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sagemaker.core import common_utils, image_uris

    # retrieve() re-parses botocore's endpoint data on every call (40 ms); the data cannot change mid-test.
    monkeypatch.setattr(common_utils, "_botocore_resolver", functools.cache(common_utils._botocore_resolver))
    return image_uris


def test_versions_aliases_and_pinned_defaults() -> None:
    assert VLLM_IMAGES.versions == VLLM_VERSIONS
    assert VllmImage.of("0.25").version == "0.25.1"
    assert VLLM_IMAGES.default_version == "0.17.0"
    assert SGLANG_IMAGES.versions == ["0.5.8"]
    assert SglangImage.of("0.5").version == "0.5.8"
    with pytest.raises(UnknownImageVersionError, match=r"vLLM version '0.30' has no SageMaker image; .*0\.29\.0"):
        VllmImage.of("0.30")


@pytest.mark.parametrize(("framework", "image_class"), IMAGES)
def test_every_region_and_version_matches_sagemaker_core(
    framework: str, image_class: type[ContainerImage], image_uris: ModuleType
) -> None:
    table = image_class.table
    assert len(table.regions) == 42
    mismatches = []
    for version in table.versions:
        for region in table.regions:
            expected = image_uris.retrieve(framework, region=region, version=version, image_scope="inference")
            actual = image_class.of(version).uri(region)
            if actual != expected:
                mismatches.append((region, version, actual, expected))
    assert mismatches == []


@pytest.mark.parametrize("name", ["vllm", "sglang"])
def test_the_refresh_tool_reproduces_the_committed_table(
    name: str, image_uris: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("refresh_images", ROOT / "constructs/tools/refresh_images.py")
    assert spec is not None and spec.loader is not None
    refresh = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, refresh)  # its dataclass looks its module up there
    spec.loader.exec_module(refresh)
    source = refresh.SOURCES[name]
    committed = json.loads(source.output.read_text())
    assert {**refresh.image_table(source), "source": committed["source"]} == committed


def test_cuda_13_images_and_only_they_ask_for_the_newer_ami() -> None:
    needs = {version: Vllm.of(version).inference_ami_version for version in VLLM_VERSIONS}
    assert needs == {v: (CUDA_13_INFERENCE_AMI if v >= "0.21" else None) for v in VLLM_VERSIONS}
    assert Vllm.of("0.29").image.cuda_version == (13, 0)
    assert Sglang().image.cuda_version == (12, 9) and Sglang().inference_ami_version is None
    assert Tgi().image.cuda_version == (12, 4) and Tgi().inference_ami_version is None


@pytest.mark.parametrize(
    ("image", "mapping_id"),
    [(VllmImage("0.17.0"), "VllmImageRegistries"), (SglangImage("0.5.8"), "SglangImageRegistries")],
)
def test_region_agnostic_stack_maps_the_registries(image: ContainerImage, mapping_id: str) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Stack")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    cdk.CfnOutput(stack, "Image", value=image.bind(stack, role))
    template = app.synth().get_stack_by_name("Stack").template
    assert list(template["Mappings"]) == [mapping_id]
    assert len(template["Mappings"][mapping_id]) == 42


def test_a_component_needing_the_cuda_13_ami_is_refused_by_an_endpoint_without_it() -> None:
    from tgi_sagemaker.inference_component_endpoint import InferenceComponentEndpoint
    from tgi_sagemaker.model_weights import HubWeights
    from tgi_sagemaker.scalable_inference_component import ScalableInferenceComponent
    from tgi_sagemaker.serving_model import ServingModel

    stack = cdk.Stack(cdk.App(), "Stack")
    model = ServingModel(
        stack,
        "Model",
        runtime=Vllm.of("0.29"),
        weights=HubWeights(repo_id="deepseek-ai/DeepSeek-R1-Distill-Llama-8B"),
        environment={Vllm.gpus_per_copy_variable: "1"},
    )
    plain = InferenceComponentEndpoint(stack, "Plain", role=model.role, instance_type="ml.g5.12xlarge")
    with pytest.raises(ValueError, match=r"needs InferenceAmiVersion al2-ami-sagemaker-inference-gpu-3-1"):
        ScalableInferenceComponent(stack, "Refused", endpoint=plain, model=model, min_memory_mb=1024)
    newer = InferenceComponentEndpoint(
        stack,
        "Newer",
        role=model.role,
        instance_type="ml.g5.12xlarge",
        inference_ami_version=model.runtime.inference_ami_version,
    )
    ScalableInferenceComponent(stack, "Served", endpoint=newer, model=model, min_memory_mb=1024)
