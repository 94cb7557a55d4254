"""rules/tags.py: valid tag keys and values, no credentials; the app's tags checked once."""

from __future__ import annotations

from rule_cases import HUB_TOKEN, Case, one_problem_test

from helpers import default_config, problems_of

CASES: list[Case] = [
    ("reserved tag key", {"tags": {"aws:owner": "me"}}, {}, "tags.aws:owner", "aws:owner", "rename"),
    ("a token as a tag value", {"tags": {"owner": HUB_TOKEN}}, {}, "tags.owner", "***", "revoke it"),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)


def test_an_app_tag_problem_is_reported_once_not_under_each_deployment() -> None:
    config = default_config()
    config["deployments"].append({**config["deployments"][0], "name": "second"})
    config["tags"] = {"aws:team": "ml"}
    problems = problems_of(config)
    assert [(p.field, p.value) for p in problems] == [("tags.aws:team", "aws:team")]
    config["deployments"][1]["tags"] = {"aws:cost": "x"}  # a deployment's own tag stays under the deployment
    config["stack_name_prefix"] = "1-bad"  # and the app's tags are still checked when another key fails to parse
    fields = sorted(p.field for p in problems_of(config))
    assert fields == ["deployments[second].tags.aws:cost", "stack_name_prefix", "tags.aws:team"]
