"""rules/instance.py: the instance type (named, or the catalog's recommendation) and the GPUs a copy is
sharded over, where the weights fit."""

from __future__ import annotations

from rule_cases import UNKNOWN_MODEL, Case, one_problem_test

from helpers import config_with
from tgi_sagemaker import load_app

CASES: list[Case] = [
    (
        "unknown instance type",
        {"instance_type": "ml.g5.3xlarge"},
        {},
        "instance_type",
        "ml.g5.3xlarge",
        "ml.g5.2xlarge",
    ),
    (
        "instance type without ml. prefix",
        {"instance_type": "g6e.xlarge"},
        {},
        "instance_type",
        "g6e.xlarge",
        "did you mean ml.g6e.xlarge",
    ),
    (
        "model too big for the instance",
        {"model.id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"},
        {},
        "instance_type",
        "ml.g5.2xlarge",
        "use ml.g6e.12xlarge, ml.g5.12xlarge, ml.g6.12xlarge",
    ),
    (
        "R1 does not fit p5.48xlarge",
        {"model.id": "deepseek-ai/DeepSeek-R1", "instance_type": "ml.p5.48xlarge"},
        {},
        "instance_type",
        "ml.p5.48xlarge",
        "ml.p5e.48xlarge",
    ),
    ("SM_NUM_GPUS above the instance's GPUs", {"num_gpus": 4}, {}, "num_gpus", 4, "at most 1"),
    ("GPUs per copy above the instance's", {"num_gpus": 2}, {}, "num_gpus", 2, "at most 1"),
    (
        "GPUs that cannot shard the heads",
        {"model.id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "instance_type": "ml.g5.48xlarge", "num_gpus": 8},
        {},
        "num_gpus",
        8,
        "[1, 2, 4]",
    ),
    (
        "model outside the catalog without instance type",
        {"model.id": UNKNOWN_MODEL, "instance_type": None, "num_gpus": 1},
        {},
        "instance_type",
        None,
        "name an instance type",
    ),
    (
        "a model outside the catalog that needs several GPUs",
        {"model.id": UNKNOWN_MODEL, "model.parameters_billion": 32, "instance_type": "ml.g5.12xlarge"},
        {},
        "num_gpus",
        None,
        "num_attention_heads",
    ),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)


def test_a_model_outside_the_catalog_gets_one_gpu_where_its_weights_fit() -> None:
    changes = {"model.id": UNKNOWN_MODEL, "model.parameters_billion": 9, "instance_type": "ml.g6e.12xlarge"}
    (deployment,) = load_app(config_with(changes)).deployments
    assert deployment.num_gpus == 1  # not the 4 GPUs of the instance: its heads might not divide by 4
    assert deployment.scaling.max_copies == 8  # four one-GPU copies an instance


def test_hub_model_outside_the_catalog_works_when_its_gpus_are_given() -> None:
    app = load_app(config_with({"model.id": UNKNOWN_MODEL, "num_gpus": 4, "instance_type": "ml.g6e.12xlarge"}))
    (deployment,) = app.deployments
    assert deployment.settings_environment["SM_NUM_GPUS"] == "4"
    assert deployment.weights_bytes is None
