"""rules/environment.py and the app level: the region, the names of deployments and environments."""

from __future__ import annotations

from rule_cases import Case, one_problem_test

from helpers import default_config, problems_of

CASES: list[Case] = [
    (
        "region without a TGI image",
        {"network.vpc": "none"},
        {"environment": {"region": "xx-nowhere-1"}},
        "environment.region",
        "xx-nowhere-1",
        "us-east-1",
    ),
    (
        "environment name with capitals",
        {},
        {"environment": {"name": "Prod"}},
        "environment.name",
        "Prod",
        "'dev' or 'prod'",
    ),
    ("deployment name with capitals", {"name": "Llama8B"}, {}, "name", "Llama8B", "lower-case"),
    ("no deployments", {}, {"deployments": []}, "deployments", [], "at least one"),
    ("unknown top-level key", {}, {"deployment": []}, "deployment", [], "did you mean 'deployments'"),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)


def test_duplicate_deployment_names_are_rejected() -> None:
    config = default_config()
    config["deployments"].append(dict(config["deployments"][0]))
    problems = problems_of(config)
    assert [p.field for p in problems] == ["deployments[r1-distill-llama-8b].name"]
    assert "its own name" in problems[0].fix
