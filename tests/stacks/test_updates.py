"""Changing the revision, TGI settings or instance type: what CloudFormation would replace, and that nothing
replaced has a fixed name (a fixed name would collide) while the component and its autoscaling stay in place."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from helpers import Synthesized, config_with, synthesize

# change -> what it replaces. The component names its model, so a new model updates the component in place (the
# endpoint config, which names no model, stays); a new instance type is a new endpoint config under the endpoint.
CHANGES = {
    "revision": ({"model.revision": "ebf7e8d03db3d86a442d22d30d499abb7ec27bea"}, {"AWS::SageMaker::Model"}),
    "tgi-settings": ({"tgi.max_total_tokens": 8192, "tgi.max_concurrent_requests": 64}, {"AWS::SageMaker::Model"}),
    "instance-type": ({"instance_type": "ml.g6e.xlarge"}, {"AWS::SageMaker::EndpointConfig"}),
}


@cache
def _create_only(resource_type: str) -> frozenset[str]:
    """createOnlyProperties from the CloudFormation registry schemas that cfn-lint bundles."""
    schemas = resources.files("cfnlint") / "data" / "schemas"
    digest = json.loads((schemas / "providers" / "us-east-1.json").read_text()).get(resource_type)
    if digest is None:
        return frozenset()
    schema = json.loads((schemas / "resources" / f"{digest}.json").read_text())
    return frozenset(path.split("/")[2] for path in schema.get("createOnlyProperties", []))


def _references(value: Any) -> set[str]:
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def replaced_resources(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """Logical ids CloudFormation would replace: a createOnly property differs, or refers to a resource that
    changes (conservatively: an updated resource's attributes may change too, e.g. the copy's S3Uri)."""
    old, new = before["Resources"], after["Resources"]
    common = [k for k in new if k in old and old[k]["Type"] == new[k]["Type"]]
    replaced = {k for k in old if k not in new}
    updated = {k for k in common if old[k].get("Properties") != new[k].get("Properties")}
    changed = True
    while changed:
        changed = False
        for logical_id in common:
            properties = new[logical_id].get("Properties", {})
            if logical_id not in updated and _references(properties) & (updated | replaced):
                updated.add(logical_id)
                changed = True
            if logical_id in replaced:
                continue
            old_props = old[logical_id].get("Properties", {})
            for name in _create_only(new[logical_id]["Type"]):
                moved = old_props.get(name) != properties.get(name)
                if moved or _references(properties.get(name)) & (updated | replaced):
                    replaced.add(logical_id)
                    changed = True
                    break
    return replaced


@pytest.mark.parametrize("change", list(CHANGES))
def test_update_replaces_model_or_config_only_and_keeps_component_scaling(
    change: str, default_app: Synthesized, tmp_path: Path
) -> None:
    changes, expected = CHANGES[change]
    after = synthesize(config_with(changes), tmp_path)
    old, new = default_app.raw(), after.raw()  # before: the default app, synthesized once a session
    assert old != new
    replaced = replaced_resources(old, new)
    types = {new["Resources"][k]["Type"] for k in replaced if k in new["Resources"]}
    assert types == expected
    for logical_id in replaced:
        properties = new["Resources"][logical_id]["Properties"]
        assert "ModelName" not in properties and "EndpointConfigName" not in properties  # CloudFormation names them
    kept = {r["Type"]: k for k, r in new["Resources"].items() if k not in replaced}
    for resource_type in (
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::InferenceComponent",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::CloudWatch::Alarm",
    ):
        assert resource_type in kept, f"{resource_type} would be replaced by a {change} change"
    component = kept["AWS::SageMaker::InferenceComponent"]
    assert (
        new["Resources"][component]["Properties"]["InferenceComponentName"]
        == (old["Resources"][component]["Properties"]["InferenceComponentName"])
    )


def test_the_replacement_rule_sees_a_fixed_name_change() -> None:
    before = {"Resources": {"E": {"Type": "AWS::SageMaker::Endpoint", "Properties": {"EndpointName": "a"}}}}
    after = {"Resources": {"E": {"Type": "AWS::SageMaker::Endpoint", "Properties": {"EndpointName": "b"}}}}
    assert replaced_resources(before, after) == {"E"}
    assert _create_only("AWS::ApplicationAutoScaling::ScalableTarget") >= {"ResourceId", "ScalableDimension"}
