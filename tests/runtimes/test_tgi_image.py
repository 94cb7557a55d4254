"""The TGI image table agrees with AWS's own resolver for every region and version, and renders per stack."""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
import warnings

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from helpers import ROOT
from tgi_sagemaker.runtimes.tgi.image import (
    TGI_IMAGES,
    TgiImage,
    UnknownTgiVersionError,
    UnsupportedRegionError,
)

EXPECTED_VERSIONS = ["3.0.1", "3.1.1", "3.2.0", "3.2.3", "3.3.4", "3.3.6"]


def test_versions_cover_3_0_1_to_3_3_6() -> None:
    assert TGI_IMAGES.versions == EXPECTED_VERSIONS
    assert TGI_IMAGES.aliases == {"3.0": "3.0.1", "3.1": "3.1.1", "3.2": "3.2.3", "3.3": "3.3.6"}
    assert TgiImage.of("3.3").version == "3.3.6"
    with pytest.raises(UnknownTgiVersionError, match=r"TGI version '2.4.0' has no SageMaker image; .*3\.0\.1"):
        TgiImage.of("2.4.0")


def test_an_image_is_a_full_version_of_the_table() -> None:
    with pytest.raises(UnknownTgiVersionError, match=r"'3.3' is a minor alias: use TgiImage.of\('3.3'\)"):
        TgiImage("3.3")
    with pytest.raises(UnknownTgiVersionError, match=r"'9.9.9' has no SageMaker image"):
        TgiImage("9.9.9")


def test_every_region_and_version_matches_sagemaker_core(monkeypatch: pytest.MonkeyPatch) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sagemaker.core import common_utils, image_uris

    # retrieve() re-parses botocore's endpoint data on every call (40 ms); the data cannot change mid-test.
    monkeypatch.setattr(common_utils, "_botocore_resolver", functools.cache(common_utils._botocore_resolver))

    regions = TGI_IMAGES.regions
    assert len(regions) == 45
    mismatches = []
    for version in EXPECTED_VERSIONS:
        for region in regions:
            expected = image_uris.retrieve("huggingface-llm", region=region, version=version, image_scope="inference")
            actual = TgiImage.of(version).uri(region)
            if actual != expected:
                mismatches.append((region, version, actual, expected))
    assert mismatches == []


def test_unknown_region_is_refused_with_the_supported_list() -> None:
    with pytest.raises(UnsupportedRegionError, match=r"'xx-nowhere-1'.*us-east-1"):
        TgiImage.of("3.3.6").uri("xx-nowhere-1")


def _bind(env: cdk.Environment | None) -> tuple[str, dict]:
    app = cdk.App()
    stack = cdk.Stack(app, "Stack", env=env)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    uri = TgiImage.of("3.0.1").bind(stack, role)
    cdk.CfnOutput(stack, "Image", value=uri)
    return uri, Template.from_stack(stack).to_json()


def test_region_specific_stack_gets_a_literal_uri_and_no_mapping() -> None:
    uri, template = _bind(cdk.Environment(account="111122223333", region="cn-northwest-1"))
    assert uri == (
        "727897471807.dkr.ecr.cn-northwest-1.amazonaws.com.cn/huggingface-pytorch-tgi-inference:"
        "2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04-v2.1"
    )
    assert "Mappings" not in template


def test_region_agnostic_stack_uses_one_mapping_and_grants_pull_on_that_repository() -> None:
    _, template = _bind(None)
    assert list(template["Mappings"]) == ["TgiImageRegistries"]
    assert len(template["Mappings"]["TgiImageRegistries"]) == 45
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    pull = next(s for s in statements if "ecr:BatchGetImage" in s["Action"])
    arn_parts = pull["Resource"]["Fn::Join"][1]
    assert {"Fn::FindInMap": ["TgiImageRegistries", {"Ref": "AWS::Region"}, "account"]} in arn_parts
    assert arn_parts[-1] == ":repository/huggingface-pytorch-tgi-inference"


def test_unknown_region_in_a_region_specific_stack_fails_at_bind() -> None:
    with pytest.raises(UnsupportedRegionError):
        _bind(cdk.Environment(region="xx-nowhere-1"))


def test_the_refresh_tool_reproduces_the_committed_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """So that refreshing after a sagemaker-core upgrade changes only what upstream changed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sagemaker.core import common_utils

    monkeypatch.setattr(common_utils, "_botocore_resolver", functools.cache(common_utils._botocore_resolver))
    spec = importlib.util.spec_from_file_location("refresh_images", ROOT / "constructs/tools/refresh_images.py")
    assert spec is not None and spec.loader is not None
    refresh = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, refresh)  # its dataclass looks its module up there
    spec.loader.exec_module(refresh)
    source = refresh.SOURCES["tgi"]
    committed = json.loads(source.output.read_text())
    regenerated = refresh.image_table(source)
    assert {**regenerated, "source": committed["source"]} == committed  # "source" names the sagemaker-core version
