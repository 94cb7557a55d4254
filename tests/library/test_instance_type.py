"""InstanceType: any name of the SageMaker form or a token, with the catalog's figures when it lists the type."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from tgi_sagemaker import InstanceType
from tgi_sagemaker.catalog.instance_types import INSTANCE_TYPES


def test_a_listed_type_carries_the_catalogs_figures() -> None:
    instance = InstanceType.of("ml.g5.12xlarge")
    assert instance.figures is INSTANCE_TYPES["ml.g5.12xlarge"]
    assert (instance.gpu_count, instance.memory_mb, instance.has_local_nvme) == (4, 192 * 1024, True)
    assert str(instance) == "ml.g5.12xlarge" and not instance.is_unresolved


@pytest.mark.parametrize("name", ["ml.g7e.2xlarge", "ml.p6-b200.48xlarge", "ml.inf2.xlarge", "ml.g5.96xlarge"])
def test_a_type_the_catalog_does_not_list_is_accepted_without_figures(name: str) -> None:
    instance = InstanceType.of(name)
    assert instance.name == name
    assert (instance.figures, instance.gpu_count, instance.memory_mb, instance.has_local_nvme) == (None,) * 4


def test_a_token_is_accepted_as_unresolved_without_figures() -> None:
    stack = cdk.Stack(cdk.App(), "Stack")
    instance = InstanceType.of(cdk.CfnParameter(stack, "InstanceType").value_as_string)
    assert instance.is_unresolved and instance.figures is None
    assert stack.resolve(instance.name) == {"Ref": "InstanceType"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("g5.2xlarge", r"'g5.2xlarge' is not a SageMaker hosting instance type.*did you mean 'ml.g5.2xlarge'"),
        ("ml.g5.2xlarg", r"'ml.g5.2xlarg' .*did you mean 'ml.g5.2xlarge'"),
        ("ml.G5.2xlarge", r"form 'ml.<family>.<size>'"),
        ("m5.xlarge", r"'m5.xlarge' is not a SageMaker hosting instance type: use the form 'ml.<family>.<size>'"),
        ("", r"'' is not"),
    ],
)
def test_a_name_of_another_form_is_refused_with_what_was_meant(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        InstanceType.of(name)


def test_of_returns_a_value_object_as_it_is_and_equal_names_are_equal() -> None:
    instance = InstanceType.of("ml.g6e.xlarge")
    assert InstanceType.of(instance) is instance
    assert instance == InstanceType.of("ml.g6e.xlarge") and hash(instance) == hash(InstanceType("ml.g6e.xlarge"))
    assert instance != InstanceType.of("ml.g6e.2xlarge")


def test_the_gpus_of_an_unlisted_type_can_be_declared_but_not_contradict_the_catalog() -> None:
    assert InstanceType.of("ml.g7e.48xlarge", gpu_count=8).gpu_count == 8
    assert InstanceType.of("ml.g5.12xlarge", gpu_count=4).gpu_count == 4  # the catalog's own figure: fine
    with pytest.raises(ValueError, match="gpu_count=8, but the catalog lists 4 GPUs for it: leave gpu_count out"):
        InstanceType.of("ml.g5.12xlarge", gpu_count=8)
    with pytest.raises(ValueError, match="gpu_count=0 must be 1 or more"):
        InstanceType.of("ml.g7e.48xlarge", gpu_count=0)
    declared = InstanceType.of("ml.g7e.48xlarge", gpu_count=8)
    assert InstanceType.of(declared, gpu_count=8) is declared
    with pytest.raises(ValueError, match="it has 8"):
        InstanceType.of(declared, gpu_count=4)
