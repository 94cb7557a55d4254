"""bench finds what a SageMaker target runs on: a real boto3 ``sagemaker`` client whose requests and responses
botocore's Stubber checks against the service model (moto 5.2 has no inference components), never AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from tgi_emulator import SageMakerRuntimeEmulator

from tgi_sagemaker.cli import serving_commands
from tgi_sagemaker.cli.command_line import build_parser, main
from tgi_sagemaker.cli.target_discovery import NotDiscovered, discover_share

ARN = "arn:aws:sagemaker:us-east-1:123456789012"
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def control(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(client) as stubber:  # refuses a request or a response the service model does not allow
        yield client, stubber
        stubber.assert_no_pending_responses()


def _endpoint(stubber: Stubber, name: str, variants: list[dict[str, Any]]) -> None:
    stubber.add_response(
        "describe_endpoint",
        {
            "EndpointName": name,
            "EndpointArn": f"{ARN}:endpoint/{name}",
            "EndpointConfigName": f"{name}-config",
            "EndpointStatus": "InService",
            "CreationTime": WHEN,
            "LastModifiedTime": WHEN,
        },
        {"EndpointName": name},
    )
    stubber.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": f"{name}-config",
            "EndpointConfigArn": f"{ARN}:endpoint-config/{name}-config",
            "ProductionVariants": variants,
            "CreationTime": WHEN,
        },
        {"EndpointConfigName": f"{name}-config"},
    )


def _component(stubber: Stubber, name: str, endpoint: str, devices: float, variant: str = "AllTraffic") -> None:
    stubber.add_response(
        "describe_inference_component",
        {
            "InferenceComponentName": name,
            "InferenceComponentArn": f"{ARN}:inference-component/{name}",
            "EndpointName": endpoint,
            "EndpointArn": f"{ARN}:endpoint/{endpoint}",
            "VariantName": variant,
            "Specification": {
                "ModelName": "model",
                "ComputeResourceRequirements": {
                    "NumberOfAcceleratorDevicesRequired": devices,
                    "MinMemoryRequiredInMb": 1024,
                },
            },
            "CreationTime": WHEN,
            "LastModifiedTime": WHEN,
        },
        {"InferenceComponentName": name},
    )


def test_an_endpoint_runs_on_its_config_instance_and_a_component_on_its_share(control: tuple[Any, Stubber]) -> None:
    client, stubber = control
    _endpoint(stubber, "plain", [{"VariantName": "AllTraffic", "InstanceType": "ml.g6e.xlarge"}])
    share = discover_share(client, "t", "plain", None)
    assert (share.instance_type, share.accelerators, share.share) == ("ml.g6e.xlarge", None, 1.0)
    assert share.found_by == "DescribeEndpointConfig of plain"
    variants = [
        {"VariantName": "Other", "InstanceType": "ml.g5.xlarge"},
        {"VariantName": "AllTraffic", "InstanceType": "ml.g6e.12xlarge"},
    ]
    _component(stubber, "comp", "shared", 2.0)
    _endpoint(stubber, "shared", variants)
    share = discover_share(client, "t", "shared", "comp")  # the component's own variant, not the first one
    assert (share.instance_type, share.accelerators, share.share) == ("ml.g6e.12xlarge", 2, 0.5)


def test_each_failure_is_one_line_with_what_to_pass(control: tuple[Any, Stubber]) -> None:
    client, stubber = control
    stubber.add_client_error(
        "describe_endpoint", "AccessDeniedException", "User: arn:aws:iam::1:user/x is not authorized\n to perform"
    )
    stubber.add_client_error(
        "describe_inference_component", "ValidationException", "Could not find inference component"
    )
    _endpoint(
        stubber,
        "split",
        [{"VariantName": "a", "InstanceType": "ml.g5.xlarge"}, {"VariantName": "b", "InstanceType": "ml.g6.xlarge"}],
    )
    _component(stubber, "big", "e", 8.0)
    _endpoint(stubber, "e", [{"VariantName": "AllTraffic", "InstanceType": "ml.g6e.12xlarge"}])
    messages = []
    for endpoint, component in (("denied", None), ("e", "gone"), ("split", None), ("e", "big")):
        with pytest.raises(NotDiscovered) as refused:
            discover_share(client, "g6e", endpoint, component)
        messages.append(str(refused.value))
    fix = "Fix: pass --instance g6e=INSTANCE[:GPUS], e.g. --instance g6e=ml.g6e.xlarge"
    assert messages == [
        "g6e: DescribeEndpoint(EndpointName=denied): not allowed (needs sagemaker:DescribeEndpoint): "
        f"User: arn:aws:iam::1:user/x is not authorized to perform. {fix}",
        "g6e: DescribeInferenceComponent(InferenceComponentName=gone): not found: "
        f"Could not find inference component. {fix}",
        f"g6e: endpoint split has variants on ml.g5.xlarge, ml.g6.xlarge, no single instance to price. {fix}",
        f"g6e: inference component big asks for 8 GPUs, ml.g6e.12xlarge has 4. {fix}",
    ]
    assert all("\n" not in message for message in messages)


def _args(*extra: str) -> Any:
    return build_parser().parse_args(["bench", "--region", "us-east-1", *extra])


def test_bench_prices_a_sagemaker_target_without_instance_and_instance_overrides(
    control: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = control
    monkeypatch.setattr(serving_commands, "sagemaker_client", lambda **_: client)
    args = _args("--endpoint", "ic=ep:comp", "--endpoint", "over=ep2", "--price", "ml.g6e.12xlarge=8")
    _component(stubber, "comp", "ep", 1.0)
    _endpoint(stubber, "ep", [{"VariantName": "AllTraffic", "InstanceType": "ml.g6e.12xlarge"}])
    args.instance = ["over=ml.g6e.12xlarge:2"]  # given: SageMaker is not asked about it (the Stubber would refuse)
    prices = serving_commands.target_prices(args, serving_commands.transports(args))
    assert prices["ic"].share is not None and (prices["ic"].share.accelerators, prices["ic"].price) == (
        1,
        prices["over"].price,
    )
    assert prices["over"].share is not None and prices["over"].share.found_by == "--instance"


def test_a_bench_run_costs_the_discovered_share_and_an_unreadable_target_is_measured_anyway(
    control: tuple[Any, Stubber],
    sagemaker: SageMakerRuntimeEmulator,
    runtime_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    client, stubber = control
    monkeypatch.setattr(serving_commands, "sagemaker_client", lambda **_: client)
    monkeypatch.setattr(serving_commands, "sagemaker_runtime_client", lambda **_: runtime_client)
    _component(stubber, "tgi-component", "tgi-endpoint", 1.0)
    _endpoint(stubber, "tgi-endpoint", [{"VariantName": "AllTraffic", "InstanceType": "ml.g6e.12xlarge"}])
    stubber.add_client_error("describe_inference_component", "AccessDeniedException", "not authorized")
    run = ["bench", "--region", "us-east-1", "--requests", "2", "--warmup", "0", "--input-tokens", "8"]
    targets = ["--endpoint", "ic=tgi-endpoint:tgi-component", "--endpoint", "denied=tgi-endpoint:tgi-component"]
    assert main([*run, *targets, "--price", "ml.g6e.12xlarge=3.6", "--out", str(tmp_path)]) == 0
    ic, denied = json.loads((tmp_path / "summary.json").read_text())["levels"]
    assert ic["cost"]["instance_type"] == "ml.g6e.12xlarge" and ic["cost"]["share"] == 0.25
    assert ic["cost"]["usd_per_hour"] == pytest.approx(0.9)
    assert ic["cost"]["instance_from"] == "DescribeInferenceComponent of tgi-component"
    assert denied["succeeded"] == 2 and denied["cost"] is None  # measured; its cost says why not and what to pass
    assert denied["cost_missing"] == (
        "denied: DescribeInferenceComponent(InferenceComponentName=tgi-component): not allowed (needs "
        "sagemaker:DescribeInferenceComponent): not authorized. "
        "Fix: pass --instance denied=INSTANCE[:GPUS], e.g. --instance denied=ml.g6e.xlarge"
    )


def test_a_runtime_elsewhere_is_not_asked_about(sagemaker: SageMakerRuntimeEmulator, tmp_path: Path) -> None:
    target = ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url, "--region", "us-east-1"]
    assert main(["bench", *target, "--requests", "1", "--warmup", "0", "--out", str(tmp_path)]) == 0
    (level,) = json.loads((tmp_path / "summary.json").read_text())["levels"]
    assert level["cost_missing"] == (
        "tgi-endpoint/tgi-component: instance not asked of SageMaker, as --endpoint-url sends requests elsewhere. "
        "Fix: pass --instance tgi-endpoint/tgi-component=INSTANCE[:GPUS]"
    )
