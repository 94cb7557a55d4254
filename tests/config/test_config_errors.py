"""What holds for every rule: all problems at once, across fields and deployments; a problem of one field leaves
the others checked; no message echoes a credential. The rules themselves are tested by the test_rules_* modules, one
for each module of config/rules/."""

from __future__ import annotations

from typing import Any

import pytest
import test_rules_environment
import test_rules_instance
import test_rules_model
import test_rules_network
import test_rules_operations
import test_rules_scaling
import test_rules_tags
import test_rules_tgi
import test_rules_token_limits
import test_rules_weights
from rule_cases import HUB_TOKEN, Case, one_problem_test

from helpers import config_with, default_config, problems_of
from tgi_sagemaker import ConfigError, load_app

CASES: list[Case] = [
    (
        "unknown key (typo)",
        {"tgi.max_total_token": 4096},
        {},
        "tgi.max_total_token",
        4096,
        "did you mean 'max_total_tokens'",
    ),
]
RULE_MODULES = (
    test_rules_environment,
    test_rules_instance,
    test_rules_model,
    test_rules_network,
    test_rules_operations,
    test_rules_scaling,
    test_rules_tags,
    test_rules_tgi,
    test_rules_token_limits,
    test_rules_weights,
)


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)


def test_there_are_at_least_twenty_distinct_rules() -> None:
    ids = [case[0] for module in RULE_MODULES for case in module.CASES] + [case[0] for case in CASES]
    assert len(ids) >= 20
    assert len(set(ids)) == len(ids)


def test_every_problem_is_reported_at_once_across_fields_and_deployments() -> None:
    config = default_config()
    first = config["deployments"][0]
    first["instance_type"] = "ml.g5.3xlarge"
    first["tgi"] = {"max_input_tokens": 5000, "max_total_tokens": 4096, "dtype": "float16", "quantize": "gptq"}
    second = {"name": "second", "model": {"id": "not a repo"}, "scaling": {"max_instances": 0}}
    config["deployments"].append(second)
    with pytest.raises(ConfigError) as raised:
        load_app(config)
    fields = sorted(p.field for p in raised.value.problems)
    assert fields == [
        "deployments[r1-distill-llama-8b].instance_type",
        "deployments[r1-distill-llama-8b].tgi.dtype",
        "deployments[r1-distill-llama-8b].tgi.max_input_tokens",
        "deployments[r1-distill-llama-8b].tgi.quantize",  # gptq needs a pre-quantized checkpoint
        "deployments[second].model.id",
        "deployments[second].scaling.max_instances",
    ]
    message = str(raised.value)
    assert message.startswith("config has 6 problems:")


def test_a_token_anywhere_in_the_config_is_never_echoed() -> None:
    changes = {
        "weights.hf_token": HUB_TOKEN,
        "weights.hf_token_secret": HUB_TOKEN,
        "tgi.extra_env": {"OPTS": HUB_TOKEN, HUB_TOKEN: "1"},
        "tags": {"t": HUB_TOKEN},
    }
    with pytest.raises(ConfigError) as raised:
        load_app(config_with(changes, unknown={"nested": [HUB_TOKEN]}))
    assert len(raised.value.problems) == 6, str(raised.value)
    assert HUB_TOKEN not in str(raised.value) and HUB_TOKEN[3:20] not in str(raised.value)
    assert all(HUB_TOKEN not in repr(problem.value) for problem in raised.value.problems)


def test_a_deployment_with_a_typo_still_gets_its_other_problems_checked() -> None:
    problems = problems_of(
        config_with({"tgi.max_total_token": 8192, "tgi.extra_env": {"ENDPOINT_SERVER_TIMEOUT": "3600"}, "num_gpus": 4})
    )
    fields = sorted(p.field.split("].", 1)[1] for p in problems)
    assert fields == ["num_gpus", "tgi.extra_env.ENDPOINT_SERVER_TIMEOUT", "tgi.max_total_token"]


def test_the_other_rules_still_run_with_the_default_in_place_of_a_bad_value() -> None:
    problems = problems_of(config_with({"scaling.max_instances": 0, "scaling.min_instances": 1}))
    assert [p.field.split("].", 1)[1] for p in problems] == ["scaling.max_instances", "scaling.min_instances"]


# The new user's configs (docs: notes of the new-user trial, finding 4): each once took rounds of fixes, the
# schema's problems hiding the rules'. Every problem now comes in one report.
def _fields_and_values(config: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(p.field, p.value) for p in problems_of(config)]


def test_schema_problems_and_rule_problems_of_one_deployment_come_together() -> None:
    config = {
        "deployments": [
            {
                "name": "R1_8B",  # refused by the schema, and still the label of every other problem
                "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "context_length": 2048},
                "tgi": {"max_total_tokens": 200000, "max_input_tokens": 300000, "version": "9.9"},
                "scaling": {"mode": "scale-to-zero", "max_instances": 0},
                "num_gpus": 3,
            }
        ]
    }
    assert sorted(_fields_and_values(config)) == [
        ("deployments[R1_8B].name", "R1_8B"),
        ("deployments[R1_8B].num_gpus", 3),
        ("deployments[R1_8B].scaling.max_instances", 0),
        ("deployments[R1_8B].scaling.mode", "scale-to-zero"),
        ("deployments[R1_8B].tgi.max_input_tokens", 300000),
        ("deployments[R1_8B].tgi.max_total_tokens", 200000),
        ("deployments[R1_8B].tgi.version", "9.9"),
    ]


def test_a_refused_account_leaves_the_region_checked() -> None:
    config = config_with(environment={"name": "dev", "account": "12345", "region": "us-east-9"})
    assert sorted(field for field, _ in _fields_and_values(config)) == [
        "deployments[r1-distill-llama-8b].network.availability_zones",  # the region's zones: a rule of its own
        "environment.account",
        "environment.region",
    ]


def test_a_refused_field_of_one_deployment_leaves_the_others_checked_with_the_app() -> None:
    config = default_config()
    first = config["deployments"][0]
    config["deployments"].append({**first, "tags": {"owner": 7}})  # refused: and the same name as the first
    config["deployments"].append({"name": "bad-model", "model": {"id": "not a repo"}, "num_gpus": 9})
    assert sorted(_fields_and_values(config)) == [
        ("deployments[bad-model].model.id", "not a repo"),  # its rules need the model: they wait
        ("deployments[r1-distill-llama-8b].name", "r1-distill-llama-8b"),
        ("deployments[r1-distill-llama-8b].tags.owner", 7),
    ]


def test_a_shared_endpoint_config_gives_every_problem_in_one_report() -> None:
    config = {
        "endpoints": [{"name": "ep", "instance_type": "ml.g6e.2xlarge", "min_instances": 0, "max_instances": 1}],
        "deployments": [
            {
                "name": "r1-14b",
                "endpoint": "ep",
                "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B"},
                "scaling": {"max_copies": 3, "min_copies": 1},
            },
            {
                "name": "r1-8b",
                "endpoint": "epp",
                "instance_type": "ml.g6e.2xlarge",
                "scaling": {"min_instances": 1, "max_instances": 3},
                "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"},
            },
            {
                "name": "r1-7b",
                "endpoint": "ep",
                "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"},
                "scaling": {"min_copies": 1, "max_copies": 0},  # refused: packed with the default (1) in its place
            },
            {"name": "r1-1-5b", "endpoint": "ep", "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"}},
        ],
    }
    problems = problems_of(config)
    assert sorted((p.field, p.value) for p in problems) == [
        ("deployments[r1-14b].scaling.max_copies", 3),
        ("deployments[r1-7b].scaling.max_copies", 0),
        ("deployments[r1-8b].endpoint", "epp"),
        ("deployments[r1-8b].instance_type", "ml.g6e.2xlarge"),
        ("deployments[r1-8b].scaling.max_instances", 3),
        ("deployments[r1-8b].scaling.min_instances", 1),
        # The packing of the models that resolved (r1-14b has a problem of its own, so it is not counted).
        ("endpoints[ep].max_instances", 1),
        ("endpoints[ep].min_instances", 0),
    ]
    fixes = {p.field: p.fix for p in problems}
    assert "set min_instances to at least 1" in fixes["endpoints[ep].min_instances"]
    assert "set max_instances to at least 2" in fixes["endpoints[ep].max_instances"]


def test_models_on_a_refused_shared_endpoint_get_the_problems_known_without_it() -> None:
    config = {
        "endpoints": [{"name": "ep", "instance_type": 5}],
        "deployments": [
            {"name": "r1-8b", "endpoint": "ep", "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"}},
            {
                "name": "r1-7b",
                "endpoint": "ep",
                "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"},
                "network": {"vpc": "none"},
            },
        ],
    }
    # No "no shared endpoint has this name", no "no deployment runs on it": the endpoint is there, refused.
    assert _fields_and_values(config) == [
        ("endpoints[ep].instance_type", 5),
        ("deployments[r1-7b].network", ["vpc"]),
    ]


def test_a_rule_judged_with_a_refused_fields_default_says_so() -> None:
    # A typo in scaling.mode leaves the default (scale to zero) in place: the rule that min_instances above 0 never
    # scales to zero then judges a default the user did not mean, and says so; a rule of another section does not.
    problems = {
        p.field.split("].", 1)[1]: p.problem
        for p in problems_of(config_with({"scaling.mode": "instance", "scaling.min_instances": 1, "num_gpus": 4}))
    }
    assert (
        "judged with the default of scaling.mode, whose value the config refused: fix that first"
        in (problems["scaling.min_instances"])
    )
    assert "judged with" not in problems["scaling.mode"]  # the schema's own problem
    assert "judged with" in problems["num_gpus"]  # the mode decides components or instances: GPU checks too
    # a refused model-wide setting marks every rule problem of its deployment (here: the fit of a 70B model)
    problems = {
        p.field.split("].", 1)[1]: p.problem
        for p in problems_of(
            config_with(
                {
                    "model.id": "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
                    "instance_type": "ml.g5.12xlarge",
                    "tgi.quantize": "eetqq",
                }
            )
        )
    }
    assert "judged with the default of tgi.quantize" in problems["instance_type"]
    # a refused tag marks nothing else
    config = config_with({"tags": {"team": ["x"]}, "num_gpus": 3})
    problems = {p.field.split("].", 1)[1]: p.problem for p in problems_of(config)}
    assert sorted(problems) == ["num_gpus", "tags.team"] and "judged with" not in problems["num_gpus"]
