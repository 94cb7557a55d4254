"""limits.py: a value the config accepts is one the constructs accept, and the other way round."""

from __future__ import annotations

import pytest
from rule_cases import Case, one_problem_test

from helpers import config_with, problems_of
from tgi_sagemaker import limits, prop_checks

CASES: list[Case] = [
    (
        "start-up timeout out of range",
        {"timeouts.container_startup_health_check_seconds": 7200},
        {},
        "timeouts.container_startup_health_check_seconds",
        7200,
        "<= 3600",
    ),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)


# (config field, the range the endpoint constructs check it against)
SHARED_RANGES = [
    ("timeouts.model_data_download_seconds", prop_checks.STARTUP_TIMEOUT_RANGE),
    ("timeouts.container_startup_health_check_seconds", prop_checks.STARTUP_TIMEOUT_RANGE),
    ("scaling.scale_in_cooldown_seconds", prop_checks.COOLDOWN_RANGE),
    ("scaling.scale_out_cooldown_seconds", prop_checks.COOLDOWN_RANGE),
]


@pytest.mark.parametrize(("field", "construct_range"), SHARED_RANGES, ids=[field for field, _ in SHARED_RANGES])
def test_the_config_and_the_constructs_accept_the_same_values(field: str, construct_range: tuple[int, int]) -> None:
    low, high = construct_range
    for seconds in (low - 1, low, high, high + 1):
        construct_problems: list[str] = []
        prop_checks.within({field: seconds}, construct_range, construct_problems)
        config_accepts = problems_of(config_with({field: seconds})) == []
        assert config_accepts == (construct_problems == []), (field, seconds, construct_problems)


def test_every_retention_cloudwatch_offers_is_accepted() -> None:
    for days in limits.LOG_RETENTION_DAYS:
        assert problems_of(config_with({"operations.log_retention_days": days})) == [], days
