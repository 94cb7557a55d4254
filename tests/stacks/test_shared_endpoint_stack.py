"""config/shared.yaml's stack: one endpoint, a component per model with its own weights, scaling and alarms; and
what adding, changing or removing one model does to the others (createOnlyProperties, as test_updates.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match
from test_updates import replaced_resources

from helpers import Synthesized, shared_config, synthesize

STACK = "TgiSageMaker-r1-distills"
MODELS = ("r1-qwen-1-5b", "r1-qwen-7b", "r1-qwen-14b")


def _owner(resource: dict[str, Any]) -> str | None:
    """The deployment a resource belongs to, from its construct path (``<stack>/<deployment>/...``); None for the
    endpoint's own resources."""
    path = resource.get("Metadata", {}).get("aws:cdk:path", "")
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[1] in (*MODELS, "r1-llama-8b") else None


def _config(changes: dict[str, dict[str, Any]] | None = None, remove: str | None = None) -> dict[str, Any]:
    """config/shared.yaml with the 14B at two copies at most (room for one more model), then ``changes`` merged
    into the named deployments."""
    config = copy.deepcopy(shared_config())
    for deployment in config["deployments"]:
        if deployment["name"] == "r1-qwen-14b":
            deployment["scaling"]["max_copies"] = 2
        for key, value in (changes or {}).get(deployment["name"], {}).items():
            deployment[key] = value
    config["deployments"] = [d for d in config["deployments"] if d["name"] != remove]
    return config


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(_config(), Path(tmp_path_factory.mktemp("before"))).raw(STACK)


def test_one_endpoint_three_components_each_with_its_own_gpu_memory_and_scaling(shared_app: Synthesized) -> None:
    template = shared_app.template(STACK)
    template.resource_count_is("AWS::SageMaker::Endpoint", 1)
    template.resource_count_is("AWS::SageMaker::InferenceComponent", 3)
    template.resource_count_is("AWS::SageMaker::Model", 3)
    template.resource_count_is("AWS::S3::Bucket", 3)  # a weights bucket per model
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like(
                    {
                        "InstanceType": "ml.g6e.12xlarge",
                        "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2},
                    }
                )
            ]
        },
    )
    components = template.find_resources("AWS::SageMaker::InferenceComponent")
    requirements = [c["Properties"]["Specification"]["ComputeResourceRequirements"] for c in components.values()]
    assert [r["NumberOfAcceleratorDevicesRequired"] for r in requirements] == [1, 1, 1]
    targets = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")
    assert sorted((t["Properties"]["MinCapacity"], t["Properties"]["MaxCapacity"]) for t in targets.values()) == [
        (0, 2),
        (0, 3),
        (0, 3),
    ]
    # Each component names itself after its deployment, and rolls back on its own alarms only.
    names = sorted(c["Properties"]["InferenceComponentName"] for c in components.values())
    assert [any(model.replace("-", "") in name.replace("-", "") for name in names) for model in MODELS] == [True] * 3
    raw = shared_app.raw(STACK)
    for component in components.values():
        rollback = component["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
        owner = _owner(component)
        alarm_ids = {a["AlarmName"]["Ref"] for a in rollback}
        assert {_owner(raw["Resources"][a]) for a in alarm_ids} == {owner}


def test_alarms_per_component_and_the_fleet_alarm_once(shared_app: Synthesized) -> None:
    raw = shared_app.raw(STACK)
    alarms = {k: r for k, r in raw["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    by_owner: dict[str | None, int] = {}
    for alarm in alarms.values():
        by_owner[_owner(alarm)] = by_owner.get(_owner(alarm), 0) + 1
    # Per model: wake-up from zero, 5xx, latency, GPU memory, weights copy. The endpoint: fleet full, and a
    # no-capacity alarm per model (sustained: a stalled scale-out).
    assert by_owner == {"r1-qwen-1-5b": 5, "r1-qwen-7b": 5, "r1-qwen-14b": 5, None: 1 + 3}
    fleet = [a for a in alarms.values() if "max_instances" in a["Properties"]["AlarmDescription"]]
    assert len(fleet) == 1 and fleet[0]["Properties"]["Threshold"] == 2
    body = shared_app.template(STACK).find_resources("AWS::CloudWatch::Dashboard")
    assert len(body) == 1
    text = str(next(iter(body.values()))["Properties"]["DashboardBody"])
    for model in MODELS:
        assert f"{model}: requests and errors" in text and f"{model}: model latency" in text


def test_adding_a_model_adds_resources_and_replaces_none(before: dict[str, Any], tmp_path: Path) -> None:
    added = {
        "name": "r1-llama-8b",
        "endpoint": "r1-distills",
        "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"},
    }
    config = _config()
    config["deployments"].append(added)
    after = synthesize(config, tmp_path).raw(STACK)
    assert replaced_resources(before, after) == set()
    new = {k for k in after["Resources"] if k not in before["Resources"]}
    assert new and {_owner(after["Resources"][k]) for k in new} <= {"r1-llama-8b", None}
    assert any(after["Resources"][k]["Type"] == "AWS::SageMaker::InferenceComponent" for k in new)
    changed = {
        before["Resources"][k]["Type"]
        for k in before["Resources"]
        if before["Resources"][k].get("Properties") != after["Resources"][k].get("Properties")
    }
    # What names every model is updated in place: the shared role's policy (the new model's image and weights),
    # the S3 gateway endpoint's policy (its weights bucket), the dashboard (its row).
    assert changed <= {"AWS::IAM::Policy", "AWS::EC2::VPCEndpoint", "AWS::CloudWatch::Dashboard"}, changed


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "revision": "main"}}, {"AWS::SageMaker::Model"}),
        ({"tgi": {"max_total_tokens": 2048}}, {"AWS::SageMaker::Model"}),
    ],
    ids=["revision", "tgi-settings"],
)
def test_changing_one_model_replaces_its_own_resources_only(
    change: dict[str, Any], expected: set[str], before: dict[str, Any], tmp_path: Path
) -> None:
    after = synthesize(_config({"r1-qwen-7b": change}), tmp_path).raw(STACK)
    replaced = replaced_resources(before, after)
    assert replaced
    assert {_owner(after["Resources"].get(k) or before["Resources"][k]) for k in replaced} == {"r1-qwen-7b"}
    assert {after["Resources"][k]["Type"] for k in replaced if k in after["Resources"]} == expected


def test_removing_a_model_removes_its_own_resources_only(before: dict[str, Any], tmp_path: Path) -> None:
    after = synthesize(_config(remove="r1-qwen-1-5b"), tmp_path).raw(STACK)
    gone = {k for k in before["Resources"] if k not in after["Resources"]}
    # Its resources, and the endpoint's no-capacity alarm for it.
    endpoint_level = {k for k in gone if _owner(before["Resources"][k]) is None}
    assert {_owner(before["Resources"][k]) for k in gone - endpoint_level} == {"r1-qwen-1-5b"}
    assert [before["Resources"][k]["Metadata"]["aws:cdk:path"].split("/")[-2] for k in endpoint_level] == [
        "NoCapacityR1Qwen15b"
    ]
    assert replaced_resources(before, after) == gone
