"""rules/weights.py and the weights section: the weights source, the Hub token's secret and the copy's settings."""

from __future__ import annotations

from rule_cases import HUB_TOKEN, Case, one_problem_test

from helpers import config_with, problems_of

COMMIT = "ebf7e8d03db3d86a442d22d30d499abb7ec27bea"
PRODUCTION = {"environment": {"production": True}}

CASES: list[Case] = [
    (
        "copy knob with hub weights",
        {"weights.source": "hub", "weights.part_size_mb": 128},
        {},
        "weights.part_size_mb",
        128,
        "set weights.source to 's3'",
    ),
    (
        "copy memory below its parts",
        {"weights.part_size_mb": 256, "weights.max_in_flight": 8},
        {},
        "weights.copy_memory_mb",
        2048,
        "at least 4096",
    ),
    ("part size below S3's minimum", {"weights.part_size_mb": 4}, {}, "weights.part_size_mb", 4, ">= 8"),
    (
        "hub weights in a production environment",
        {"weights.source": "hub", "model.revision": COMMIT},
        PRODUCTION,
        "weights.source",
        "hub",
        "use weights.source 's3'",
    ),
    (
        "the default branch in a production environment",
        {},
        PRODUCTION,
        "model.revision",
        None,
        "pin model.revision to the 40-hex commit you tested: https://huggingface.co/deepseek-ai/"
        "DeepSeek-R1-Distill-Llama-8B/commits/main",
    ),
    (
        "a branch or a tag in a production environment",
        {"model.revision": "v1.0"},
        PRODUCTION,
        "model.revision",
        "v1.0",
        "DeepSeek-R1-Distill-Llama-8B/revision/v1.0` answers with the commit",
    ),
    (
        "a commit pasted in upper case in a production environment",
        {"model.revision": COMMIT.upper()},
        PRODUCTION,
        "model.revision",
        COMMIT.upper(),
        f"write it in lower case: {COMMIT}",
    ),
    (
        "a Hub token where its secret's name belongs",
        {"weights.hf_token_secret": HUB_TOKEN},
        {},
        "weights.hf_token_secret",
        "***",
        "aws secretsmanager create-secret",
    ),
    (
        "a token secret with hub weights (it would reach the model)",
        {"weights.source": "hub", "weights.hf_token_secret": "hf/token"},
        {},
        "weights.hf_token_secret",
        "hf/token",
        "use weights.source 's3'",
    ),
    (
        "a token key without a token secret",
        {"weights.hf_token_kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/0e3c2f1a-5b6d-4c7e-8f90-a1b2c3d4e5f6"},
        {},
        "weights.hf_token_kms_key_arn",
        "arn:aws:kms:us-east-1:111122223333:key/0e3c2f1a-5b6d-4c7e-8f90-a1b2c3d4e5f6",
        "set weights.hf_token_secret",
    ),
    (
        "a key alias where the token key's ARN belongs",
        {"weights.hf_token_secret": "hf/token", "weights.hf_token_kms_key_arn": "alias/hf-token"},
        {},
        "weights.hf_token_kms_key_arn",
        "alias/hf-token",
        "",
    ),
    (
        "an allow pattern list that selects nothing at all",
        {"weights.allow_patterns": []},
        {},
        "weights.allow_patterns",
        [],
        "",
    ),
    (
        "an invented weights.hf_token holding a token",
        {"weights.hf_token": HUB_TOKEN},
        {},
        "weights.hf_token",
        "***",
        "never put a credential in the config",
    ),
    (
        "a Hub mirror over plain HTTP",
        {"weights.hub_endpoint": "http://hub-mirror.example.com"},
        {},
        "weights.hub_endpoint",
        "http://hub-mirror.example.com",
        "https://",
    ),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)


def test_a_secret_name_is_not_taken_for_a_token() -> None:
    for name in (
        "hf/token",
        "hf_productiontokenforllamamodels",
        "prod/hf_token",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:hf/token-AbCdEf",
    ):
        assert problems_of(config_with({"weights.hf_token_secret": name})) == [], name


def test_production_hub_weights_of_no_commit_give_both_fixes_at_once() -> None:
    problems = problems_of(config_with({"weights.source": "hub"}, **PRODUCTION))
    assert [p.field.split(".", 1)[1] for p in problems] == ["model.revision", "weights.source"]
    assert "the container resolves it at every instance start" in problems[0].problem


def test_a_commit_passes_in_production_and_any_revision_outside_it() -> None:
    assert problems_of(config_with({"model.revision": COMMIT}, **PRODUCTION)) == []
    for revision in (None, "main"):  # outside production Hub weights warn at synth (tests/stacks), never refuse
        assert problems_of(config_with({"weights.source": "hub", "model.revision": revision})) == [], revision
