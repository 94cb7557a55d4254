"""rules/shared_endpoint.py and rules/packing.py: several models on one endpoint (config/shared.yaml), what the
endpoint owns, and whether the models' copies fit its instances. Each rule: one case, one problem, its field."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import problems_of
from tgi_sagemaker.catalog.instance_types import find_instance_type
from tgi_sagemaker.config.resolve import load_app
from tgi_sagemaker.config.rules.packing import ComponentDemand, instances_needed, pack

SHARED = yaml.safe_load((Path(__file__).parents[2] / "config" / "shared.yaml").read_text())
ENDPOINT = "endpoints[r1-distills]"


def shared_with(changes: dict[str, Any]) -> dict[str, Any]:
    """config/shared.yaml with dotted changes: ``deployments.<name>.<path>`` or ``endpoint.<path>``; a value of
    ``None`` removes the key."""
    config = copy.deepcopy(SHARED)
    for dotted, value in changes.items():
        head, _, rest = dotted.partition(".")
        if head == "endpoint":
            target = config["endpoints"][0]
        else:
            name, _, rest = rest.partition(".")
            target = next(d for d in config["deployments"] if d["name"] == name)
        *parents, last = rest.split(".")
        for key in parents:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return config


def test_the_example_resolves_three_models_on_one_endpoint_with_one_gpu_each() -> None:
    app = load_app(SHARED)
    (endpoint,) = app.endpoints
    assert [d.name for d in endpoint.deployments] == ["r1-qwen-1-5b", "r1-qwen-7b", "r1-qwen-14b"]
    assert {d.stack_name for d in app.deployments} == {endpoint.stack_name} == {"TgiSageMaker-r1-distills"}
    assert app.own_endpoint_deployments == ()
    # The fewest GPUs the weights fit on (an own endpoint would take all four), the endpoint's instance and bounds.
    assert [d.num_gpus for d in endpoint.deployments] == [1, 1, 1]
    assert {d.instance.name for d in endpoint.deployments} == {"ml.g6e.12xlarge"}
    assert {d.scaling.max_instances for d in endpoint.deployments} == {2}
    assert [d.scaling.max_copies for d in endpoint.deployments] == [2, 3, 3]


def test_a_model_on_a_shared_endpoint_gets_one_copy_at_most_unless_it_says_more() -> None:
    app = load_app(shared_with({"deployments.r1-qwen-7b.scaling.max_copies": None}))
    assert next(d for d in app.deployments if d.name == "r1-qwen-7b").scaling.max_copies == 1


# (case id, changes, field, value, words of the fix)
CASES = [
    (
        "instance type on the deployment",
        {"deployments.r1-qwen-7b.instance_type": "ml.g6e.xlarge"},
        "deployments[r1-qwen-7b].instance_type",
        "ml.g6e.xlarge",
        f"set {ENDPOINT}.instance_type instead",
    ),
    (
        "max instances on the deployment",
        {"deployments.r1-qwen-7b.scaling.max_instances": 4},
        "deployments[r1-qwen-7b].scaling.max_instances",
        4,
        f"set {ENDPOINT}.max_instances instead",
    ),
    (
        "min instances on the deployment",
        {"deployments.r1-qwen-7b.scaling.min_instances": 0},
        "deployments[r1-qwen-7b].scaling.min_instances",
        0,
        f"set {ENDPOINT}.min_instances instead",
    ),
    (
        "network on the deployment",
        {"deployments.r1-qwen-7b.network": {"vpc": "none"}},
        "deployments[r1-qwen-7b].network",
        ["vpc"],
        f"set {ENDPOINT}.network instead",
    ),
    (
        "instances mode on the deployment",
        {"deployments.r1-qwen-7b.scaling.mode": "instances"},
        "deployments[r1-qwen-7b].scaling.mode",
        "instances",
        "give this model its own instance-based endpoint",
    ),
    (
        "alarm topic on the deployment",
        {"deployments.r1-qwen-7b.operations.alarm_emails": ["oncall@example.com"]},
        "deployments[r1-qwen-7b].operations.alarm_emails",
        ["oncall@example.com"],
        f"set {ENDPOINT}.operations.alarm_emails instead",
    ),
    (
        "unknown endpoint",
        {"deployments.r1-qwen-7b.endpoint": "r1-distils"},
        "deployments[r1-qwen-7b].endpoint",
        "r1-distils",
        "use one of ['r1-distills']",
    ),
    (
        # The endpoint's instance type, found wrong while resolving each model, is reported once, as the endpoint's.
        "unknown instance type of the endpoint",
        {"endpoint.instance_type": "ml.g6e.13xlarge"},
        f"{ENDPOINT}.instance_type",
        "ml.g6e.13xlarge",
        "did you mean",
    ),
    (
        "a copy larger than the instance",
        {"deployments.r1-qwen-14b.num_gpus": 8},
        "deployments[r1-qwen-14b].num_gpus",
        8,
        "use at most 4",
    ),
    (
        "a copy's host memory above its instance's",
        {"deployments.r1-qwen-14b.scaling.min_memory_mb": 200_000},
        "deployments[r1-qwen-14b].scaling.min_memory_mb",
        200_000,
        "set it to at most 98304",
    ),
    (
        "gpus per copy that do not divide the attention heads",
        {"deployments.r1-qwen-1-5b.num_gpus": 4},
        "deployments[r1-qwen-1-5b].num_gpus",
        4,
        "use one of [1, 2]",
    ),
    (
        "minimum copies above the minimum instances",
        {"deployments.r1-qwen-14b.scaling.min_copies": 1},
        f"{ENDPOINT}.min_instances",
        0,
        "set min_instances to 1, or lower the models' scaling.min_copies",
    ),
    (
        # Once reported twice: here, and moved to the endpoint's min_instances with this value and a fix
        # (scaling.mode 'instances') that a model on a shared endpoint may not take.
        "min instances above 0 on the deployment",
        {"deployments.r1-qwen-7b.scaling.min_instances": 1},
        "deployments[r1-qwen-7b].scaling.min_instances",
        1,
        f"set {ENDPOINT}.min_instances instead",
    ),
    (
        # The fix once said "raise scaling.max_instances", which a model on a shared endpoint may not set.
        "more copies than the endpoint's instances hold",
        {"deployments.r1-qwen-14b.scaling.max_copies": 9},
        "deployments[r1-qwen-14b].scaling.max_copies",
        9,
        f"set it to at most 8 or raise {ENDPOINT}.max_instances",
    ),
    (
        "instance-mode setting on the deployment",
        {"deployments.r1-qwen-7b.scaling.invocations_per_instance": 10},
        "deployments[r1-qwen-7b].scaling.invocations_per_instance",
        10,
        "a model on a shared endpoint scales its copies",
    ),
    (
        "blue/green on the deployment",
        {"deployments.r1-qwen-7b.operations.update_strategy": "blue_green"},
        "deployments[r1-qwen-7b].operations.update_strategy",
        "blue_green",
        "drop operations.update_strategy (rolling)",
    ),
    (
        "maximum copies above the maximum instances",
        {"endpoint.max_instances": 1},
        f"{ENDPOINT}.max_instances",
        1,
        "set max_instances to 2, or lower scaling.max_copies of deployments[",
    ),
]


def test_hub_weights_next_to_isolated_s3_weights_is_a_problem_of_the_odd_model() -> None:
    # Network isolation is the endpoint's: an isolated endpoint stops the hub model's download, an open one
    # lifts the s3 models' isolation. The odd model's source is named (the first model's is the endpoint's).
    (odd,) = problems_of(shared_with({"deployments.r1-qwen-7b.weights": {"source": "hub"}}))
    assert odd.field == "deployments[r1-qwen-7b].weights.source"
    assert odd.value == "hub" and "use weights.source 's3' for every model on the endpoint" in odd.fix


@pytest.mark.parametrize(("changes", "field", "value", "fix"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_each_rule_gives_one_problem_with_its_field_and_fix(
    changes: dict[str, Any], field: str, value: Any, fix: str
) -> None:
    problems = problems_of(shared_with(changes))
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert problem.field == field, problem
    assert problem.value == value, problem
    assert fix in problem.fix, problem


# What a fix may not ask of a model on a shared endpoint: the fields the endpoint owns, or another scaling mode.
FORBIDDEN_FIX = re.compile(
    r"(raise|set|lower) scaling\.(min|max)_instances|scaling\.mode[: ]+'?instances|set instance_type"
)


def test_no_fix_on_a_shared_endpoint_names_a_field_its_models_may_not_set() -> None:
    every_case = {key: value for case in CASES for key, value in case[1].items() if key.startswith("deployments.")}
    problems = [p for c in CASES for p in problems_of(shared_with(c[1]))] + problems_of(shared_with(every_case))
    assert problems
    wrong = [str(p) for p in problems if FORBIDDEN_FIX.search(p.fix)]
    assert wrong == []


def test_an_endpoint_no_deployment_names_is_a_problem() -> None:
    config = shared_with({})
    config["endpoints"].append({"name": "spare", "instance_type": "ml.g6e.xlarge"})
    (problem,) = problems_of(config)
    assert problem.field == "endpoints[spare]" and "name it in a deployment's endpoint" in problem.fix


def test_an_endpoint_named_as_a_deployment_with_its_own_stack_is_a_problem() -> None:
    config = shared_with({})
    config["deployments"].append(
        {
            "name": "r1-distills",
            "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"},
            "network": {"vpc": "none"},
        }
    )
    (problem,) = problems_of(config)
    assert problem.field == f"{ENDPOINT}.name" and "it names the stack" in problem.problem


def test_the_stalled_scale_out_names_the_models_whose_copies_find_no_room() -> None:
    (problem,) = problems_of(shared_with({"endpoint.max_instances": 1}))
    # 8 one-GPU copies on 4 GPUs: the largest copies are placed first, in the order given; the rest wait.
    assert "would stall" in problem.problem
    assert "r1-qwen-14b" in problem.problem or "r1-qwen-1-5b" in problem.problem


def test_packing_places_largest_copies_first_and_counts_instances() -> None:
    g6e_12xlarge = find_instance_type("ml.g6e.12xlarge")
    assert g6e_12xlarge is not None
    big = ComponentDemand("big", 2, 1024, 0, 2)
    small = ComponentDemand("small", 1, 1024, 0, 4)
    # 2 x 2 GPU + 4 x 1 GPU = 8 GPUs: exactly two 4-GPU instances, each with one big and two small copies.
    packing = pack([small, big], {"big": 2, "small": 4}, g6e_12xlarge, 2)
    assert packing.fits
    assert [load.copies for load in packing.instances] == [{"big": 2}, {"small": 4}]
    assert instances_needed([small, big], {"big": 2, "small": 5}, g6e_12xlarge) == 3
    # Host memory is the second limit: 384 GiB holds three copies of 128 GiB whatever the GPUs left.
    hungry = ComponentDemand("hungry", 1, 128 * 1024, 0, 4)
    assert pack([hungry], {"hungry": 4}, g6e_12xlarge, 1).unplaced == {"hungry": 1}


def test_plan_shows_each_models_copy_and_where_the_copies_land_with_headroom() -> None:
    from tgi_sagemaker.cli.plan import describe_packing

    (endpoint,) = load_app(
        shared_with({"endpoint.min_instances": 1, "deployments.r1-qwen-14b.scaling.min_copies": 1})
    ).endpoints
    lines = describe_packing(endpoint)
    assert "    r1-qwen-14b    1 GPU + 49152 MB a copy, 4 fit an instance, 1-3 copies" in lines
    at_minimum = lines.index("    at minimum: 1 of 1 instance(s) used")
    assert lines[at_minimum + 1] == "      instance 1: r1-qwen-14b x1; headroom 3 GPU, 344064 MB"
    assert "    at maximum: 2 of 2 instance(s) used" in lines
