"""What holds for every rule: all problems at once, across fields and deployments; a problem of one field leaves
the others checked; no message echoes a credential. The rules themselves are tested by the test_rules_* modules, one
for each module of config/rules/."""

from __future__ import annotations

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
