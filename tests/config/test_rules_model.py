"""rules/model.py and the model section: the repo id and revision, and the size of models outside the catalog."""

from __future__ import annotations

from rule_cases import UNKNOWN_MODEL, Case, one_problem_test

from helpers import config_with
from tgi_sagemaker import load_app

CASES: list[Case] = [
    (
        "malformed model id",
        {"model.id": "DeepSeek-R1-Distill-Llama-8B"},
        {},
        "model.id",
        "DeepSeek-R1-Distill-Llama-8B",
        "'owner/name'",
    ),
    (
        "model id with a double dash",
        {"model.id": "deepseek-ai/bad--name"},
        {},
        "model.id",
        "deepseek-ai/bad--name",
        "'owner/name'",
    ),
    ("malformed revision", {"model.revision": "main branch"}, {}, "model.revision", "main branch", "40-hex commit"),
    (
        "Hub model with neither size nor GPUs",
        {"model.id": UNKNOWN_MODEL, "instance_type": "ml.g6e.xlarge"},
        {},
        "model.parameters_billion",
        None,
        "num_gpus",
    ),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)


def test_hub_model_outside_the_catalog_works_when_its_size_is_given() -> None:
    changes = {"model.id": UNKNOWN_MODEL, "model.parameters_billion": 9, "instance_type": "ml.g6e.xlarge"}
    app = load_app(config_with(changes))
    (deployment,) = app.deployments
    assert deployment.num_gpus == 1
    assert deployment.weights_bytes == 18_000_000_000
    assert deployment.settings_environment["MAX_TOTAL_TOKENS"] == "4096"
    assert "DTYPE" not in deployment.settings_environment  # TGI reads it from the model's config.json
